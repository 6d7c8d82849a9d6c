"""The command line, run in-process through ``cli.main(argv)``; every number it prints is checked
against a closed form computed here."""

import importlib.util
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import dualdiff
from dualdiff.tools import cli

HAS_TAYLOR = importlib.util.find_spec("dualdiff.series.taylor") is not None


def run(argv, capfd):
    code = cli.main(argv)
    out, err = capfd.readouterr()
    return code, out, err


def number(out, label, derivative="f'(x)"):
    """The number printed after ``label  <derivative> =`` (e.g. the AD line)."""
    pattern = rf"^{label}\s+{re.escape(derivative)} = (\S+)"
    match = re.search(pattern, out, re.M)
    assert match, f"no {label} line in:\n{out}"
    return float(match.group(1))


def table(lines):
    """``{step name: (value, tangent)}`` from a trace table, located by its header's columns."""
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["step", "op"])
    head = lines[header]
    start = len(head) - len(head.lstrip())
    value, tangent, local = (head.index(h) for h in ("value", "tangent", "local"))
    rows = {}
    for line in lines[header + 1 :]:
        if line.strip().startswith("output"):
            break
        rows[line[start:].split()[0]] = (float(line[value:tangent]), float(line[tangent:local]))
    return rows


# ---------------------------------------------------------------------------------------------
# The demo
# ---------------------------------------------------------------------------------------------

ROW = re.compile(r"^\s+(\S+)\s+AD (\S+)\s+numeric (\S+)\s+closed form (\S+) = (\S+)$", re.M)


def check_demo(out):
    rows = {m.group(1): [float(m.group(i)) for i in (2, 3, 5)] for m in ROW.finditer(out)}
    assert set(rows) == {"dy/dw", "df/dx", "df/dy", "ds/dw"}

    # 1. y = 2x² + 4, x = 3w: dy/dw = 36w.
    w = float(re.search(r"at w = (\S+)", out).group(1))
    for printed in rows["dy/dw"]:
        assert printed == pytest.approx(36 * w, rel=1e-9)
    assert rows["dy/dw"][0] == pytest.approx(36 * w, rel=1e-15)

    # 2. f = (x + y)(x - y): grad f = (2x, -2y).
    x, y = map(float, re.search(r"at \(x, y\) = \((\S+), (\S+)\)", out).groups())
    for printed in rows["df/dx"]:
        assert printed == pytest.approx(2 * x, rel=1e-9)
    for printed in rows["df/dy"]:
        assert printed == pytest.approx(-2 * y, rel=1e-9)

    # 3. s = sigmoid(w x): ds/dw = s(1 - s) x, and the trace's rows.
    w, x = map(float, re.search(r"at \(w, x\) = \((\S+), (\S+)\)", out).groups())
    e = math.exp(-w * x)
    s = 1 / (1 + e)
    for printed in rows["ds/dw"]:
        assert printed == pytest.approx(s * (1 - s) * x, rel=1e-9)
    trace_rows = table(out.splitlines())
    expected = {
        "w": (w, 1.0),
        "x": (x, 0.0),
        "v1": (w * x, x),
        "v2": (-w * x, -x),
        "v3": (e, -x * e),
        "v4": (1 + e, -x * e),
        "v5": (s, s * (1 - s) * x),
    }
    assert set(trace_rows) == set(expected)
    for name, (value, tangent) in expected.items():
        assert trace_rows[name][0] == pytest.approx(value, rel=1e-7), name
        assert trace_rows[name][1] == pytest.approx(tangent, rel=1e-7, abs=1e-12), name


def test_demo_in_process(capfd):
    code, out, err = run([], capfd)
    assert code == 0 and err == ""
    check_demo(out)


def test_demo_as_module_in_a_subprocess(tmp_path):
    root = str(Path(dualdiff.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run(
        [sys.executable, "-m", "dualdiff"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    check_demo(result.stdout)


# ---------------------------------------------------------------------------------------------
# Formulas at points
# ---------------------------------------------------------------------------------------------

# (formula, x, f, f', f'') written out by hand.
FORMULAS = [
    ("x**2*sin(x)", 1.5, lambda x: x * x * math.sin(x),
     lambda x: 2 * x * math.sin(x) + x * x * math.cos(x),
     lambda x: 2 * math.sin(x) + 4 * x * math.cos(x) - x * x * math.sin(x)),
    ("exp(-x**2/2)", 1.0, lambda x: math.exp(-x * x / 2), lambda x: -x * math.exp(-x * x / 2),
     lambda x: (x * x - 1) * math.exp(-x * x / 2)),
    ("1/(1+exp(-x))", 0.5, lambda x: 1 / (1 + math.exp(-x)),
     lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2,
     lambda x: math.exp(-x) * (math.exp(-x) - 1) / (1 + math.exp(-x)) ** 3),
    ("log(x)*x", 2.5, lambda x: math.log(x) * x, lambda x: math.log(x) + 1, lambda x: 1 / x),
    ("x**3 - 2*x", -1.25, lambda x: x**3 - 2 * x, lambda x: 3 * x * x - 2, lambda x: 6 * x),
]  # fmt: skip
IDS = [f[0] for f in FORMULAS]


@pytest.mark.parametrize("text, x, f, d1, d2", FORMULAS, ids=IDS)
def test_formula_value_and_derivative(capfd, text, x, f, d1, d2):
    code, out, err = run([text, "--at", repr(x)], capfd)
    assert code == 0 and err == ""
    assert number(out, "value", "f(x)") == pytest.approx(f(x), rel=1e-14)
    assert number(out, "AD") == pytest.approx(d1(x), rel=1e-13)
    assert "numeric" not in out and "step" not in out


@pytest.mark.parametrize("text, x, f, d1, d2", FORMULAS, ids=IDS)
def test_second_order(capfd, text, x, f, d1, d2):
    code, out, err = run([text, "--at", repr(x), "--order", "2"], capfd)
    assert code == 0 and err == ""
    assert number(out, "AD", "f''(x)") == pytest.approx(d2(x), rel=1e-12, abs=1e-14)


def test_third_order_needs_taylor_mode(capfd):
    code, out, err = run(["x**4*exp(x)", "--at", "0.5", "--order", "3"], capfd)
    if HAS_TAYLOR:
        x = 0.5  # (x^4 e^x)''' = (x^4 + 12x^3 + 36x^2 + 24x) e^x
        assert code == 0
        expected = (x**4 + 12 * x**3 + 36 * x**2 + 24 * x) * math.exp(x)
        assert number(out, "AD", "f^(3)(x)") == pytest.approx(expected, rel=1e-12)
    else:
        assert code == 2 and out == ""
        assert "Taylor" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("text, x, f, d1, d2", FORMULAS, ids=IDS)
def test_compare(capfd, text, x, f, d1, d2):
    code, out, err = run([text, "--at", repr(x), "--compare"], capfd)
    assert code == 0 and err == ""
    ad, approx = number(out, "AD"), number(out, "numeric")
    assert approx == pytest.approx(d1(x), rel=1e-9)
    difference = float(re.search(r"\|AD - numeric\| = (\S+)", out).group(1))
    assert difference == pytest.approx(abs(ad - approx), rel=1e-3, abs=1e-300)
    assert "compare: OK" in out


def test_compare_second_order(capfd):
    text, x, _, _, d2 = FORMULAS[0]
    code, out, err = run([text, "--at", repr(x), "--order", "2", "--compare"], capfd)
    assert code == 0
    assert number(out, "numeric", "f''(x)") == pytest.approx(d2(x), rel=1e-7)


@pytest.mark.parametrize("text, x, f, d1, d2", FORMULAS, ids=IDS)
def test_trace(capfd, text, x, f, d1, d2):
    code, out, err = run([text, "--at", repr(x), "--trace"], capfd)
    assert code == 0 and err == ""
    lines = out.splitlines()
    rows = table(lines)
    assert rows["x"] == (pytest.approx(x), 1.0)
    last = next(line for line in lines if line.startswith("output"))
    name, value, tangent = re.match(r"output (v\d+): value (\S+), tangent (\S+)", last).groups()
    assert name == f"v{len(rows) - 1}"
    assert float(value) == pytest.approx(f(x), rel=1e-7)
    assert float(tangent) == pytest.approx(d1(x), rel=1e-7)


def test_trace_rows_of_a_product(capfd):
    code, out, _ = run(["x**2*sin(x)", "--at", "1.5", "--trace"], capfd)
    x = 1.5
    rows = table(out.splitlines())
    assert rows == {
        "x": (x, 1.0),
        "v1": (pytest.approx(x * x, rel=1e-7), pytest.approx(2 * x, rel=1e-7)),
        "v2": (pytest.approx(math.sin(x), rel=1e-7), pytest.approx(math.cos(x), rel=1e-7)),
        "v3": (
            pytest.approx(x * x * math.sin(x), rel=1e-7),
            pytest.approx(2 * x * math.sin(x) + x * x * math.cos(x), rel=1e-7),
        ),
    }


def test_formula_starting_with_minus_after_double_dash(capfd):
    code, out, _ = run(["--at", "2", "--", "-x**3"], capfd)
    assert code == 0
    assert number(out, "AD") == -12.0


def test_singular_point_prints_inf(capfd):
    code, out, _ = run(["sqrt(x)", "--at", "0"], capfd)
    assert code == 0
    assert number(out, "AD") == math.inf


# ---------------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------------

HOSTILE = [
    "__import__('os').system('echo hi')",
    "__import__('os').system('touch pwned')",
    "open('pwned', 'w').write('x')",
    "().__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__",
    "[x for x in ()]",
    "lambda: 1",
    "'a'*9",
    "open('f')",
    "exec('import os')",
    "getattr(x, 'real')",
    "x[0]",
    "sin(x=1)",
    "sin(*x)",
    "y",
    "import os",
    "x" * 1001,
    "(" * 300 + "x" + ")" * 300,
    "-" * 300 + "x",
    "9**9**9",
    "x**9**9**9",
    "1/0",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_formula_refused_without_side_effects(capfd, tmp_path, monkeypatch, text):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["--at", "1", "--", text], capfd)
    assert code == 2
    assert out == ""  # captured at the file-descriptor level: a shell command would show here
    assert err.startswith("dualdiff: error: ") and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["x**2"], "--at"),
        (["--at", "1"], "need a formula"),
        (["--trace"], "need a formula"),
        (["x", "--at", "nan"], "finite"),
        (["x", "--at", "one"], "not a number"),
        (["x", "--at", "1", "--order", "0"], "from 1 to 170"),
        (["x", "--at", "1", "--order", "1.5"], "integer"),
        (["x", "--at", "1", "--bogus"], "unrecognized"),
    ],
)
def test_usage_errors(capfd, argv, fragment):
    code, out, err = run(argv, capfd)
    assert code == 2 and out == ""
    assert fragment in err


def test_evaluation_failure_exits_1(capfd, monkeypatch):
    def failing(n):
        def nth(f, x):
            raise NotImplementedError("no Taylor rule for sinc")

        return nth

    monkeypatch.setattr(cli, "_nth_derivative", failing)
    code, out, err = run(["sinc(x)", "--at", "1"], capfd)
    assert code == 1
    assert err == "dualdiff: error: evaluating sinc(x) at x = 1.0 failed: no Taylor rule for sinc\n"


def test_help_documents_the_grammar(capfd):
    code, out, _ = run(["--help"], capfd)
    assert code == 0
    for fragment in ("--at", "--order", "--compare", "--trace", "examples:", "9**9**9",
                     "sigmoid", "asin", "pi", "1000 characters", "exit status"):  # fmt: skip
        assert fragment in out, fragment


def test_demo_into_a_closed_pipe_is_quiet():
    # ``python -m dualdiff | head -1``: the reader leaves early; no traceback, exit status 0
    root = str(Path(dualdiff.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    demo = subprocess.Popen(
        [sys.executable, "-m", "dualdiff"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    demo.stdout.readline()
    demo.stdout.close()
    _, err = demo.communicate(timeout=60)
    assert demo.returncode == 0 and b"Traceback" not in err


# ---------------------------------------------------------------------------------------------
# Bounds: the supported orders, points and formulas, and a numeric comparison that fails
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["171", "1000", "99999999999999999999", "9" * 5000])
def test_order_above_170_is_a_usage_error_naming_the_range(capfd, order):
    code, out, err = run(["x**2", "--at", "1.0", "--order", order], capfd)
    assert code == 2 and out == ""
    assert "from 1 to 170" in err and "n!" in err
    assert len(err) < 400  # a 5000-digit order is not echoed back whole


@pytest.mark.parametrize("order", ["0", "-1", "-1e3", "3.0", "1e3", "", "three", "0x10"])
def test_order_that_is_no_positive_integer_is_a_usage_error(capfd, order):
    code, out, err = run(["x**2", "--at", "1.0", "--order", order], capfd)
    assert code == 2 and out == ""
    assert "the order must be an integer from 1 to 170" in err


@pytest.mark.skipif(not HAS_TAYLOR, reason="orders above 2 need Taylor mode")
def test_order_170_is_supported(capfd):
    # exp's derivatives are all exp; at 0 every one is 1 (the 170th carries the factor 170!)
    code, out, err = run(["exp(x)", "--at", "0", "--order", "170"], capfd)
    assert code == 0 and err == ""
    assert number(out, "AD", "f^(170)(x)") == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize(
    "point, expected",
    [("-2e0", 12.0), ("-1e-1", 0.03), ("-.5", 0.75), ("-2", 12.0), ("  -2  ", 12.0)],
)
def test_negative_points_in_every_spelling(capfd, point, expected):
    # argparse reads "-2e0" as an option unless the value is attached to --at
    for argv in (["x**3", "--at", point], ["x**3", f"--at={point}"]):
        code, out, err = run(argv, capfd)
        assert code == 0 and err == "", argv
        assert number(out, "AD") == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    "point, fragment",
    [
        ("-inf", "finite"),
        ("inf", "finite"),
        ("-nan", "finite"),
        ("1e999", "too large"),
        ("-1e999", "too large"),
        ("1" * 5000, "too large"),
        ("1+2j", "complex"),
        ("2j", "complex"),
        ("-x", "not a number"),
        ("", "not a number"),
    ],
)
def test_points_that_are_no_finite_real_number_are_usage_errors(capfd, point, fragment):
    code, out, err = run(["x", "--at", point], capfd)
    assert code == 2 and out == ""
    assert fragment in err and len(err) < 400


def test_an_option_is_not_taken_for_the_point(capfd):
    code, out, err = run(["x", "--at", "--compare"], capfd)
    assert code == 2 and out == "" and "--at" in err


def test_formula_starting_with_minus_before_double_dash_says_how(capfd):
    for formula in ("-x**3", "-" * 10000 + "x"):
        code, out, err = run([formula, "--at", "2"], capfd)
        assert code == 2 and out == ""
        assert "goes after --" in err and len(err) < 400
    code, out, err = run(["x", "--at", "2", "--bogus"], capfd)
    assert code == 2 and "unrecognized arguments: --bogus\n" in err  # a mistyped option


def test_compare_overflow_keeps_the_ad_answer(capfd):
    # the reproduction: f(1e300) overflows, but the 9th derivative of x**2 is exactly 0
    code, out, err = run(["x**2", "--at", "1e300", "--order", "9", "--compare"], capfd)
    assert code == 0 and err == ""
    assert number(out, "AD", "f^(9)(x)") == 0.0
    assert re.search(r"^numeric  f\^\(9\)\(x\) unavailable: f\(x\) = inf is not finite", out, re.M)


@pytest.mark.skipif(not HAS_TAYLOR, reason="orders above 2 need Taylor mode")
def test_compare_overflow_of_the_step_keeps_the_ad_answer(capfd):
    # f(x) is finite, but the Richardson step 1.25e299 to the 9th power overflows
    code, out, err = run(["sin(x)", "--at", "1e300", "--order", "9", "--compare"], capfd)
    assert code == 0 and err == ""
    assert number(out, "AD", "f^(9)(x)") == pytest.approx(math.cos(1e300), rel=1e-12)
    line = next(line for line in out.splitlines() if line.startswith("numeric"))
    assert "unavailable" in line and "overflow" in line


@pytest.mark.parametrize(
    "text, x, ad",
    [("sqrt(x)", "0", math.inf), ("log(x)", "-1", -1.0), ("1/x", "0", -math.inf)],
)
def test_compare_with_no_finite_numeric_derivative_keeps_the_ad_answer(capfd, text, x, ad):
    code, out, err = run([text, "--at", x, "--compare"], capfd)
    assert code == 0 and err == ""
    assert number(out, "AD") == ad
    numeric_line = next(line for line in out.splitlines() if line.startswith("numeric"))
    assert "unavailable" in numeric_line and "not finite" in numeric_line
    assert "kink" not in out and "|AD - numeric|" not in out


@pytest.mark.parametrize("order", ["1", "3"])
def test_any_failure_of_the_numeric_comparison_keeps_the_ad_answer(capfd, monkeypatch, order):
    if order == "3" and not HAS_TAYLOR:
        pytest.skip("orders above 2 need Taylor mode")

    def failing(*args, **kwargs):
        raise ValueError("math domain error")

    monkeypatch.setattr(cli.comparison, "compare", failing)
    monkeypatch.setattr(cli.numeric, "derivative", failing)
    code, out, err = run(["x**4", "--at", "2", "--order", order, "--compare", "--trace"], capfd)
    assert code == 0 and err == ""
    label = "f'(x)" if order == "1" else "f^(3)(x)"
    assert number(out, "AD", label) == (32.0 if order == "1" else 48.0)
    reason = "unavailable: the numeric differences failed (ValueError: math domain error)"
    assert f"numeric  {label} {reason}" in out
    assert "forward trace" in out  # the rest of the command still runs


def test_numeric_comparison_is_skipped_above_its_order(capfd, monkeypatch):
    called = []
    real = cli.numeric.derivative

    def recording(f, x, n=1, **kwargs):
        called.append(n)
        return real(f, x, n=n, **kwargs)

    monkeypatch.setattr(cli.numeric, "derivative", recording)
    top = cli.NUMERIC_MAX_ORDER
    if HAS_TAYLOR:
        code, out, _ = run(["exp(x)", "--at", "0.5", "--order", str(top), "--compare"], capfd)
        assert code == 0 and called == [top]
        # no digit left at this order, and the error estimate says so
        approx = number(out, "numeric", f"f^({top})(x)")
        estimate = float(re.search(r"error estimate (\S+)\)", out).group(1))
        assert estimate >= abs(approx - math.exp(0.5))
    for order in (top + 1, 170):
        called.clear()
        code, out, err = run(["exp(x)", "--at", "0.5", "--order", str(order), "--compare"], capfd)
        if not HAS_TAYLOR:
            assert code == 2
            continue
        assert code == 0 and err == "" and called == []
        assert number(out, "AD", f"f^({order})(x)") == pytest.approx(math.exp(0.5), rel=1e-12)
        assert f"skipped: numeric differences of order above {top}" in out


def test_the_numeric_order_limit_is_where_numeric_differences_lose_every_digit():
    # The reason for NUMERIC_MAX_ORDER, on smooth functions of unit scale: a few digits at
    # order 6, none at all just above the limit.
    top = cli.NUMERIC_MAX_ORDER
    for f, x, exact in [(math.exp, 0.5, lambda n: math.exp(0.5)),
                        (math.sin, 0.3, lambda n: math.sin(0.3 + n * math.pi / 2))]:  # fmt: skip
        for n, correct in ((6, True), (top + 1, False)):
            value = dualdiff.numeric.derivative(f, x, n=n, method="richardson")
            assert (abs(value - exact(n)) < 0.1 * abs(exact(n))) == correct, (f, n)


def test_main_reads_sys_argv(capfd, monkeypatch):
    # the console script calls main() without arguments
    monkeypatch.setattr(sys, "argv", ["dualdiff", "x**3", "--at", "-2e0"])
    code, out, err = run(None, capfd)
    assert code == 0 and err == ""
    assert number(out, "AD") == 12.0
    monkeypatch.setattr(sys, "argv", ["dualdiff", "x**3", "--at", "1", "--order", "171"])
    code, out, err = run(None, capfd)
    assert code == 2 and out == "" and "from 1 to 170" in err


@pytest.mark.skipif(not HAS_TAYLOR, reason="orders above 2 need Taylor mode")
def test_trace_at_a_higher_order_says_it_shows_first_derivatives(capfd):
    code, out, err = run(["x**3", "--at", "2", "--order", "3", "--trace"], capfd)
    assert code == 0 and err == ""
    assert number(out, "AD", "f^(3)(x)") == 6.0
    assert "(tangent = f', first order only; f^(3)(x) above is not traced)" in out
    rows = table(out.splitlines())
    assert rows[max(rows, key=lambda name: (len(name), name))] == (8.0, 12.0)  # x**3 and 3x**2


@pytest.mark.skipif(not HAS_TAYLOR, reason="orders above 2 need Taylor mode")
def test_the_api_agrees_with_the_command_line_range():
    # 170 is the highest order: a clear ValueError above it, a right number (or the overflow
    # that the true value is) at it
    assert dualdiff.derivative(dualdiff.sin, 1.0, n=170) == pytest.approx(-math.sin(1.0), rel=1e-12)
    # 170! * 2**171 exceeds the float64 range
    assert dualdiff.derivative(lambda x: 1 / (1 - x), 0.5, n=170) == math.inf
    for n in (171, 10**30):
        with pytest.raises(ValueError, match="at most 170"):
            dualdiff.derivative(dualdiff.sin, 1.0, n=n)
