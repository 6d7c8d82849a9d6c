"""Tables of results for the terminal and for Markdown, and a description of the machine."""

from __future__ import annotations

import datetime
import os
import platform
import sys

from .timing import Group, Row


def format_time(seconds: float | None) -> str:
    """A duration with three significant digits and a unit: ``812 ns``, ``4.21 µs``, ``1.30 s``."""
    if seconds is None:
        return ""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{_sig3(seconds / scale)} {unit}"
    return f"{_sig3(seconds / 1e-9)} ns"


def _sig3(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_ratio(ratio: float | None) -> str:
    if ratio is None:
        return ""
    return f"{_sig3(ratio)}×"


def format_error(error: float | None) -> str:
    if error is None:
        return ""
    return "0" if error == 0 else f"{error:.1e}"


def format_spread(spread: float | None) -> str:
    return "" if spread is None else f"{100 * spread:.0f}%"


def _note(row: Row) -> str:
    if row.status != "ok":
        return row.message if row.status == "skipped" else f"ERROR {row.message}"
    parts = []
    target = row.case.target
    if target is not None:
        met = row.target_met
        mark = "" if met is None else (" met" if met else " MISSED")
        parts.append(f"target ≤ {target:g}× {row.case.baseline}{mark}")
    if row.rounds and row.rounds < max(len(row.samples), 1):
        parts.append(f"{row.rounds} rounds")
    return "; ".join(parts)


def table(group: Group, rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    """The header and the cells of a group's table."""
    ratio_headers = [header for header, _ in group.ratios]
    header = ["system", "method", "median", *ratio_headers, "spread", "first call", "error", "note"]
    body = []
    for row in rows:
        case = row.case
        body.append(
            [
                case.system,
                case.method,
                format_time(row.median),
                *(format_ratio(row.ratios.get(h)) for h in ratio_headers),
                format_spread(row.spread),
                format_time(row.first),
                format_error(row.error),
                _note(row),
            ]
        )
    return header, body


_RIGHT = {"median", "spread", "first call", "error"}


def _right(header: str) -> bool:
    return header in _RIGHT or header.startswith("×")


def terminal_table(title: str, header: list[str], body: list[list[str]]) -> str:
    """An aligned plain-text table (numbers right-aligned), with its title above it."""
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        parts = [
            cell.rjust(width) if _right(h) else cell.ljust(width)
            for cell, width, h in zip(cells, widths, header)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([title, line(header), rule, *(line(r) for r in body)])


def markdown_table(header: list[str], body: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table with numeric columns right-aligned."""

    def escape(cell: str) -> str:
        return cell.replace("|", "\\|")

    align = ["---:" if _right(h) else ":---" for h in header]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


# -- the machine -------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> str:
    """The BLAS NumPy runs and the kernel it chose (needs threadpoolctl, optional)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (install threadpoolctl to see it)"
    found = []
    for pool in threadpool_info():
        if pool.get("user_api") != "blas":
            continue
        name = pool.get("internal_api", "?")
        parts = [f"{name} {pool.get('version', '')}".strip()]
        if pool.get("architecture"):
            parts.append(f"kernel {pool['architecture']}")
        parts.append(f"{pool.get('num_threads')} thread(s)")
        found.append(", ".join(parts))
    return "; ".join(found) or "none found"


def machine_facts(threads: int | None) -> list[tuple[str, str]]:
    """(label, value) pairs describing where and how the run happened."""
    import numpy as np

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    openblas = {
        name: os.environ[name]
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
        if name in os.environ
    }
    return [
        ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", f"{cpu_model()}, {os.cpu_count()} logical cores"),
        ("OS", platform.platform(terse=True)),
        ("Python", f"{platform.python_implementation()} {sys.version.split()[0]}"),
        ("NumPy", np.__version__),
        ("BLAS", blas_info()),
        (
            "threads",
            "not pinned"
            if threads is None
            else f"pinned to {threads} (BLAS, OpenMP, XLA, PyTorch)",
        ),
        ("OpenBLAS overrides", ", ".join(f"{k}={v}" for k, v in openblas.items()) or "none"),
        ("load average", "" if load is None else " / ".join(f"{x:.2f}" for x in load)),
    ]
