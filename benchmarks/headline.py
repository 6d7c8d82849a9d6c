"""The README's performance tables, made from a run's results.

``python -m benchmarks --readme`` replaces what stands between the markers ``<!--
benchmarks:headline -->`` and ``<!-- /benchmarks:headline -->`` in README.md with two tables of
the run just made: the headline rows (each system's ratio to one plain evaluation of ``f``) and
the targets not met, with their measured ratios (how many were met is said above them). The
README then shows the numbers of one run, never a figure copied by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import report

START = "<!-- benchmarks:headline -->"
END = "<!-- /benchmarks:headline -->"

COLUMNS = ("dualdiff", "dualdiff compiled", "hand-written NumPy", "jax", "torch", "others")


@dataclass(frozen=True)
class Line:
    """One kind of headline row: each group of a workload gives a row labelled ``label`` (with
    ``{group}`` standing for the group's title), its cells the ratios ``ratio`` of the cases of
    these keys (None: no such cell). ``anchors``: whether the row shows the other systems."""

    workload: str
    label: str
    dualdiff: str
    compiled: str | None = None
    jax: str | None = "jax"
    ratio: str = "× f"
    anchors: bool = True


LINES = (
    Line("scalar", "scalar f'(x), f = 1/(1+exp(-2x)) with dualdiff.exp", "dualdiff.exp",
         ratio="× f(math.exp)", anchors=False),
    Line("scalar", "scalar f'(x), f = 1/(1+exp(-2x)) with np.exp", "dualdiff.np",
         ratio="× f(math.exp)"),
    Line("jvp", "elementwise JVP, {group}", "dualdiff", "dualdiff-jit"),
    Line("jacobian", "dense Jacobian, {group}", "dualdiff", "dualdiff-jit"),
    Line("kth", "k-th derivative of exp(sin x), {group}", "dualdiff", jax="jax.jet"),
    Line("sparse_jacobian", "sparse Jacobian, prepared (eager), {group}", "prepared", jax=None),
)  # fmt: skip


def headline_rows(workloads: list[Any]) -> list[list[str]]:
    """The headline table's cells (one row per group of the workloads in ``LINES``)."""
    by_name = {w.name: w for w in workloads}
    rows = []
    for line in LINES:
        workload = by_name.get(line.workload)
        if workload is None:
            continue
        for group, results in workload.results:
            cases = {row.case.key: row for row in results}

            def cell(key: str | None, cases: dict = cases, ratio: str = line.ratio) -> str:
                row = cases.get(key) if key is not None else None
                if row is None or row.status != "ok":
                    return ""
                return report.format_ratio(row.ratios.get(ratio))

            named = {line.dualdiff, line.compiled, line.jax, "torch", "hand"}
            others = [
                f"{row.case.key} {cell(row.case.key)}"
                for row in results
                if line.anchors
                and row.case.system not in ("numpy", "dualdiff")
                and row.case.key not in named
                and cell(row.case.key)
            ]
            rows.append(
                [
                    line.label.format(group=group.title),
                    cell(line.dualdiff),
                    cell(line.compiled),
                    cell("hand"),
                    cell(line.jax) if line.anchors else "",
                    cell("torch") if line.anchors else "",
                    ", ".join(others),
                ]
            )
    return rows


def tables(workloads: list[Any], target_lines: list[str]) -> str:
    """The Markdown of both tables, for the README."""
    header = ["workload", *COLUMNS]
    body = headline_rows(workloads)
    parts = []
    if body:
        ratio_note = (
            "Each cell is a median of paired per-round ratios to one plain NumPy evaluation of "
            "`f` (`× f`; the scalar rows: to `f` written with `math.exp`); lower is better."
        )
        align = ["| " + " | ".join([":---", *["---:"] * (len(COLUMNS) - 1), ":---"]) + " |"]
        table = report.markdown_table(header, body).splitlines()
        parts += [ratio_note, "", table[0], *align, *table[2:], ""]
    if target_lines:
        missed = [line for line in target_lines if not line.rstrip().endswith("| yes |")]
        met = len(target_lines) - len(missed)
        parts.append(
            f"Targets met: {met} of {len(target_lines)} (all of them are listed in "
            "[docs/performance.md](docs/performance.md), under Targets)"
            + (". Not met:" if missed else ".")
        )
        if missed:
            parts += [
                "",
                "| workload | case | target | measured | met |",
                "| :--- | :--- | ---: | ---: | :--- |",
                *missed,
            ]
        parts.append("")
    return "\n".join(parts).rstrip("\n")


def replace_between_markers(text: str, content: str) -> str:
    """``text`` with what stands between ``START`` and ``END`` replaced by ``content``."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README.md has no {START} ... {END} section to write the tables into")
    return text[: start + len(START)] + "\n" + content + "\n" + text[end:]


def write_readme(path: Path, content: str) -> None:
    path.write_text(replace_between_markers(path.read_text("utf-8"), content), "utf-8")
