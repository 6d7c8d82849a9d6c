"""Benchmarks of dualdiff against plain NumPy, hand-written derivatives and other AD systems.

Run ``python -m benchmarks`` (``--quick`` for a run under a minute, ``--only NAME`` to select
workloads or systems, ``--help`` for the rest). Each ``bench_<name>.py`` module is one workload:
it defines ``NAME``, ``TITLE``, ``DESCRIPTION`` and ``groups(config)``, which returns the groups of
cases to time (see ``timing.Case`` and ``timing.Group``). This package imports nothing heavy at
import time, so the runner can pin thread pools before NumPy loads.
"""
