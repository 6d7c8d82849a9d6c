"""Perturbation tags: every differentiation seeds its own tag so nested derivatives never mix.

A tag is an integer. An inner (nested) differentiation always has a larger tag than the one
around it. A dual number whose tag is ``t`` holds only values and tangents of smaller tags: the
newest perturbation is always the outermost layer. When two duals of different tags meet, the one
with the larger tag treats the other as a constant.

Tag ``0`` belongs to duals a user builds by hand (``Dual(3.0, 1.0)``); they share one
perturbation, as a hand-written dual number does in a textbook.

Tags across threads and processes
---------------------------------
A tag is a Lamport timestamp: ``clock << 64 | process``, where ``clock`` is a per-process counter
and ``process`` 64 random bits drawn when this module is imported and drawn again in every
forked child. So

* tags are unique: within a process the counter never repeats (``itertools.count`` is advanced
  atomically, so threads need no lock), and two processes share a ``process`` part with
  probability ``2**-64`` (which ``os.getpid()`` could not promise across machines, e.g. a Dask
  cluster, or across a fork that copies the counter);
* tags are ordered causally: a process that receives a dual from another one (unpickling a
  ``Dual``, ``DualArray`` or ``Taylor`` calls ``observe``) moves its clock past the received tag,
  and ``dualdiff.engine.parallel`` also hands each task the sender's clock. A differentiation
  started in a worker for a function that closes over a dual of the parent (``derivative(lambda s:
  jacobian(lambda x: s * x, x0, workers=2), 2.0)``) therefore gets a larger tag than that dual,
  whatever the start method (``spawn`` restarts the counter, ``fork`` copies it) or however long
  the pool has lived. This holds for any pool (``workers=pool.map``, an ``Executor``, a Dask
  client) and for duals pickled by hand, because it is done where a tag enters a process.

Two tags of unrelated differentiations in different processes are ordered arbitrarily but
consistently; that is harmless, as it is for two unrelated differentiations in one process.
``new_tag`` costs what it did with a plain counter: the counter counts in steps of ``2**64``.
"""

from __future__ import annotations

import itertools
import os
import threading
from typing import Any

USER_TAG = 0

NEWEST_TAG = 1 << 255
"""A tag larger than every tag ``new_tag`` hands out (clocks stay far below ``2**191``)."""

_SHIFT = 64
_STEP = 1 << _SHIFT
_MASK = _STEP - 1
# Threads that read the counter while ``observe`` replaces it may still draw one value each from
# the old one; the new counter starts this far beyond it so those values are never repeated.
_GAP = 1 << 20


def _random_process() -> int:
    return int.from_bytes(os.urandom(8), "little")


_process = _random_process()
_counter = itertools.count(_STEP | _process, _STEP)
_next_tag = _counter.__next__
_floor = 1  # every clock below this has been passed by the counter
_lock = threading.Lock()


def new_tag() -> int:
    """A fresh tag, larger than every tag handed out or observed in this process before it."""
    return _next_tag()


def clock() -> int:
    """This process's clock: every tag handed out or observed here has a smaller or equal one."""
    return _next_tag() >> _SHIFT


def observe(tag: int) -> None:
    """Move this process's clock past ``tag`` (a tag that arrived from another process)."""
    if (tag >> _SHIFT) >= _floor and tag & _MASK != _process:  # this process's own: passed
        advance(tag >> _SHIFT)


def advance(other_clock: int) -> None:
    """Make every later ``new_tag()`` larger than any tag whose clock is ``other_clock``."""
    global _counter, _next_tag, _floor
    if other_clock < _floor:
        return
    with _lock:
        current = _next_tag() >> _SHIFT
        if other_clock < current:
            return
        start = max(other_clock, current) + _GAP
        # the counter first, then the function that draws from it: a thread never sees a
        # _next_tag of a counter older than _floor promises
        _counter = itertools.count((start << _SHIFT) | _process, _STEP)
        _next_tag = _counter.__next__
        _floor = start


def restore_state(self: object, state: Any) -> None:
    """``__setstate__`` for the slotted dual types (pickle's state of slots is ``(None, {name:
    value})``): the slots, then ``observe`` of the tag."""
    slots = state[1] if type(state) is tuple else state
    for name, value in slots.items():
        object.__setattr__(self, name, value)
    observe(self.tag)  # type: ignore[attr-defined]


def _after_fork() -> None:
    # a forked child copies the counter; a fresh process part keeps its tags apart from the
    # parent's and its siblings'
    global _process, _counter, _next_tag, _lock
    _process = _random_process()
    _counter = itertools.count(((_next_tag() >> _SHIFT) << _SHIFT) | _process, _STEP)
    _next_tag = _counter.__next__
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
