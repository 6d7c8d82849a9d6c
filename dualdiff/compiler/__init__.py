"""The compiler's carrier: symbolic duals (``symbolic``: a value symbol and its
tangent) recorded into a program that is cleaned up and turned into NumPy code
(``program``). Driven by ``dualdiff.engine.jit``.
"""
