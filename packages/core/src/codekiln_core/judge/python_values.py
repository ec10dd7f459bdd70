"""Type-checked comparisons for judged Python tests (runs inside the sandbox; stdlib only).

The judge rewrites every comparison, arithmetic operation and ``allclose``/``isclose`` call of
a test program into the functions made here. A value counts as *plain data* when every object
in it has a C-level type (whose methods no program can replace) or subclasses a builtin value
type, which is converted to its base first (a ``Counter`` becomes a ``dict``, a ``str``
subclass a ``str``). Instances of classes written in Python - the answer's own - are *program
objects*. Plain data compares with Python's own operators, so floats, NaN, ``1 == 1.0`` and
numpy scalars behave as always. A program object never equals plain data, cannot be ordered
against it, and cannot become plain data through arithmetic with it: an ``__eq__`` that always
says yes (or a ``__sub__`` that always gives 0) wins nothing. Two program objects of one class
compare with their own operators (tests of a class the task asked for).

``make_value_checks`` runs before the answer and captures every builtin it needs; the
functions it returns load no global name (a test checks this), so a program that rebinds
builtins or patches ``math``/``numpy`` afterwards changes nothing here.
"""

from __future__ import annotations

import collections
import itertools
import operator
import pickle
import types
from typing import Any

from codekiln_core.judge.python_close import make_close_check  # judge: local

IMMUTABLE_TYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE: C types, whose methods cannot be replaced
MAX_DEPTH = 100  # deeper values are not judged as plain data
SMALL = 32  # containers up to this size are checked item by item
#: Rewritten arithmetic calls ``__judge_<name>__(left, right)``.
ARITHMETIC = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
              "truediv": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod,
              "pow": operator.pow, "matmul": operator.matmul, "lshift": operator.lshift,
              "rshift": operator.rshift, "and": operator.and_, "or": operator.or_,
              "xor": operator.xor}
#: Rewritten ordering calls ``__judge_<name>__(left, right)``; chains name the operator.
ORDER = {"lt": ("<", operator.lt), "le": ("<=", operator.le), "gt": (">", operator.gt),
         "ge": (">=", operator.ge)}


class BuiltinsOnly(pickle.Pickler):
    """A pickler that refuses what it would not pickle natively: anything but exact builtin
    scalars and containers (it is never asked about those, so it walks them in C)."""

    def reducer_override(self, obj: Any) -> Any:
        raise TypeError("not a builtin value")


def make_value_checks() -> dict[str, Any]:
    """The ``__judge_*__`` functions a rewritten test program calls, keyed by name."""
    type_, id_, set_, map_, issubclass_, getattr_ = type, id, set, map, issubclass, getattr
    len_, range_, tuple_, list_, dict_ = len, range, tuple, list, dict
    frozenset_, str_, text_types, vars_ = frozenset, str, (str, bytes), vars
    assertion_error = AssertionError
    flags_of = type.__dict__["__flags__"].__get__
    arithmetic, order = dict(ARITHMETIC), {text: op for text, op in ORDER.values()}
    int_, float_ = int, float
    scalar_ids = frozenset(map(id, (int, float, complex, bool, str, bytes, type(None))))
    scalar_bases = ((bool, bool), (int, int.__int__), (float, float.__float__),
                    (complex, complex.__complex__), (str, str.__str__), (bytes, bytes.__bytes__))
    dict_items, dict_keys, dict_values = dict.items, dict.keys, dict.values
    list_iter, tuple_iter, set_iter, frozenset_iter = (list.__iter__, tuple.__iter__,
                                                       set.__iter__, frozenset.__iter__)
    # C containers that may hold program objects: their items are judged too
    walked_ids = frozenset(map(id, (collections.deque, type({}.keys()), type({}.values()),
                                    type({}.items()))))
    namespace_type = types.SimpleNamespace
    chain_two, builtins_only, exception = itertools.chain, BuiltinsOnly, Exception
    small, max_depth, immutable_type = SMALL, MAX_DEPTH, IMMUTABLE_TYPE
    sink = types.SimpleNamespace(write=collections.deque(maxlen=0).append)
    untrusted = object()

    def only_builtins(value: Any) -> bool:
        """Whether ``value`` is exact builtin containers of exact builtin scalars throughout.

        Small containers by their items' types; big ones (results of millions of tuples) by
        pickling them into nothing with a pickler that refuses every object it does not
        handle natively - exactly the builtin types - which walks them at C speed.
        """
        if len_(value) <= small:
            items = chain_two(dict_keys(value), dict_values(value)) if type_(value) is dict_ \
                else value
            if set_(map_(id_, map_(type_, items))) <= scalar_ids:
                return True
        try:
            builtins_only(sink, 5).dump(value)
        except exception:  # a refused object, or too deep to pickle
            return False
        return True

    def norm_items(items: Any, kind: type, depth: int) -> Any:
        out, changed = [], False
        for item in items:
            value = norm(item, depth + 1)
            if value is untrusted:
                return untrusted
            changed = changed or value is not item
            out.append(value)
        if not changed and type_(items) is kind:
            return items
        return out if kind is list_ else tuple_(out)

    def norm_dict(items: dict[Any, Any], depth: int) -> Any:
        out, changed = {}, False
        for key, value in dict_items(items):
            new_key, new_value = norm(key, depth + 1), norm(value, depth + 1)
            if new_key is untrusted or new_value is untrusted:
                return untrusted
            changed = changed or new_key is not key or new_value is not value
            out[new_key] = new_value
        return out if changed else items

    def norm_set(items: Any, kind: type, depth: int) -> Any:
        values = norm_items(list_(items), list_, depth)
        if values is untrusted:
            return untrusted
        return kind(values)

    def norm_other(value: Any, kind: type, depth: int) -> Any:
        for base, convert in scalar_bases:
            if issubclass_(kind, base):
                return convert(value)
        if issubclass_(kind, list_):
            return norm_items(list_(list_iter(value)), list_, depth)
        if issubclass_(kind, tuple_):
            return norm_items(tuple_(tuple_iter(value)), tuple_, depth)
        if issubclass_(kind, dict_):
            return norm_dict(dict_(dict_items(value)), depth)
        if issubclass_(kind, frozenset_):
            return norm_set(frozenset_iter(value), frozenset_, depth)
        if issubclass_(kind, set_):
            return norm_set(set_iter(value), set_, depth)
        if not flags_of(kind) & immutable_type:
            return untrusted  # a class written in Python: a program object
        dtype = getattr_(value, "dtype", None)
        if dtype is not None and getattr_(dtype, "hasobject", False):
            return untrusted  # a numpy array of arbitrary objects
        if id_(kind) in walked_ids:
            return value if norm_items(list_(value), list_, depth) is not untrusted else untrusted
        if kind is namespace_type:
            return value if norm(vars_(value), depth + 1) is not untrusted else untrusted
        return value

    def norm(value: Any, depth: int) -> Any:
        kind = type_(value)
        key = id_(kind)
        if key in scalar_ids:
            return value
        if depth > max_depth:
            return untrusted
        if kind is list_ or kind is tuple_:
            return value if only_builtins(value) else norm_items(value, kind, depth)
        if kind is dict_:
            return value if only_builtins(value) else norm_dict(value, depth)
        if kind is set_ or kind is frozenset_:
            return value if only_builtins(value) else norm_set(value, kind, depth)
        return norm_other(value, kind, depth)

    def plain(value: Any) -> bool:
        return norm(value, 0) is not untrusted

    def judge_eq(left: Any, right: Any) -> Any:
        kind = type_(left)
        if kind is type_(right) and (kind is int_ or kind is str_ or kind is float_):
            return left == right
        if id_(kind) in scalar_ids and id_(type_(right)) in scalar_ids:
            return left == right
        a, b = norm(left, 0), norm(right, 0)
        if a is untrusted or b is untrusted:
            return a is b and type_(left) is type_(right) and left == right
        return a == b

    def judge_ne(left: Any, right: Any) -> Any:
        kind = type_(left)
        if kind is type_(right) and (kind is int_ or kind is str_ or kind is float_):
            return left != right
        if id_(kind) in scalar_ids and id_(type_(right)) in scalar_ids:
            return left != right
        a, b = norm(left, 0), norm(right, 0)
        if a is untrusted or b is untrusted:
            return not (a is b and type_(left) is type_(right)) or left != right
        return a != b

    def judge_order(op: str, left: Any, right: Any) -> Any:
        if id_(type_(left)) in scalar_ids and id_(type_(right)) in scalar_ids:
            return order[op](left, right)
        a, b = norm(left, 0), norm(right, 0)
        if a is untrusted or b is untrusted:
            if a is b:
                return order[op](left, right)
            raise assertion_error(f"judge: {op} between a program object and plain data")
        return order[op](a, b)

    def judge_in(item: Any, container: Any) -> Any:
        if id_(type_(item)) in scalar_ids and id_(type_(container)) in scalar_ids:
            return item in container
        box = norm(container, 0)
        if box is untrusted:
            return item in container
        value = norm(item, 0)
        return False if value is untrusted else value in box

    def judge_not_in(item: Any, container: Any) -> Any:
        return not judge_in(item, container)

    def judge_compare(op: str, left: Any, right: Any) -> Any:
        if op == "==":
            return judge_eq(left, right)
        if op == "!=":
            return judge_ne(left, right)
        if op == "in":
            return judge_in(left, right)
        if op == "not in":
            return judge_not_in(left, right)
        if op == "is":
            return left is right
        if op == "is not":
            return left is not right
        return judge_order(op, left, right)

    def judge_chain(first: Any, *steps: Any) -> Any:
        """``a < b <= c``: steps are (op, lazy, operand) triples; lazy operands are thunks."""
        left, result = first, True
        for at in range_(0, len_(steps), 3):
            op, lazy, operand = steps[at], steps[at + 1], steps[at + 2]
            right = operand() if lazy else operand
            result = judge_compare(op, left, right)
            if not result:
                return result
            left = right
        return result

    def judge_arith(op: str, left: Any, right: Any) -> Any:
        result = arithmetic[op](left, right)
        if id_(type_(left)) in scalar_ids and id_(type_(right)) in scalar_ids:
            return result
        left_plain, right_plain = plain(left), plain(right)
        if left_plain == right_plain:
            return result
        if op == "mod" and left_plain and issubclass_(type_(left), text_types):
            return result  # string formatting of a program object
        if plain(result):
            raise assertion_error(f"judge: {op} between a program object and plain data "
                                  "gave plain data")
        return result

    def arith_check(op: str) -> Any:
        apply = arithmetic[op]

        def judge_op(left: Any, right: Any) -> Any:
            kind = type_(left)
            if kind is type_(right) and (kind is int_ or kind is float_):
                return apply(left, right)
            return judge_arith(op, left, right)

        return judge_op

    def order_check(text: str) -> Any:
        apply = order[text]

        def judge_op(left: Any, right: Any) -> Any:
            kind = type_(left)
            if kind is type_(right) and (kind is int_ or kind is str_ or kind is float_):
                return apply(left, right)
            return judge_order(text, left, right)

        return judge_op

    checks = {"__judge_eq__": judge_eq, "__judge_ne__": judge_ne, "__judge_in__": judge_in,
              "__judge_not_in__": judge_not_in, "__judge_chain__": judge_chain,
              "__judge_order__": judge_order, "__judge_arith__": judge_arith,
              "__judge_close__": make_close_check(plain, norm), "__judge_plain__": plain}
    for name in ARITHMETIC:
        checks[f"__judge_{name}__"] = arith_check(name)
    for name, (text, _) in ORDER.items():
        checks[f"__judge_{name}__"] = order_check(text)
    return checks
