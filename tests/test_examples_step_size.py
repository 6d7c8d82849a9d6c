"""The step-size example runs, draws its PNG with matplotlib, and prints its table without it."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "step_size.py"
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PNG = b"\x89PNG\r\n\x1a\n"


def run(args, cwd):
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_writes_the_png_to_the_default_path(tmp_path):
    result = run([str(SCRIPT)], tmp_path)
    assert result.returncode == 0, result.stderr
    if not HAS_MATPLOTLIB:
        assert "central" in result.stdout
        pytest.skip("matplotlib is not installed: no PNG to check")
    png = tmp_path / "step_size.png"
    assert png.read_bytes()[:8] == PNG and png.stat().st_size > 10_000
    assert "wrote step_size.png" in result.stdout


def test_writes_the_png_to_a_given_path(tmp_path):
    if not HAS_MATPLOTLIB:
        pytest.skip("matplotlib is not installed")
    target = tmp_path / "out" / "curve.png"
    target.parent.mkdir()
    result = run([str(SCRIPT), str(target)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes()[:8] == PNG
    assert not (tmp_path / "step_size.png").exists()


def test_prints_the_table_without_matplotlib(tmp_path):
    # Block the import as if matplotlib were not installed, then run the script as __main__.
    code = (
        "import runpy, sys; sys.modules['matplotlib'] = None; sys.argv = ['step_size.py']; "
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    )
    result = run(["-c", code], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "forward" in lines[1] and "central" in lines[1] and "complex" in lines[1]
    assert len(lines) >= 65 and "AD: relative error" in result.stdout
    assert not (tmp_path / "step_size.png").exists()


def test_rejects_extra_arguments(tmp_path):
    result = run([str(SCRIPT), "a.png", "b.png"], tmp_path)
    assert result.returncode == 2 and "python examples/step_size.py" in result.stdout
