"""The Taylor-series carrier: truncated Taylor polynomials for higher derivatives
(``taylor``). Not called ``taylor``: ``dualdiff.taylor`` is a public function.
"""
