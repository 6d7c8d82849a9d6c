"""The sparse Newton example runs, converges quadratically, and its Jacobian is the true one."""

import pathlib
import runpy
import sys

import numpy as np

import dualdiff

SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "examples" / "sparse_newton.py"


def test_script_runs(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(SCRIPT)])
    runpy.run_path(str(SCRIPT), run_name="__main__")
    out = capsys.readouterr().out
    assert "colours" in out and "solved in" in out


def test_newton_converges_with_the_true_jacobian():
    example = runpy.run_path(str(SCRIPT))
    n = 6
    w, norms, jacobian = example["main"](n, verbose=False)
    assert norms[-1] < 1e-10 and len(norms) <= 6
    # quadratic convergence: each error is at most about the square of the previous one
    assert norms[2] < 10 * norms[1] ** 2
    h = 1.0 / n
    g = lambda z: example["rates"](z, n, h)
    # the solution of the implicit step: G(w) = w - w_old - dt F(w) = 0 (w_old seeded as in main)
    x = np.random.default_rng(1).uniform(0.5, 3.0, 2 * n * n)
    expected = dualdiff.jacobian(lambda z: z - example["DT"] * g(z), x)
    got = jacobian(x)
    np.testing.assert_allclose(got.toarray() if hasattr(got, "toarray") else got, expected,
                               atol=1e-12)  # fmt: skip
    assert jacobian.ncolors < 2 * n * n
    assert np.all(np.isfinite(w))
