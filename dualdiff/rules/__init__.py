"""What is differentiated: the elementwise rule table (``elementwise``: ``Rule``,
``RULES``), the ``scipy.special`` entries (``scipy_special``, loaded lazily), the table of
NumPy's other functions by kind (``functions``), a call taken apart by its entry
(``calls``) and the functions written in NumPy (``compositions``). Imports no carrier: the
carriers register themselves with the tables.
"""
