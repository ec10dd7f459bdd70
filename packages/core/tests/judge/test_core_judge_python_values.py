"""The judged comparisons: Python's own answer on plain data, never a program object's."""

from __future__ import annotations

import collections
import dis
import enum
import math
import types
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import pytest

from codekiln_core.judge import python_close, python_main, python_unittest, python_values

CHECKS = python_values.make_value_checks()
eq, ne, order = CHECKS["__judge_eq__"], CHECKS["__judge_ne__"], CHECKS["__judge_order__"]
contains, sub = CHECKS["__judge_in__"], CHECKS["__judge_sub__"]
NAN = float("nan")
SAME_NAN = [NAN]


class Point(NamedTuple):
    x: int
    y: int


class Color(enum.IntEnum):
    RED = 1


class Anything:
    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    def __lt__(self, other: object) -> bool:
        return True

    def __sub__(self, other: object) -> float:
        return 0.0

    __rsub__ = __sub__
    __hash__ = object.__hash__


class Vector:
    def __init__(self, x: int) -> None:
        self.x = x

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vector) and other.x == self.x

    def __add__(self, other: Vector) -> Vector:
        return Vector(self.x + other.x)

    __hash__ = object.__hash__


PLAIN_PAIRS: list[tuple[Any, Any]] = [
    (1, 1.0), (True, 1), (0.1 + 0.2, 0.3), (-0.0, 0.0), (NAN, NAN), ("a", "a"), (None, None),
    ([1, 2], [1, 2]), ((1,), [1]), ({"a": [1]}, {"a": [1]}), ({"a": 1}, {"a": 2}),
    ({1, 2}, frozenset({1, 2})), (SAME_NAN, SAME_NAN), ([NAN], [NAN]), (b"x", bytearray(b"x")),
    (collections.Counter("aab"), {"a": 2, "b": 1}), (Point(1, 2), (1, 2)), (Color.RED, 1),
    (collections.OrderedDict(a=1), {"a": 1}), (np.float64(0.5), 0.5), (np.int64(3), 3),
    (Decimal("0.5"), 0.5), ([(i, str(i)) for i in range(2000)], [(i, str(i)) for i in range(2000)]),
    ([[1, [2, [3]]]], [[1, [2, [4]]]]), ({}.keys(), set()), (range(3), range(3)),
]


@pytest.mark.parametrize(("left", "right"), PLAIN_PAIRS)
def test_plain_data_compares_as_python_does(left: Any, right: Any) -> None:
    assert bool(eq(left, right)) == bool(left == right)
    assert bool(ne(left, right)) == bool(left != right)
    assert bool(eq(right, left)) == bool(right == left)


def hostile_values() -> Iterator[Any]:
    class Slicey:
        __eq__ = slice  # an always-true __eq__ that runs no Python code
        __hash__ = object.__hash__

    class Text(str):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    class Bytes(bytearray):
        def __eq__(self, other: object) -> bool:
            return True

    yield from (Anything(), Slicey(), [Anything()], (1, Anything()), {"k": Anything()},
                {Anything(): 1}, Bytes(b"x"), np.array([Anything()], dtype=object),
                collections.deque([Anything()]), types.SimpleNamespace(x=Anything()))
    yield Text("x")  # compared by its text: equals "x" only


@pytest.mark.parametrize("value", list(hostile_values()), ids=lambda value: type(value).__name__)
def test_a_program_object_never_equals_plain_data(value: Any) -> None:
    for plain in (3, "y", [1], (1, 2), {"k": 3}, {1: 1}, b"y", None):
        assert not eq(value, plain) and not eq(plain, value)
        assert ne(value, plain) and ne(plain, value)


def test_program_objects_of_one_class_use_their_own_equality() -> None:
    assert eq(Vector(1) + Vector(2), Vector(3)) and not eq(Vector(1), Vector(2))
    assert eq([Vector(1)], [Vector(1)]) and not eq([Vector(1)], [Vector(2)])
    assert eq(Anything(), Anything())  # the class's own answer, as in a test of that class
    assert not eq([Anything()], [1]) and not eq(Vector(1), 1)


def test_ordering_membership_and_arithmetic_refuse_program_objects() -> None:
    assert order("<", 1, 2) and not order(">=", [1], [2])
    with pytest.raises(AssertionError, match="program object"):
        order("<", Anything(), 3)
    assert contains(3, [1, 2, 3]) and not contains(Anything(), [1, 2])
    assert contains(3, {3: 0}) and not contains("a", "bcd")
    with pytest.raises(AssertionError, match="gave plain data"):
        sub(Anything(), 0.3)
    assert sub(0.5, 0.25) == 0.25 and isinstance(CHECKS["__judge_add__"](Vector(1), Vector(2)),
                                                   Vector)
    assert CHECKS["__judge_mod__"]("%s", Anything()).startswith("<")  # formatting is fine


CLOSE_CASES: list[tuple[Any, Any, dict[str, Any]]] = [
    (1.0, 1.0 + 1e-9, {}), (1.0, 1.1, {}), ([1.0, 2.0], [1.0, 2.0000001], {}),
    ([[1.0, 2.0], [3.0, 4.0]], [1.0, 2.0], {}), ([1.0, 2.0], 1.0, {}), ([], [], {}),
    ([float("inf")], [float("inf")], {}), ([NAN], [NAN], {}), ([NAN], [NAN], {"equal_nan": True}),
    (np.array([0.1, 0.2]), [0.1, 0.2 + 1e-12], {}), ([0.3], [0.30001], {"atol": 1e-3}),
    ((1, 2), [1, 2], {}), ([True, False], [1, 0], {}), (3, 3.00000001, {"rtol": 0}),
]


@pytest.mark.parametrize(("a", "b", "options"), CLOSE_CASES)
def test_allclose_agrees_with_numpy(a: Any, b: Any, options: dict[str, Any]) -> None:
    assert CHECKS["__judge_close__"](np, "allclose", a, b, **options) == \
        bool(np.allclose(a, b, **options))


def test_allclose_and_isclose_errors_and_program_objects() -> None:
    close = CHECKS["__judge_close__"]
    with pytest.raises(ValueError, match="shapes"):
        close(np, "allclose", [1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="numbers"):
        close(np, "allclose", ["a"], ["a"])
    with pytest.raises(AssertionError, match="program object"):
        close(np, "allclose", Anything(), 1.0)
    with pytest.raises(AssertionError, match="program object"):
        close(math, "isclose", Anything(), 1.0)
    assert close(math, "isclose", 0.1 + 0.2, 0.3) and not close(math, "isclose", 1.0, 1.1)
    assert close(np, "isclose", 1.0, 1.0 + 1e-9) is True
    assert close(types.SimpleNamespace(isclose=lambda a, b: "own"), "isclose", 1, 2) == "own"


def _global_loads(code: types.CodeType, *, include_top: bool) -> set[tuple[str, str]]:
    found = set()
    stack = [code]
    while stack:
        current = stack.pop()
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
        if current is code and not include_top:
            continue
        if any(ins.opname == "STORE_NAME" and ins.argval == "__qualname__"
               for ins in dis.get_instructions(current)):
            continue  # a class body, run when the checks are made (before the answer)
        found |= {(current.co_name, ins.argval) for ins in dis.get_instructions(current)
                  if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    return found


def test_nothing_used_after_the_answer_starts_looks_up_a_global_name() -> None:
    """The answer may rebind builtins and module globals; the checks must not see it."""
    for factory in (python_values.make_value_checks, python_close.make_close_check,
                    python_unittest.make_unittest_checks, python_main.make_import):
        assert _global_loads(factory.__code__, include_top=False) == set(), factory.__name__
    assert _global_loads(python_main.finish_run.__code__, include_top=True) == set()
