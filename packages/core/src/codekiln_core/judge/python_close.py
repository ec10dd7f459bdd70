"""``allclose``/``isclose`` in judged Python tests (runs inside the sandbox; stdlib only).

Approximate checks are where an answer that cannot compute the result would patch
``numpy.allclose`` or ``math.isclose``, or return an object numpy turns into "close". So the
judge computes them: ``np.allclose`` (and ``np.isclose`` of two scalars) with numpy's
semantics - ``|a - b| <= atol + rtol * |b|`` elementwise, infinities equal only to
themselves, NaN only with ``equal_nan``, shapes broadcast - over plain data only, and
``math.isclose`` by the original C function after the same check. Calls of these names on
anything but the ``numpy``/``math`` modules go through unchanged. Like ``python_values``,
everything is captured before the answer runs; nothing here loads a global name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def make_close_check(plain: Callable[[Any], bool],
                     norm: Callable[[Any, int], Any]) -> Callable[..., Any]:
    """``__judge_close__(base, name, *args, **kwargs)``, given the value checks."""
    type_, id_, set_, map_, getattr_ = type, id, set, map, getattr
    len_, range_, abs_, zip_, tuple_, list_ = len, range, abs, zip, tuple, list
    enumerate_, all_, max_, bool_, str_, bytes_ = enumerate, all, max, bool, str, bytes
    assertion_error, type_error, value_error = AssertionError, TypeError, ValueError
    scalar_ids = frozenset(map(id, (int, float, complex, bool, str, bytes, type(None))))
    module_type: Any = type(math)
    module_dict = module_type.__dict__["__dict__"].__get__
    math_isclose, inf = math.isclose, math.inf

    def numbers(value: Any) -> Any:
        """Nested lists of plain numbers, as numpy would read an ``allclose`` argument."""
        kind = type_(value)
        if id_(kind) in scalar_ids and kind is not str_ and kind is not bytes_:
            if value is None:
                raise type_error("judge: allclose needs numbers, got None")
            return value
        if kind is list_ or kind is tuple_:
            return [numbers(item) for item in value]
        tolist = getattr_(value, "tolist", None)
        if tolist is not None:
            return numbers(tolist())
        raise type_error(f"judge: allclose needs numbers, got {kind.__name__}")

    def shape_of(tree: Any) -> tuple[int, ...]:
        if type_(tree) is not list_:
            return ()
        shapes = set_(map_(shape_of, tree))
        if len_(shapes) > 1:
            raise value_error("judge: allclose of an inhomogeneous (ragged) sequence")
        return (len_(tree), *(shapes.pop() if shapes else ()))

    def broadcast(first: tuple[int, ...], second: tuple[int, ...]) -> tuple[int, ...]:
        width = max_(len_(first), len_(second))
        a, b = (1,) * (width - len_(first)) + first, (1,) * (width - len_(second)) + second
        out = []
        for x, y in zip_(a, b):
            if x != y and 1 not in (x, y):
                raise value_error(f"judge: allclose shapes {first} and {second} differ")
            out.append(y if x == 1 else x)
        return tuple_(out)

    def element(tree: Any, shape: tuple[int, ...], index: tuple[int, ...]) -> Any:
        offset = len_(index) - len_(shape)
        for dim, size in enumerate_(shape):
            tree = tree[0 if size == 1 else index[offset + dim]]
        return tree

    def indices(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
        out: list[tuple[int, ...]] = [()]
        for size in shape:
            out = [(*index, at) for index in out for at in range_(size)]
        return out

    def close(x: Any, y: Any, rtol: float, atol: float, equal_nan: bool) -> bool:
        if x == y:
            return True
        if x != x or y != y:  # NaN
            return bool_(equal_nan) and x != x and y != y
        if abs_(x) == inf or abs_(y) == inf:
            return False
        return bool_(abs_(x - y) <= atol + rtol * abs_(y))

    def np_allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
                    equal_nan: bool = False) -> bool:
        if not (plain(a) and plain(b)):
            raise assertion_error("judge: allclose on a program object")
        x, y = numbers(norm(a, 0)), numbers(norm(b, 0))
        sx, sy = shape_of(x), shape_of(y)
        if sx == sy and len_(sx) <= 1:
            pairs = zip_(x, y) if sx else ((x, y),)
            return all_(close(p, q, rtol, atol, equal_nan) for p, q in pairs)
        shape = broadcast(sx, sy)
        return all_(close(element(x, sx, i), element(y, sy, i), rtol, atol, equal_nan)
                   for i in indices(shape))

    def judge_close(base: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        """``np.allclose``/``np.isclose``/``math.isclose``, judged here rather than by code the
        answer could have patched; other objects' methods of these names are called as is."""
        if type_(base) is module_type:
            module = module_dict(base).get("__name__")
            if not all_(plain(arg) for arg in args) and module in ("numpy", "math"):
                raise assertion_error(f"judge: {name} on a program object")
            if module == "numpy" and name == "allclose":
                return np_allclose(*args, **kwargs)
            if (module == "numpy" and name == "isclose" and len_(args) >= 2
                    and not (shape_of(numbers(norm(args[0], 0)))
                             or shape_of(numbers(norm(args[1], 0))))):
                return np_allclose(*args, **kwargs)  # isclose of two scalars
            if module == "math" and name == "isclose":
                return math_isclose(*args, **kwargs)
        return getattr_(base, name)(*args, **kwargs)

    return judge_close
