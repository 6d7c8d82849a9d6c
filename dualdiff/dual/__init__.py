"""The scalar dual number (``dual``) and what every carrier shares: seeding and extraction
(``seed``: tags in, values and tangents of a tag out, the lazy identity seed) and the
object-array fallback (``objects``).
"""
