"""Perturbation tags: every differentiation seeds its own tag so nested derivatives never mix.

A tag is an integer. Tags are handed out in creation order, so an inner (nested) differentiation
always has a larger tag than the one around it. A dual number whose tag is ``t`` holds only values
and tangents of smaller tags: the newest perturbation is always the outermost layer. When two
duals of different tags meet, the one with the larger tag treats the other as a constant.

Tag ``0`` belongs to duals a user builds by hand (``Dual(3.0, 1.0)``); they share one
perturbation, as a hand-written dual number does in a textbook.
"""

from __future__ import annotations

import itertools

USER_TAG = 0

# itertools.count is advanced atomically by CPython, so threads never receive the same tag and
# no lock or other shared mutable state is needed.
_next_tag = itertools.count(1).__next__


def new_tag() -> int:
    """A fresh tag, larger than every tag handed out before it."""
    return _next_tag()
