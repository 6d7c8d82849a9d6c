"""A safe parser for formulas such as ``"x**2*sin(x)"``, for the command line.

The text is parsed with ``ast`` and checked against a whitelist: numbers, the variable(s), the
constants ``pi``, ``e`` and ``tau``, ``+ - * / **``, unary ``-``/``+``, parentheses, and calls of
dualdiff's elementary functions by name (the rule table plus a few familiar aliases such as
``abs``, ``ln`` and ``asin``). Everything else is refused with an :class:`ExpressionError`. The
accepted tree is compiled into a short postfix program of rule functions and evaluated on a
stack; nothing is ever passed to ``eval``, ``exec`` or ``compile``.

All numbers are floats, so no operation can grow without bound (``9**9**9`` cannot hang), and a
part of the formula that does not involve the variable is computed once at parse time; it must
give a finite number (``9**9**9``, ``1/0`` and ``log(0)`` are refused).
"""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..rules.elementwise import RULES

__all__ = ["ExpressionError", "Expression", "parse", "FUNCTIONS", "CONSTANTS"]

MAX_LENGTH = 1000
"""The longest formula accepted, in characters."""

MAX_DEPTH = 200
"""The deepest nesting of operations accepted (Python's own parser stops at 200 parentheses)."""

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}

_ALIASES = {
    "abs": "absolute",
    "conj": "conjugate",
    "mod": "remainder",
    "pow": "power",
    "ln": "log",
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "atan2": "arctan2",
    "asinh": "arcsinh",
    "acosh": "arccosh",
    "atanh": "arctanh",
    "degrees": "rad2deg",
    "radians": "deg2rad",
    "expit": "sigmoid",
}

# ldexp needs an integer exponent, and every number in a formula is a float.
_EXCLUDED = frozenset({"ldexp"})

FUNCTIONS: dict[str, tuple[Callable[..., Any], int]] = {
    name: (rule.function, rule.nin) for name, rule in RULES.items() if name not in _EXCLUDED
}
FUNCTIONS.update({alias: FUNCTIONS[name] for alias, name in _ALIASES.items() if name in FUNCTIONS})
"""Every function a formula may call, by name: ``(function, number of arguments)``."""

_BINARY = {
    ast.Add: RULES["add"].function,
    ast.Sub: RULES["subtract"].function,
    ast.Mult: RULES["multiply"].function,
    ast.Div: RULES["divide"].function,
    ast.Pow: RULES["power"].function,
}
_NEGATIVE = RULES["negative"].function

_OPERATOR_SYMBOLS = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.Invert: "~",
    ast.Not: "not",
}

_REFUSED = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.JoinedStr: "strings",
    ast.Compare: "comparisons",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "conditional expressions",
    ast.Tuple: "tuples",
    ast.List: "lists",
    ast.Set: "sets",
    ast.Dict: "dicts",
    ast.NamedExpr: "assignments",
    ast.Starred: "starred arguments",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
}


class ExpressionError(ValueError):
    """A formula that is not accepted: the message says what is wrong."""


_CONST, _VAR, _CALL1, _CALL2 = range(4)


class Expression:
    """A parsed formula, callable as ``expression(x)`` (one argument per variable).

    Works on plain numbers, Duals and anything else dualdiff's rule functions accept, so
    ``dualdiff.derivative(parse("x**2"), 3.0) == 6.0``.
    """

    def __init__(self, text: str, variables: tuple[str, ...], program: list[tuple]) -> None:
        self.text = text
        self.variables = variables
        self._program = program

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def __str__(self) -> str:
        return self.text

    def __call__(self, *args: Any) -> Any:
        if len(args) != len(self.variables):
            raise TypeError(
                f"the expression {self.text!r} takes {len(self.variables)} argument(s) "
                f"({', '.join(self.variables)}), got {len(args)}"
            )
        stack: list[Any] = []
        for kind, item in self._program:
            if kind == _CONST:
                stack.append(item)
            elif kind == _VAR:
                stack.append(args[item])
            elif kind == _CALL1:
                stack[-1] = item(stack[-1])
            else:
                y = stack.pop()
                stack[-1] = item(stack[-1], y)
        return stack[0]


def parse(text: str, variables: Sequence[str] = ("x",)) -> Expression:
    """Parse ``text`` into an :class:`Expression` of ``variables``, or raise ExpressionError."""
    if not isinstance(text, str):
        raise TypeError(f"the expression must be a string, got {type(text).__name__}")
    variables = tuple(variables)
    for v in variables:
        if not (isinstance(v, str) and v.isidentifier()) or v in FUNCTIONS:
            raise ValueError(f"variable names must be identifiers that name no function: {v!r}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is too long ({len(text)} characters, at most {MAX_LENGTH})"
        )
    source = text.strip()
    if not source:
        raise ExpressionError("the expression is empty")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid syntax: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"invalid expression: {exc}") from None
    _check(tree.body, source, variables)
    program = _compile(tree.body, source, variables)
    return Expression(source, variables, program)


def _check(root: ast.AST, source: str, variables: tuple[str, ...]) -> None:
    """Refuse every node outside the whitelist, and nesting deeper than MAX_DEPTH (iteratively,
    so no input can exhaust the stack)."""
    pending = [(root, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"the expression is nested too deeply (more than {MAX_DEPTH} levels)"
            )
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                raise ExpressionError(_operator_message(node.op))
            pending += [(node.left, depth + 1), (node.right, depth + 1)]
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise ExpressionError(_operator_message(node.op))
            pending.append((node.operand, depth + 1))
        elif isinstance(node, ast.Constant):
            _number(node, source)
        elif isinstance(node, ast.Name):
            if node.id in variables or node.id in CONSTANTS:
                continue
            if node.id in FUNCTIONS:
                raise ExpressionError(f"{node.id} is a function: call it, as in {node.id}(x)")
            raise ExpressionError(f"unknown name {node.id!r}; {_names_hint(variables)}")
        elif isinstance(node, ast.Call):
            pending += [(a, depth + 1) for a in _call_arguments(node, variables)]
        else:
            what = _REFUSED.get(type(node), f"'{type(node).__name__}' nodes")
            raise ExpressionError(f"{what} cannot be used in an expression")


def _operator_message(op: ast.AST) -> str:
    symbol = _OPERATOR_SYMBOLS.get(type(op), type(op).__name__)
    hint = " (use ** for powers)" if isinstance(op, ast.BitXor) else ""
    return f"the operator {symbol} is not allowed; use + - * / ** and unary -{hint}"


def _names_hint(variables: tuple[str, ...]) -> str:
    return (
        f"the variable is {', '.join(variables)}, the constants are {', '.join(CONSTANTS)}, and "
        "functions are called by name (see dualdiff --help)"
    )


def _number(node: ast.Constant, source: str) -> float:
    value = node.value
    if type(value) is complex:
        raise ExpressionError("complex numbers are not supported in an expression")
    if type(value) not in (int, float):
        kind = "strings" if isinstance(value, (str, bytes)) else repr(value)
        raise ExpressionError(f"{kind} cannot be used in an expression")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ExpressionError(f"the number {_segment(node, source)} is too large")
    return number


def _call_arguments(node: ast.Call, variables: tuple[str, ...]) -> list[ast.AST]:
    if not isinstance(node.func, ast.Name):
        raise ExpressionError("only dualdiff's functions can be called, by name, as in sin(x)")
    name = node.func.id
    if name not in FUNCTIONS:
        if name in variables or name in CONSTANTS:
            raise ExpressionError(f"{name} is not a function")
        raise ExpressionError(f"unknown function {name!r} (see dualdiff --help for the list)")
    if node.keywords:
        raise ExpressionError(f"keyword arguments are not allowed (in the call of {name})")
    if any(isinstance(a, ast.Starred) for a in node.args):
        raise ExpressionError(f"starred arguments are not allowed (in the call of {name})")
    nin = FUNCTIONS[name][1]
    if len(node.args) != nin:
        raise ExpressionError(
            f"{name} takes {nin} argument{'s' if nin > 1 else ''}, got {len(node.args)}"
        )
    return node.args


def _segment(node: ast.AST, source: str) -> str:
    return ast.get_source_segment(source, node) or type(node).__name__


def _compile(node: ast.AST, source: str, variables: tuple[str, ...]) -> list[tuple]:
    """The postfix program of a checked tree; parts without a variable become one constant."""
    if isinstance(node, ast.Constant):
        return [(_CONST, _number(node, source))]
    if isinstance(node, ast.Name):
        if node.id in variables:
            return [(_VAR, variables.index(node.id))]
        return [(_CONST, CONSTANTS[node.id])]
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand, source, variables)
        if isinstance(node.op, ast.UAdd):
            return operand
        return _fold(operand + [(_CALL1, _NEGATIVE)], node, source)
    if isinstance(node, ast.BinOp):
        left = _compile(node.left, source, variables)
        right = _compile(node.right, source, variables)
        return _fold(left + right + [(_CALL2, _BINARY[type(node.op)])], node, source)
    assert isinstance(node, ast.Call)
    function, nin = FUNCTIONS[node.func.id]
    code = [step for a in node.args for step in _compile(a, source, variables)]
    return _fold(code + [(_CALL1 if nin == 1 else _CALL2, function)], node, source)


def _fold(code: list[tuple], node: ast.AST, source: str) -> list[tuple]:
    """Evaluate ``code`` now if it involves no variable; the result must be a finite float."""
    if any(kind == _VAR for kind, _ in code):
        return code
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = Expression(source, (), code)()
    if not (isinstance(value, (float, np.floating)) and math.isfinite(value)):
        raise ExpressionError(
            f"{_segment(node, source)} is not a finite number (overflow, division by zero or "
            "outside the function's domain)"
        )
    return [(_CONST, float(value))]
