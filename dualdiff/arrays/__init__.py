"""The array carrier: ``DualArray`` (``dualarray``), NumPy's functions on it
(``functions``) and ``numpy.linalg`` (``linalg``).
"""
