"""unittest-style tests, judged without the answer's reach (runs inside the sandbox).

``unittest.TestCase`` is a Python class: an answer can replace its ``assertEqual``, ``setUp``
or ``subTest`` (one that swallows failures) before the tests run. So the judge rewrites
``self.assertX(...)`` calls into ``__judge_case__``, which checks with its own type-checked
comparisons, and runs the test classes itself (``unittest.main()`` is rewritten to
``__judge_run_unittests__()``, which is also appended when the tests never call it): test
methods in name order, each on a fresh instance built with the ``TestCase.__init__`` captured
before the answer ran, calling only ``setUp``/``tearDown`` the tests themselves define. A
failing or skipped test (``SkipTest`` included) propagates, so the program fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PREFIX = "test"


def make_unittest_checks(tests_ns: dict[str, Any], values: dict[str, Any],
                         case_class: type | None) -> dict[str, Any]:
    """``__judge_case__`` and ``__judge_run_unittests__`` for the tests in ``tests_ns``."""
    type_, issubclass_, getattr_, sorted_, dir_, callable_ = (type, issubclass, getattr,
                                                              sorted, dir, callable)
    repr_, len_, list_, object_, abs_, round_ = repr, len, list, object, abs, round
    range_, bool_, prefix, function_type = range, bool, PREFIX, type(make_unittest_checks)
    assertion_error, base_exception = AssertionError, BaseException
    class_dict = type.__dict__["__dict__"].__get__
    class_mro = type.__dict__["__mro__"].__get__
    func_globals = type(make_unittest_checks).__dict__["__globals__"].__get__
    eq, ne, order, contains = (values["__judge_eq__"], values["__judge_ne__"],
                               values["__judge_order__"], values["__judge_in__"])
    arith, plain = values["__judge_arith__"], values["__judge_plain__"]
    case_init: Any = class_dict(case_class)["__init__"] if case_class is not None else None
    ran: list[bool] = []

    def show(value: Any) -> str:
        try:
            text = repr_(value)
        except base_exception:
            text = "<unprintable>"
        return text if len_(text) <= 200 else text[:200] + "..."

    def fail(default: str, msg: Any = None) -> None:
        raise assertion_error(default if msg is None else f"{default} : {msg}")

    def assert_equal(first: Any, second: Any, msg: Any = None) -> None:
        if not eq(first, second):
            fail(f"{show(first)} != {show(second)}", msg)

    def assert_not_equal(first: Any, second: Any, msg: Any = None) -> None:
        if not ne(first, second):
            fail(f"{show(first)} == {show(second)}", msg)

    def assert_true(expr: Any, msg: Any = None) -> None:
        if not expr:
            fail(f"{show(expr)} is not true", msg)

    def assert_false(expr: Any, msg: Any = None) -> None:
        if expr:
            fail(f"{show(expr)} is not false", msg)

    def assert_is(first: Any, second: Any, msg: Any = None) -> None:
        if first is not second:
            fail(f"{show(first)} is not {show(second)}", msg)

    def assert_is_not(first: Any, second: Any, msg: Any = None) -> None:
        if first is second:
            fail(f"unexpectedly identical: {show(first)}", msg)

    def assert_is_none(obj: Any, msg: Any = None) -> None:
        assert_is(obj, None, msg)

    def assert_is_not_none(obj: Any, msg: Any = None) -> None:
        assert_is_not(obj, None, msg)

    def assert_in(member: Any, container: Any, msg: Any = None) -> None:
        if not contains(member, container):
            fail(f"{show(member)} not found in {show(container)}", msg)

    def assert_not_in(member: Any, container: Any, msg: Any = None) -> None:
        if contains(member, container):
            fail(f"{show(member)} unexpectedly found in {show(container)}", msg)

    def ordered(op: str) -> Callable[..., None]:
        def check(first: Any, second: Any, msg: Any = None) -> None:
            if not order(op, first, second):
                fail(f"not {show(first)} {op} {show(second)}", msg)
        return check

    def almost(first: Any, second: Any, places: Any = None, msg: Any = None,
               delta: Any = None) -> bool:
        if eq(first, second):
            return True
        diff = abs_(arith("sub", first, second))
        if delta is not None:
            return bool_(order("<=", diff, delta))
        return bool_(eq(round_(diff, 7 if places is None else places), 0))

    def assert_almost_equal(first: Any, second: Any, places: Any = None, msg: Any = None,
                            delta: Any = None) -> None:
        if not almost(first, second, places, msg, delta):
            fail(f"{show(first)} != {show(second)} within tolerance", msg)

    def assert_not_almost_equal(first: Any, second: Any, places: Any = None, msg: Any = None,
                                delta: Any = None) -> None:
        if almost(first, second, places, msg, delta):
            fail(f"{show(first)} == {show(second)} within tolerance", msg)

    def assert_count_equal(first: Any, second: Any, msg: Any = None) -> None:
        left, right = list_(first), list_(second)
        if not (plain(left) and plain(right)):
            fail("judge: assertCountEqual on a program object", msg)
        for item in left:
            for at in range_(len_(right)):
                if eq(item, right[at]):
                    del right[at]
                    break
            else:
                fail(f"element counts differ: {show(item)}", msg)
        if right:
            fail(f"element counts differ: {show(right[0])}", msg)

    class Raises:
        """``assertRaises`` as a context manager (or called with a function)."""

        def __init__(self, expected: Any, msg: Any = None) -> None:
            self.expected, self.msg, self.exception = expected, msg, None

        def __enter__(self) -> Any:
            return self

        def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
            if kind is None:
                fail(f"{show(self.expected)} not raised", self.msg)
            if not issubclass_(kind, self.expected):
                return False
            self.exception = exc
            return True

    def assert_raises(expected: Any, *args: Any, **kwargs: Any) -> Any:
        if not args:
            return Raises(expected, kwargs.get("msg"))
        with Raises(expected) as context:
            args[0](*args[1:], **kwargs)
        return context

    class NoSubTest:
        def __enter__(self) -> None:
            return None

        def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
            return None

    def sub_test(*args: Any, **kwargs: Any) -> NoSubTest:
        return NoSubTest()

    def refuse_skip(reason: Any = None) -> None:
        fail(f"judge: a test asked to be skipped ({reason})")

    def fail_test(msg: Any = None) -> None:
        fail("test failed", msg)

    checks: dict[str, Callable[..., Any]] = {
        "assertEqual": assert_equal, "assertEquals": assert_equal,
        "assertListEqual": assert_equal, "assertTupleEqual": assert_equal,
        "assertDictEqual": assert_equal, "assertSetEqual": assert_equal,
        "assertSequenceEqual": assert_equal, "assertMultiLineEqual": assert_equal,
        "assertNotEqual": assert_not_equal, "assertTrue": assert_true,
        "assertFalse": assert_false, "assertIs": assert_is, "assertIsNot": assert_is_not,
        "assertIsNone": assert_is_none, "assertIsNotNone": assert_is_not_none,
        "assertIn": assert_in, "assertNotIn": assert_not_in,
        "assertGreater": ordered(">"), "assertGreaterEqual": ordered(">="),
        "assertLess": ordered("<"), "assertLessEqual": ordered("<="),
        "assertAlmostEqual": assert_almost_equal,
        "assertNotAlmostEqual": assert_not_almost_equal,
        "assertCountEqual": assert_count_equal, "assertRaises": assert_raises,
        "subTest": sub_test, "skipTest": refuse_skip, "fail": fail_test,
    }

    def judge_case(obj: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        check = checks.get(name)
        if check is not None and case_class is not None and issubclass_(type_(obj), case_class):
            return check(*args, **kwargs)
        return getattr_(obj, name)(*args, **kwargs)

    def own(cls: type, name: str) -> Any:
        """``name`` from the test's own classes (never from TestCase, which can be patched)."""
        for klass in class_mro(cls):
            if klass is case_class or klass is object_:
                continue
            found = class_dict(klass).get(name)
            if found is not None:
                return found
        return None

    def call(attr: Any, owner: Any, cls: type) -> None:
        if attr is not None:
            attr.__get__(owner, cls)()

    def defined_by_tests(cls: type) -> bool:
        for value in class_dict(cls).values():
            if type_(value) is function_type and func_globals(value) is tests_ns:
                return True
        return False

    def run_case(cls: type) -> None:
        if own(cls, "__unittest_skip__"):
            return
        names = sorted_(n for n in dir_(cls) if n.startswith(prefix) and callable_(own(cls, n)))
        call(own(cls, "setUpClass"), None, cls)
        for name in names:
            method = own(cls, name)
            if getattr_(method, "__unittest_skip__", False):
                continue
            instance: Any = object_.__new__(cls)
            case_init(instance, name)
            call(own(cls, "setUp"), instance, cls)
            try:
                method.__get__(instance, cls)()
            finally:
                call(own(cls, "tearDown"), instance, cls)
        call(own(cls, "tearDownClass"), None, cls)

    def run_unittests(*args: Any, **kwargs: Any) -> None:
        if ran or case_class is None:
            return
        ran.append(True)
        for value in list_(tests_ns.values()):
            if (issubclass_(type_(value), type_) and value is not case_class
                    and issubclass_(value, case_class) and defined_by_tests(value)):
                run_case(value)

    return {"__judge_case__": judge_case, "__judge_run_unittests__": run_unittests}
