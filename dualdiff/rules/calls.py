"""A NumPy call taken apart by its table entry: where its operands sit, and the same call again
with other operands.

Every carrier's generic handlers use this, so the question "which arguments of ``np.concatenate``
carry a derivative" is answered by the function table alone (``Entry.operands``, ``Entry.values``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from ..core import errors
from .functions import Entry

__all__ = ["Call", "operand_places"]

Place = tuple[str, Any]  # ("a", position) or ("k", keyword)


@functools.cache
def _parameters(func: Any) -> dict[str, tuple[int, Any]]:
    """Each parameter of ``func``: its position and kind."""
    parameters = errors.signature(func).parameters.values()
    return {p.name: (i, p.kind) for i, p in enumerate(parameters)}


def _locate(func: Any, args: list, kwargs: dict, name: str) -> list[Place]:
    """Where the argument ``name`` sits in a call (every position of a ``*args`` parameter); an
    empty list when it was not passed."""
    entry = _parameters(func).get(name)
    if entry is not None:
        i, kind = entry
        if kind is inspect.Parameter.VAR_POSITIONAL:
            return [("a", j) for j in range(i, len(args))]
        if kind is not inspect.Parameter.KEYWORD_ONLY and i < len(args):
            return [("a", i)]
    return [("k", name)] if name in kwargs else []


@functools.cache
def _operand_names(operands: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
    """Each declared operand as (depth, parameter name): ``"*arrays"`` is (1, "arrays")."""
    return tuple((len(n) - len(n.lstrip("*")), n.lstrip("*")) for n in operands)


def _leaves(a: Any, path: tuple[int, ...]) -> list[tuple[tuple[int, ...], Any]]:
    """The non-list items of nested lists, each with its path."""
    if type(a) in (list, tuple):
        out = []
        for j, item in enumerate(a):
            out += _leaves(item, path + (j,))
        return out
    return [(path, a)]


def operand_places(entry: Entry, args: list, kwargs: dict) -> list[tuple[Place, int]]:
    """Where the call's operands sit, each with its depth (0: an array, 1: a sequence of
    arrays, 2: nested lists of arrays), as ``entry.operands`` declares them. Each argument of a
    ``*args`` parameter (``np.einsum``'s operands) is one array."""
    func = entry.function
    parameters = _parameters(func)
    places = []
    for depth, name in _operand_names(entry.operands):
        spread = name in parameters and parameters[name][1] is inspect.Parameter.VAR_POSITIONAL
        places += [(p, depth - spread if depth else 0) for p in _locate(func, args, kwargs, name)]
    return places


def _copied(a: Any) -> list:
    """Nested lists (or tuples) as new nested lists, the items themselves shared."""
    return [_copied(item) if type(item) in (list, tuple) else item for item in a]


class Call:
    """One call of ``entry.function``: its operands found, its value arguments made plain.

    Parameters
    ----------
    entry : Entry
        The function's table entry.
    args, kwargs
        The call's arguments as NumPy passed them to ``__array_function__``.
    plain : callable
        Maps an argument to its plain value (for ``entry.values`` parameters).
    is_carrier : callable
        Whether an object carries a derivative (a dual of any type).

    Attributes
    ----------
    operands : list
        The operands in order: the items of a sequence operand one by one.
    """

    __slots__ = ("entry", "args", "kwargs", "places", "operands")

    def __init__(
        self,
        entry: Entry,
        args: Any,
        kwargs: dict,
        plain: Callable[[Any], Any],
        is_carrier: Callable[[Any], bool],
    ) -> None:
        func = entry.function
        self.entry = entry
        self.args, self.kwargs = args, kwargs = list(args), dict(kwargs)
        taken: set[Place] = set()
        places = self.places = []
        for depth, name in _operand_names(entry.operands):
            for place in _locate(func, args, kwargs, name):
                taken.add(place)
                a = (args if place[0] == "a" else kwargs)[place[1]]
                if depth and type(a) in (list, tuple):
                    if depth == 2:
                        places += [(place, path) for path, _ in _leaves(a, ())]
                    else:
                        places += [(place, (j,)) for j in range(len(a))]
                else:
                    places.append((place, ()))
        for name in entry.values:
            for place in _locate(func, args, kwargs, name):
                taken.add(place)
                self._set(place, _plain_deep(self._get(place), plain))
        for i, a in enumerate(args):
            if ("a", i) not in taken and _holds(a, is_carrier):
                self._refuse(f"argument {i + 1}")
        for key, a in kwargs.items():
            if ("k", key) not in taken and _holds(a, is_carrier):
                self._refuse(f"{key}=")
        self.operands = [self._item(p) for p in places]

    def _refuse(self, what: str) -> None:
        operands = ", ".join(n.lstrip("*") for n in self.entry.operands) or "none"
        raise TypeError(
            f"{errors.function_name(self.entry.function)}: dualdiff differentiates through its "
            f"operands ({operands}) only; {what} must not carry a derivative "
            f"{errors.NOT_DIFFERENTIATED}"
        )

    def _get(self, place: Place) -> Any:
        return (self.args if place[0] == "a" else self.kwargs)[place[1]]

    def _set(self, place: Place, a: Any) -> None:
        (self.args if place[0] == "a" else self.kwargs)[place[1]] = a

    def _item(self, place: tuple[Place, tuple[int, ...]]) -> Any:
        a = self._get(place[0])
        for j in place[1]:
            a = a[j]
        return a

    def arguments(self, operands: list) -> tuple[list, dict]:
        """The call's arguments with the operands replaced by ``operands``."""
        args, kwargs = list(self.args), dict(self.kwargs)
        copied: dict[Place, Any] = {}
        for (place, path), a in zip(self.places, operands):
            container = args if place[0] == "a" else kwargs
            if not path:
                container[place[1]] = a
            elif len(path) == 1:  # an item of a sequence: the sequence copied once per call
                target = copied.get(place)
                if target is None:
                    target = copied[place] = container[place[1]] = list(container[place[1]])
                target[path[0]] = a
            else:  # nested lists (np.block): copied all the way down, once per call
                target = copied.get(place)
                if target is None:
                    target = copied[place] = container[place[1]] = _copied(container[place[1]])
                for j in path[:-1]:
                    target = target[j]
                target[path[-1]] = a
        return args, kwargs

    def call(self, operands: list) -> Any:
        """``entry.function`` with the operands replaced, the other arguments as given."""
        args, kwargs = self.arguments(operands)
        return self.entry.function(*args, **kwargs)

    def option(self, name: str, default: Any = None) -> Any:
        """The argument passed for parameter ``name`` (``default`` when it was not passed)."""
        places = _locate(self.entry.function, self.args, self.kwargs, name)
        return self._get(places[0]) if places else default


def _holds(a: Any, is_carrier: Callable[[Any], bool]) -> bool:
    if type(a) in (list, tuple):
        return any(_holds(item, is_carrier) for item in a)
    if type(a) is dict:
        return any(_holds(item, is_carrier) for item in a.values())
    return is_carrier(a)


def _plain_deep(a: Any, plain: Callable[[Any], Any]) -> Any:
    if type(a) in (list, tuple):
        return type(a)(_plain_deep(item, plain) for item in a)
    return plain(a)
