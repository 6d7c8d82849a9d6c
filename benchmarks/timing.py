"""Interleaved timing: every case of a group is sampled once per round, in a shuffled order.

On a shared machine the load drifts over seconds; sampling all cases of a group in the same round
and taking the median of the per-round ratios (case time / baseline time in that round) cancels
most of that drift, which a ratio of two separately measured medians would not.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any


@dataclass
class Case:
    """One way of computing a workload's result (a system and a method), timed as ``build()()``.

    ``build`` does the imports and wrapping (``jax.jit``...) and returns the zero-argument call
    that is timed; its first call is timed separately (JIT compilation shows up there).
    ``error(result)`` is the relative error of the result against the exact reference.
    ``baseline`` is the key of the case this one's main ratio is taken against, and ``target``
    the project's limit for that ratio. ``reference`` is the key the ratio columns keyed None
    compare against (default: ``baseline``). A case with ``skip`` set is reported, not run.
    """

    key: str
    system: str
    method: str
    build: Callable[[], Callable[[], Any]]
    error: Callable[[Any], float] | None = None
    baseline: str = "f"
    target: float | None = None
    skip: str = ""
    reference: str | None = None


@dataclass
class Group:
    """Cases timed together (one workload at one size). ``ratios`` are (header, case key) pairs;
    a key of None means each case's own ``reference`` (or ``baseline``)."""

    workload: str
    title: str
    cases: list[Case]
    ratios: list[tuple[str, str | None]] = field(default_factory=lambda: [("× f", None)])


@dataclass
class Row:
    """The measurement of one case."""

    case: Case
    status: str = "ok"  # ok | error | skipped
    message: str = ""
    median: float | None = None
    spread: float | None = None
    first: float | None = None
    rounds: int = 0
    number: int = 0
    error: float | None = None
    ratios: dict[str, float | None] = field(default_factory=dict)
    samples: list[float | None] = field(default_factory=list)
    call: Callable[[], Any] | None = None

    baseline_ratio: float | None = None

    @property
    def target_met(self) -> bool | None:
        """Whether the ratio to the case's baseline meets its target (None if either is absent)."""
        if self.case.target is None or self.baseline_ratio is None:
            return None
        return self.baseline_ratio <= self.case.target


@dataclass
class Settings:
    """How long to sample: ``rounds`` rounds of about ``sample_time`` seconds per case; a case
    whose single call is slower than ``slow_call`` runs fewer rounds (within ``slow_budget``)."""

    rounds: int = 15
    sample_time: float = 0.01
    slow_call: float = 0.5
    slow_budget: float = 4.0
    seed: int = 0


def describe_exception(exc: BaseException) -> str:
    """``Type: message`` on one line, shortened for a table cell."""
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _sample(call: Callable[[], Any], number: int) -> float:
    start = time.perf_counter()
    for _ in repeat(None, number):
        call()
    return (time.perf_counter() - start) / number


def _prepare(case: Case, settings: Settings) -> Row:
    """Build the case, time its first call, check its accuracy and choose the loop count."""
    row = Row(case)
    if case.skip:
        row.status, row.message = "skipped", case.skip
        return row
    try:
        call = case.build()
        start = time.perf_counter()
        result = call()
        row.first = time.perf_counter() - start
        if case.error is not None:
            row.error = float(case.error(result))
        single = _sample(call, 1)
    except Exception as exc:  # every failure becomes an error row, never a dropped row
        row.status, row.message = "error", describe_exception(exc)
        return row
    row.call = call
    if single < settings.sample_time:
        # A second, longer estimate: the first single call is often slowed by cold caches.
        probe = max(1, int(0.1 * settings.sample_time / max(single, 1e-9)))
        single = _sample(call, probe)
    row.number = max(1, int(settings.sample_time / max(single, 1e-9)))
    row.rounds = settings.rounds
    if single > settings.slow_call:
        row.rounds = max(1, min(settings.rounds, int(settings.slow_budget / single)))
    return row


def measure(group: Group, settings: Settings) -> list[Row]:
    """Time every case of ``group`` in interleaved rounds and compute medians and paired ratios."""
    rows = [_prepare(case, settings) for case in group.cases]
    live = [row for row in rows if row.call is not None]
    rng = random.Random(settings.seed)
    for round_index in range(settings.rounds):
        order = live[:]
        rng.shuffle(order)
        for row in order:
            if round_index >= row.rounds:
                continue
            try:
                row.samples.append(_sample(row.call, row.number))
            except Exception as exc:
                row.status, row.message, row.call = "error", describe_exception(exc), None
                live.remove(row)
        for row in live:
            if len(row.samples) <= round_index:
                row.samples.append(None)
    by_key = {row.case.key: row for row in rows}
    for row in rows:
        row.call = None
        times = [t for t in row.samples if t is not None]
        if row.status != "ok" or not times:
            continue
        row.median = statistics.median(times)
        if len(times) >= 4:
            q = statistics.quantiles(times, n=4)
            row.spread = (q[2] - q[0]) / row.median
        for header, key in group.ratios:
            base = by_key.get(key or row.case.reference or row.case.baseline)
            row.ratios[header] = _paired_ratio(row, base)
        row.baseline_ratio = _paired_ratio(row, by_key.get(row.case.baseline))
    return rows


def _paired_ratio(row: Row, base: Row | None) -> float | None:
    """Median over rounds of (this case's time / the baseline's time in the same round)."""
    if base is None or base.status != "ok":
        return None
    pairs = [
        t / b
        for t, b in zip(row.samples, base.samples)
        if t is not None and b is not None and b > 0
    ]
    return statistics.median(pairs) if pairs else None
