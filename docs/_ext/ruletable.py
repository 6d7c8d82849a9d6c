"""Sphinx helpers of dualdiff's documentation.

``.. rule-table::`` renders the elementwise rule table as one table, built at documentation time
from the table itself (each rule's ``formula``), so a formula is written once, in the code.
``.. rule-table:: special`` does the same for the ``scipy.special`` entries.

``gallery_argv`` gives the examples' command-line arguments during the gallery build.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def rule_tables() -> tuple[dict[str, Any], dict[str, Any]]:
    """The rule tables: dualdiff's own, and the ``scipy.special`` entries ({} without SciPy).

    This is the one place where the documentation imports them.
    """
    from dualdiff import RULES

    try:
        from dualdiff.rules.scipy_special import SPECIAL_RULES
    except ImportError:  # SciPy is not installed
        SPECIAL_RULES = {}
    return RULES, SPECIAL_RULES


def _public_aliases() -> dict[str, list[str]]:
    """Other public names of a rule's function: ``dualdiff.abs`` is ``dualdiff.absolute``."""
    import dualdiff

    rules, _ = rule_tables()
    aliases: dict[str, list[str]] = {}
    for name in dualdiff.__all__:
        own = getattr(getattr(dualdiff, name), "__name__", name)
        if own != name and own in rules:
            aliases.setdefault(own, []).append(name)
    return aliases


def _escape(text: str) -> str:
    """``text`` as an inline literal that cannot break the table's markup."""
    return "``" + text.replace("`", "'") + "``" if text else "(see the rule)"


def _notes(rule: Any) -> str:
    notes = []
    if rule.zero:
        notes.append("piecewise constant")
    if rule.safe:
        notes.append("zero tangent kept [#safe]_")
    if rule.complex:
        notes.append("complex")
    return ", ".join(notes)


def rule_rows(which: str = "") -> list[list[str]]:
    """The table's rows as reStructuredText cells: name(s), derivative, notes."""
    own, special = rule_tables()
    rows = []
    if which == "special":
        for name in sorted(special):
            rule = special[name]
            rows.append([f"``{name}``", _escape(rule.formula), _notes(rule)])
        return rows
    aliases = _public_aliases()
    for name in sorted(own):
        rule = own[name]
        names = ", ".join(f"``{n}``" for n in [name, *aliases.get(name, [])])
        if rule.ufunc is not None and rule.ufunc.__name__ != name:
            names += f" (``np.{rule.ufunc.__name__}``)"
        rows.append([names, _escape(rule.formula), _notes(rule)])
    return rows


class RuleTable(SphinxDirective):
    """``.. rule-table::`` (dualdiff's functions) or ``.. rule-table:: special``."""

    optional_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        which = self.arguments[0] if self.arguments else ""
        rows = rule_rows(which)
        header = ["function", "derivative (convention)", "notes"]
        lines = [".. list-table::", "   :header-rows: 1", "   :widths: 20 60 20",
                 "   :class: rule-table", ""]  # fmt: skip
        for row in [header, *rows]:
            lines.append(f"   * - {row[0]}")
            lines.extend(f"     - {cell}" for cell in row[1:])
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="rule-table"), self.content_offset,
                                container)  # fmt: skip
        return container.children


def gallery_argv(gallery_conf: dict[str, Any], script_vars: dict[str, Any]) -> list[str]:
    """Arguments for an example run by the gallery: files it writes go to the build directory."""
    script = Path(script_vars["src_file"])
    if script.name == "step_size.py":
        out = Path(gallery_conf["src_dir"]) / "_build" / "gallery-files"
        out.mkdir(parents=True, exist_ok=True)
        # relative to the example's folder, where the gallery runs it: the page shows this path
        return [os.path.relpath(out / "step_size.png", script.parent)]
    return []


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("rule-table", RuleTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
