"""Pin BLAS, OpenMP, XLA and PyTorch to a fixed number of threads before they are imported.

Thread pools read their size once, when their library loads, so the variables must be set before
the first ``import numpy``. When NumPy is already loaded (an interpreter started with it), the
runner re-executes itself with the variables set.
"""

from __future__ import annotations

import ctypes
import ctypes.util
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


MMAP_THRESHOLD = 32 * 2**20
"""Bytes from which glibc's malloc maps fresh pages for a block (see ``fix_allocator``)."""


def fix_allocator() -> str:
    """Fix glibc's mmap and trim thresholds for this process, and say what was done.

    By default glibc raises its mmap threshold each time a mapped block is freed (and its trim
    threshold to twice that), so whether an array of some megabytes comes from reused heap
    memory or from freshly mapped pages (one page fault per 4 KiB on first touch) depends on
    what the process did before. The same workload then timed 1x or 2.8x in two processes.
    Both thresholds are fixed here at the values glibc's own rule settles on for arrays up to
    ``MMAP_THRESHOLD``: the trim threshold too, because fixing only the mmap threshold leaves
    trimming at 128 KiB, and every large array freed at the top of the heap is then handed back
    to the system and faulted in afresh by the next allocation (a product at n = 1e5 timed 14x
    its cost into an existing array). That measured page faults, not arithmetic.
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = libc.mallopt if libc is not None else None
    except (OSError, AttributeError):
        mallopt = None
    if mallopt is None:
        return "system default (not glibc)"
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
    if mallopt(m_mmap_threshold, MMAP_THRESHOLD) != 1:
        return "system default (mallopt refused)"
    if mallopt(m_trim_threshold, 2 * MMAP_THRESHOLD) != 1:
        return "glibc, mmap threshold fixed, trim threshold refused"
    return (
        f"glibc, mmap threshold fixed at {MMAP_THRESHOLD // 2**20} MiB, "
        f"trim threshold at {2 * MMAP_THRESHOLD // 2**20} MiB"
    )
