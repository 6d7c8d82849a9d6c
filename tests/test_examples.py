"""The scripts in examples/ run and reach their stated results."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(name: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_chain_rule_example():
    out = run("chain_rule.py")
    assert "dy/dw = 54.0" in out and "(6.0, -4.0)" in out


def test_newton_example_converges_quadratically():
    out = run("newton.py")
    norms = [float(line.split("=")[1]) for line in out.splitlines() if line.startswith("step")]
    assert norms[-1] < 1e-12 and len(norms) <= 6
    assert norms[-1] < 1e-3 * norms[-2]  # quadratic convergence: the last step gains many digits


def test_scipy_optimize_example():
    pytest.importorskip("scipy")
    out = run("scipy_optimize.py")
    assert "BFGS with the exact gradient" in out and "root with the exact Jacobian" in out


def test_compiled_fit_example():
    out = run("compiled_fit.py")
    assert "converged after" in out and "def value_and_jacobian(x0):" in out
    assert "Jacobian per call: eager" in out


def test_ode_jacobian_example():
    pytest.importorskip("scipy")
    out = run("ode_jacobian.py")
    assert "max abs error 0.0e+00" in out  # the Jacobian of a polynomial right-hand side
    lines = [line for line in out.splitlines() if line.startswith("final state")]
    assert len(lines) == 3  # every Jacobian gives the same solution (asserted in the script)
    assert "mass conservation" in out


def test_logistic_regression_example():
    pytest.importorskip("scipy")
    out = run("logistic_regression.py")
    errors = [float(line.rsplit(" ", 1)[1]) for line in out.splitlines() if "closed form" in line]
    assert len(errors) == 2 and max(errors) < 1e-12
    assert "trust-exact, dualdiff gradient + Hessian" in out and "standard errors" in out


def test_no_example_exits_on_success():
    """The documentation's gallery runs each example as ``__main__`` in the build's own process,
    where ``sys.exit(0)`` ends the build early and silently (exit status 0, pages missing)."""
    import ast

    for path in sorted(EXAMPLES.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
                top = [ast.unparse(s) for s in node.body]
                assert not any(s.startswith("sys.exit(main())") for s in top), path.name


def test_the_gallery_has_a_page_for_every_example():
    """After the documentation build (CI builds it before the tests): one page per example, so a
    build that ended early (an example's ``sys.exit``) cannot pass unnoticed."""
    gallery = EXAMPLES.parent / "docs" / "_build" / "html" / "auto_examples"
    if not gallery.is_dir():
        pytest.skip("the documentation is not built here (CI builds it before the tests)")
    missing = [
        p.name for p in sorted(EXAMPLES.glob("*.py")) if not (gallery / f"{p.stem}.html").exists()
    ]
    assert not missing, missing
