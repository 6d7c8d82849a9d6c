"""What every workload module shares: the run's configuration and the error measure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Config:
    """The run as the workloads see it: quick or full, the size cap, and the usable systems."""

    quick: bool = False
    max_n: int | None = None
    systems: set[str] = field(default_factory=set)

    def use(self, system: str) -> bool:
        """Whether cases of ``system`` should be built (selected and installed)."""
        return system in self.systems

    def sizes(self, full: Iterable[int], quick: Iterable[int]) -> list[int]:
        """The problem sizes of this run; with ``max_n`` set, the sizes up to it (or ``max_n``)."""
        sizes = list(quick if self.quick else full)
        if self.max_n is not None:
            sizes = [n for n in sizes if n <= self.max_n] or [self.max_n]
        return sizes


def relative_error(result, reference) -> float:
    """``max|result - reference| / max|reference|``, computed in the reference's precision.

    Normwise rather than elementwise, so entries where the exact derivative is zero do not
    turn rounding noise into an infinite error.
    """
    result = np.asarray(result, dtype=np.longdouble)
    reference = np.asarray(reference, dtype=np.longdouble)
    if result.shape != reference.shape:
        raise ValueError(f"result has shape {result.shape}, expected {reference.shape}")
    scale = np.max(np.abs(reference))
    if scale == 0:
        return float(np.max(np.abs(result)))
    return float(np.max(np.abs(result - reference)) / scale)
