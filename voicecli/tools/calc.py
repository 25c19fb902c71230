"""A calculator for the model: arithmetic on a parsed expression tree, never ``eval``.

Only numbers, + - * / // % **, parentheses, unary signs, the names in ``CONSTANTS`` and calls
of the functions in ``FUNCTIONS`` are accepted. Sizes are bounded (expression length, tree
size, exponents, factorials) so a hostile expression cannot hang or exhaust the process.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

MAX_LENGTH = 300
MAX_NODES = 200
MAX_EXPONENT = 1000
MAX_FACTORIAL = 170  # the largest whose result is still a float
MAX_MAGNITUDE = 1e308


class CalcError(ValueError):
    """The expression is not something the calculator takes (message says why)."""


Number = int | float

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


def _factorial(x: Number) -> Number:
    if not float(x).is_integer() or x < 0:
        raise CalcError("factorial takes a whole number >= 0")
    if x > MAX_FACTORIAL:
        raise CalcError(f"factorial is limited to {MAX_FACTORIAL}")
    return math.factorial(int(x))


FUNCTIONS: dict[str, Callable[..., Number]] = {
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "degrees": math.degrees,
    "radians": math.radians,
    "floor": math.floor,
    "ceil": math.ceil,
    "factorial": _factorial,
    "hypot": math.hypot,
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}


def evaluate(expression: str) -> Number:
    """The value of ``expression``; CalcError for anything not allowed or not computable."""
    text = expression.strip().replace("^", "**").replace("×", "*").replace("÷", "/")
    if not text:
        raise CalcError("empty expression")
    if len(text) > MAX_LENGTH:
        raise CalcError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise CalcError(f"not an arithmetic expression: {expression!r}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalcError("expression too long")
    try:
        value = _eval(tree.body)
    except ZeroDivisionError:
        raise CalcError("division by zero") from None
    except OverflowError:
        raise CalcError("result too large") from None
    except (ValueError, TypeError) as e:
        if isinstance(e, CalcError):
            raise
        raise CalcError(f"math error: {e}") from None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _eval(node: ast.AST) -> Number:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise CalcError(f"only numbers are allowed, not {node.value!r}")
        if isinstance(node.value, float) and math.isinf(node.value):  # 1e309
            raise CalcError(f"the number {ast.unparse(node)} is too large (at most 1.8e308)")
        return node.value
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise CalcError(f"unknown name {node.id!r}")
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _checked(_UNARY[type(node.op)](_eval(node.operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise CalcError(f"exponent larger than {MAX_EXPONENT}")
        if (
            isinstance(node.op, ast.Pow)
            and abs(left) > 1
            and abs(right) * math.log10(abs(left)) > 308
        ):
            raise CalcError("result too large")
        return _checked(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else "this"
            raise CalcError(f"unknown function {name!r}; known: {', '.join(sorted(FUNCTIONS))}")
        if node.keywords:
            raise CalcError("functions take positional arguments only")
        args = [_eval(a) for a in node.args]
        return _checked(FUNCTIONS[node.func.id](*args))
    raise CalcError(f"not allowed in an expression: {ast.unparse(node)!r}")


def _checked(value: Any) -> Number:
    if isinstance(value, complex):
        raise CalcError("the result is a complex number")
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise CalcError("not a number")
    if isinstance(value, float) and math.isnan(value):
        raise CalcError("the result is not a number (NaN)")
    if abs(value) > MAX_MAGNITUDE:
        raise CalcError("result too large")
    return value
