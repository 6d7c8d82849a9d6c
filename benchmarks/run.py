"""The benchmark command: ``python -m benchmarks [--quick] [--only NAME ...]``.

Runs every workload for dualdiff, plain NumPy (the baselines and the hand-written derivatives)
and each installed anchor, prints aligned tables, and writes them as Markdown (with the machine,
versions and date) for the README's performance section.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import json
import pkgutil
import pstats
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from . import headline, report, systems, threads
from .common import Config
from .timing import Group, Row, Settings, describe_exception, measure

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MARKDOWN = ROOT / "docs" / "performance.md"

WORKLOAD_MODULES = ("bench_scalar", "bench_jvp", "bench_jacobian", "bench_kth", "bench_taylor")
"""Workload modules in report order; any other ``bench_*.py`` in this package follows. Each
defines ``NAME``, ``TITLE``, ``DESCRIPTION`` and ``groups(config) -> list[Group]``. A module with
only ``main()`` is run as ``python -m benchmarks.<module> [--quick]`` and its output is included
as it is (only when named in ``--only`` or when no system is selected, since it cannot be told
which systems to use). A listed module that is absent, or fails to import, gets a note."""

FULL = Settings(rounds=15, sample_time=0.01, slow_call=0.5, slow_budget=4.0)
QUICK = Settings(rounds=5, sample_time=0.002, slow_call=0.1, slow_budget=0.5)


@dataclass
class Workload:
    """A workload module and what came of running it."""

    name: str
    module: ModuleType | None = None
    note: str = ""
    results: list[tuple[Group, list[Row]]] = field(default_factory=list)
    output: str = ""

    @property
    def title(self) -> str:
        return getattr(self.module, "TITLE", self.name)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time dualdiff against plain NumPy, hand-written derivatives and other AD "
        "systems; print tables and write them as Markdown.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds (< 1 min)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only these workloads and/or systems (repeatable or comma-separated); the "
        "NumPy baselines always run",
    )
    parser.add_argument("--max-n", type=int, help="cap every problem size at N")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per group")
    parser.add_argument("--sample-time", type=float, help="seconds per timing sample")
    parser.add_argument("--threads", type=int, default=1, help="threads for BLAS/XLA/PyTorch")
    parser.add_argument(
        "--markdown",
        metavar="PATH",
        help="write the Markdown report here (default: docs/performance.md, not for --quick)",
    )
    parser.add_argument("--no-markdown", action="store_true", help="write no Markdown report")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--profile", action="store_true", help="profile every dualdiff row with cProfile"
    )
    parser.add_argument(
        "--readme",
        action="store_true",
        help="also write the headline and target tables into README.md (between its "
        "benchmarks:headline markers)",
    )
    parser.add_argument("--list", action="store_true", help="list workloads and systems")
    return parser.parse_args(argv)


def load_workloads() -> list[Workload]:
    found = sorted(
        info.name
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if info.name.startswith("bench_")
    )
    names = list(WORKLOAD_MODULES) + [name for name in found if name not in WORKLOAD_MODULES]
    workloads = []
    for module_name in names:
        short = module_name.removeprefix("bench_")
        if module_name not in found:
            workloads.append(Workload(short, note=f"{module_name}.py not present"))
            continue
        try:
            module = importlib.import_module(f"{__package__}.{module_name}")
        except Exception as exc:  # a broken workload is noted; the others still run
            workloads.append(Workload(short, note=f"import failed: {describe_exception(exc)}"))
            continue
        workloads.append(Workload(getattr(module, "NAME", short), module))
    return workloads


def only_names(only: list[str]) -> set[str]:
    """The names given to ``--only`` (repeated or comma-separated), lower-cased."""
    return {n.strip().lower() for item in only for n in item.split(",") if n.strip()}


def select(only: list[str], workloads: list[Workload]) -> tuple[set[str], set[str]]:
    """Split ``--only`` names into workload names and system names (all when none are given)."""
    names = only_names(only)
    known_workloads = {w.name for w in workloads}
    unknown = names - known_workloads - set(systems.SYSTEMS)
    if unknown:
        raise SystemExit(
            f"--only: unknown name(s) {', '.join(sorted(unknown))}; workloads are "
            f"{', '.join(sorted(known_workloads))}; systems are {', '.join(systems.SYSTEMS)}"
        )
    chosen_workloads = (names & known_workloads) or known_workloads
    chosen_systems = (names & set(systems.SYSTEMS)) or set(systems.SYSTEMS)
    return chosen_workloads, chosen_systems | set(systems.ALWAYS)


def system_status(chosen: set[str]) -> list[tuple[str, str, str]]:
    """(system, version, status) for every known system."""
    out = []
    for name, system in systems.SYSTEMS.items():
        if name not in chosen:
            out.append((name, "", "not selected"))
        elif not systems.installed(name):
            out.append((name, "", f"skipped: not installed ({system.install})"))
        else:
            try:
                out.append((name, systems.version(name), "used"))
            except Exception as exc:  # a broken install is reported, not fatal
                out.append((name, "", f"skipped: {type(exc).__name__}: {exc}"))
    return out


def run_external(workload: Workload, args: argparse.Namespace) -> None:
    """Run a workload module that has its own ``main()`` and keep what it prints."""
    command = [sys.executable, "-m", workload.module.__name__]
    if args.quick:
        command.append("--quick")
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    workload.output = done.stdout.rstrip()
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [""]
        workload.note = f"ERROR: exited with {done.returncode}: {tail[0]}"


def profile_rows(workloads: list[Workload], seconds: float = 0.5, top: int = 14) -> str:
    """cProfile of every dualdiff row, the functions with the most own time first."""
    out = []
    for workload in workloads:
        for group, rows in workload.results:
            for row in rows:
                if row.case.system != "dualdiff" or row.status != "ok" or not row.median:
                    continue
                call = row.case.build()
                number = max(1, int(seconds / row.median))
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(number):
                    call()
                profiler.disable()
                stream = io.StringIO()
                stats = pstats.Stats(profiler, stream=stream)
                stats.strip_dirs().sort_stats("tottime").print_stats(top)
                text = stream.getvalue()
                text = text[text.find("ncalls") :] if "ncalls" in text else text
                out.append(
                    f"== profile: {workload.name} / {group.title} / {row.case.method} "
                    f"({number} calls)\n{text.rstrip()}"
                )
    return "\n\n".join(out)


def measurement_args(argv: list[str]) -> list[str]:
    """The arguments that change what is measured (output paths and profiling left out)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--json", "--markdown"):
            skip = True
        elif not arg.startswith(
            ("--json=", "--markdown=", "--no-markdown", "--profile", "--readme")
        ):
            out.append(arg)
    return out


def markdown(workloads, statuses, facts, args, settings, argv) -> str:
    command = " ".join(["python -m benchmarks", *measurement_args(argv)])
    lines = [
        "# Performance",
        "",
        "<!-- Generated by `python -m benchmarks`; edit the benchmarks, not this file. -->",
        "",
        f"Measured with `{command}`"
        + (" (quick mode: small sizes, few rounds)." if args.quick else "."),
        "",
        "## Machine",
        "",
        "| | |",
        "| :--- | :--- |",
        *(f"| {label} | {value} |" for label, value in facts),
        "",
        "## Systems",
        "",
        "| system | version | status |",
        "| :--- | :--- | :--- |",
        *(f"| {name} | {version} | {status} |" for name, version, status in statuses),
        "",
        "## Method",
        "",
        f"- Every case of a table is timed in the same {settings.rounds} rounds, in a shuffled "
        f"order each round; a sample is a loop of calls lasting about "
        f"{report.format_time(settings.sample_time)}. `median` is the median sample per call.",
        "- Ratios (`× f`, `× hand`) are medians of per-round ratios to the baseline measured in "
        "the same round, which cancels most of the drift of a shared machine.",
        "- `spread` is the interquartile range of the samples over the median: a noise gauge.",
        "- The allocator's mmap and trim thresholds are fixed (see `allocator` above) at the "
        "values glibc's own adaptive rule settles on: with the default, which moves with the "
        "process's history, one workload timed 1× or 2.8× in two runs; with only the mmap "
        "threshold fixed, every large array freed was handed back to the system and faulted "
        "in afresh (page faults, not arithmetic, decided the large-n rows).",
        "- `first call` is the first call alone, including JIT compilation and tracing.",
        "- `error` is `max|result - exact| / max|exact|` against a closed-form derivative "
        "evaluated in extended precision.",
        "- BLAS, OpenMP, XLA and PyTorch run on the pinned number of threads; JAX runs in "
        "float64. For a real run, unset the OpenBLAS overrides in that command only: "
        "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks`.",
        "",
    ]
    headline_rows = headline.headline_rows(workloads)
    if headline_rows:
        lines += [
            "## Headline",
            "",
            report.markdown_table(["workload", *headline.COLUMNS], headline_rows),
            "",
        ]
    for workload in workloads:
        if workload.module is None:
            continue
        lines += [f"## {workload.title}", ""]
        description = getattr(workload.module, "DESCRIPTION", "")
        if description:
            lines += [description, ""]
        if workload.note:
            lines += [f"*{workload.note}*", ""]
        for group, rows in workload.results:
            header, body = report.table(group, rows)
            lines += [f"### {group.title}", "", report.markdown_table(header, body), ""]
        if workload.output:
            lines += ["```text", workload.output, "```", ""]
    targets = target_lines(workloads)
    if targets:
        lines += [
            "## Targets",
            "",
            "| workload | case | target | measured | met |",
            "| :--- | :--- | ---: | ---: | :--- |",
            *targets,
            "",
        ]
    return "\n".join(lines)


def target_lines(workloads: list[Workload]) -> list[str]:
    out = []
    for workload in workloads:
        for group, rows in workload.results:
            for row in rows:
                target = row.case.target
                if target is None:
                    continue
                met = {True: "yes", False: "**no**", None: row.message or "not measured"}
                measured = report.format_ratio(row.baseline_ratio)
                out.append(
                    f"| {workload.name}: {group.title} | {row.case.method} | "
                    f"≤ {target:g}× {row.case.baseline} | {measured} | {met[row.target_met]} |"
                )
    return out


def to_json(workloads: list[Workload], statuses, facts) -> dict:
    return {
        "machine": dict(facts),
        "systems": [{"name": n, "version": v, "status": s} for n, v, s in statuses],
        "workloads": [
            {
                "name": w.name,
                "note": w.note,
                "output": w.output,
                "groups": [
                    {
                        "title": group.title,
                        "rows": [
                            {
                                "key": row.case.key,
                                "system": row.case.system,
                                "method": row.case.method,
                                "status": row.status,
                                "message": row.message,
                                "median": row.median,
                                "first_call": row.first,
                                "ratios": row.ratios,
                                "baseline": row.case.baseline,
                                "baseline_ratio": row.baseline_ratio,
                                "target": row.case.target,
                                "target_met": row.target_met,
                                "error": row.error,
                                "rounds": row.rounds,
                            }
                            for row in rows
                        ],
                    }
                    for group, rows in w.results
                ],
            }
            for w in workloads
        ],
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    pinned = threads.pinned_threads()
    systems.set_threads(pinned or args.threads)
    workloads = load_workloads()
    chosen_workloads, chosen_systems = select(args.only, workloads)
    if args.list:
        print("workloads:", ", ".join(w.name for w in workloads))
        print("systems:  ", ", ".join(systems.SYSTEMS))
        return 0
    base = QUICK if args.quick else FULL
    settings = Settings(
        rounds=args.rounds or base.rounds,
        sample_time=args.sample_time or base.sample_time,
        slow_call=base.slow_call,
        slow_budget=base.slow_budget,
    )
    statuses = system_status(chosen_systems)
    usable = {name for name, _, status in statuses if status == "used"}
    config = Config(quick=args.quick, max_n=args.max_n, systems=usable)
    facts = report.machine_facts(pinned)
    facts.append(("allocator", threads.fix_allocator()))

    print("\n".join(f"{label + ':':<20}{value}" for label, value in facts))
    for name, version, status in statuses:
        if status != "not selected":
            print(f"{name:<20}{version:<18}{status}")
    print()

    selected = [w for w in workloads if w.name in chosen_workloads]
    names = only_names(args.only)
    started = time.perf_counter()
    for workload in selected:
        print(f"## {workload.title}")
        if workload.module is None:
            print(f"({workload.note})\n")
            continue
        if not hasattr(workload.module, "groups"):
            if not hasattr(workload.module, "main"):
                workload.note = "has neither groups(config) nor main(); not run"
                print(f"({workload.note})\n")
            elif not (workload.name in names or not names & set(systems.SYSTEMS)):
                workload.note = "not run: it cannot select systems; name it in --only to run it"
                print(f"({workload.note})\n")
            else:
                run_external(workload, args)
                print(workload.output or workload.note, "\n")
            continue
        for group in workload.module.groups(config):
            rows = measure(group, settings)
            workload.results.append((group, rows))
            header, body = report.table(group, rows)
            print(report.terminal_table(f"{group.title}", header, body), "\n", flush=True)
    print(f"total time {time.perf_counter() - started:.1f} s")

    if args.profile:
        print("\n" + profile_rows(selected))
    if not args.no_markdown and (args.markdown or not args.quick):
        path = Path(args.markdown) if args.markdown else DEFAULT_MARKDOWN
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(markdown(selected, statuses, facts, args, settings, argv), "utf-8")
        print(f"wrote {path}")
    if args.json:
        Path(args.json).write_text(json.dumps(to_json(selected, statuses, facts), indent=1))
    if args.readme:
        readme = ROOT / "README.md"
        headline.write_readme(readme, headline.tables(selected, target_lines(selected)))
        print(f"wrote the tables into {readme}")
    return 0


if __name__ == "__main__":
    threads.pin_or_reexec("benchmarks.run", sys.argv[1:])
    raise SystemExit(main())
