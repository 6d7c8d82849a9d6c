"""Hypothesis profiles of the adversarial suite.

``ci`` (the default): derandomized, so CI is deterministic, with a per-test example count chosen to
keep the whole folder within 60 s on one core. ``DUALDIFF_ADVERSARIAL_EXAMPLES=2000`` runs every
property that many times with fresh random draws (a hunt); ``DUALDIFF_ADVERSARIAL_REFUSALS=1``
prints, after the run, which constructs each mode refused (TypeError/ValueError) and how often.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

HUNT = int(os.environ.get("DUALDIFF_ADVERSARIAL_EXAMPLES", "0") or 0)

settings.register_profile(
    "dualdiff-adversarial",
    derandomize=not HUNT,
    deadline=None,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not os.environ.get("DUALDIFF_ADVERSARIAL_REFUSALS"):
        return
    from .test_properties import REFUSALS

    terminalreporter.section("adversarial: refusals by mode")
    for (mode, message), count in sorted(REFUSALS.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{count:6d}  {mode}: {message}")
