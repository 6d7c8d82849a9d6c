"""``dualdiff.special``: the functions of ``scipy.special`` that need dualdiff's own version.

SciPy's ufuncs (``erf``, ``gammaln``, ``expit`` ...) differentiate as they are, through the rule
table (``dualdiff.rules.scipy_special`` holds their rules, loaded when SciPy is). The functions
here are not ufuncs: SciPy's ``logsumexp``, ``softmax``, ``log_softmax`` and ``polygamma`` call
``np.asarray`` on their argument first (or take an integer order), so dualdiff offers versions with
the same arguments and exact derivatives::

    from dualdiff.special import logsumexp

This public namespace needs SciPy (it imports ``scipy.special``).
"""

from __future__ import annotations

from .rules.scipy_special import hyp2f1, log_softmax, logsumexp, polygamma, softmax

__all__ = ["hyp2f1", "log_softmax", "logsumexp", "polygamma", "softmax"]
