"""Pin BLAS, OpenMP, XLA and PyTorch to a fixed number of threads before they are imported.

Thread pools read their size once, when their library loads, so the variables must be set before
the first ``import numpy``. When NumPy is already loaded (an interpreter started with it), the
runner re-executes itself with the variables set.
"""

from __future__ import annotations

import os
import sys

_MARKER = "DUALDIFF_BENCH_THREADS"
_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def requested_threads(argv: list[str]) -> int:
    """The ``--threads N`` value in ``argv`` (1 when absent), read without argparse or NumPy."""
    for i, arg in enumerate(argv):
        value = None
        if arg == "--threads" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--threads="):
            value = arg.split("=", 1)[1]
        if value is not None:
            try:
                threads = int(value)
            except ValueError:
                raise SystemExit(f"--threads expects a positive integer, got {value!r}") from None
            if threads < 1:
                raise SystemExit(f"--threads expects a positive integer, got {threads}")
            return threads
    return 1


def pin(threads: int) -> None:
    """Set every thread-count variable to ``threads`` (XLA gets its single-thread flags too)."""
    for name in _THREAD_VARIABLES:
        os.environ[name] = str(threads)
    if threads == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        extra = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        if "xla_cpu_multi_thread_eigen" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} {extra}".strip()
    os.environ[_MARKER] = str(threads)


def pin_or_reexec(module: str, argv: list[str]) -> int:
    """Pin the thread pools for this process; re-exec ``python -m module`` if NumPy is loaded."""
    threads = requested_threads(argv)
    if os.environ.get(_MARKER) == str(threads):
        return threads
    pin(threads)
    if "numpy" in sys.modules:
        os.execv(sys.executable, [sys.executable, "-m", module, *argv])
    return threads


def pinned_threads() -> int | None:
    """The thread count this process was pinned to, or None if it was not pinned."""
    value = os.environ.get(_MARKER)
    return int(value) if value else None
