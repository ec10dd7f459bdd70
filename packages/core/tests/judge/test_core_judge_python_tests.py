"""The rewrite of Python tests: every check goes through the judge, nothing else changes."""

from __future__ import annotations

import builtins
import textwrap

import pytest

from codekiln_core.judge.python_tests import rewrite_tests
from codekiln_core.judge.python_unittest import make_unittest_checks
from codekiln_core.judge.python_values import make_value_checks


def outcome(answer: str, tests: str, *, judged: bool) -> str:
    """Run answer then tests in-process: "pass", or the name of the exception raised."""
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec(compile(textwrap.dedent(answer), "answer", "exec"), namespace)
    source = textwrap.dedent(tests)
    if judged:
        import unittest

        values = make_value_checks()
        namespace["__builtins__"] = {**vars(builtins), **values,
                                     **make_unittest_checks(namespace, values, unittest.TestCase)}
        source = rewrite_tests(source)
    try:
        exec(compile(source, "tests", "exec"), namespace)
    except Exception as exc:  # the exception's kind is the outcome the test compares
        return type(exc).__name__
    return "pass"


ANSWERS = {
    "right": "def f(x):\n    return [v * 2 for v in x]\n",
    "wrong": "def f(x):\n    return [v * 2 + 1 for v in x]\n",
    "none": "def f(x):\n    return None\n",
    "raises": "def f(x):\n    raise ValueError('no')\n",
}
TESTS = [
    "assert f([1, 2]) == [2, 4]\nassert f([]) != [1]\n",
    "def check(candidate):\n    assert candidate([1]) == [2]\n"
    "    assert 0 <= len(candidate([3])) < 2\ncheck(f)\n",
    "import math\nassert math.isclose(sum(f([0.1, 0.2])), 0.6)\n"
    "assert abs(sum(f([0.1])) - 0.2) < 1e-9\n",
    "import numpy as np\nout = f([0.5, 1.5])\nassert np.allclose(out, [1.0, 3.0])\n",
    "for i in range(3):\n    assert f([i])[0] % 2 == 0 and f([i]) in ([0], [2], [4])\n",
    "import unittest\nclass T(unittest.TestCase):\n    def test_a(self):\n"
    "        self.assertEqual(f([1]), [2])\n        self.assertIn(2, f([1]))\n"
    "        with self.assertRaises(TypeError):\n            f(None)\n"
    "if __name__ == '__main__':\n    unittest.main(argv=['tests'], exit=False)\n",
    "def test_f():\n    assert f([3]) == [6]\n",
    "x = [v * 3 for v in range(5) if v % 2 == 0]\nassert f(x) == [0, 12, 24]\n",
]


@pytest.mark.parametrize("answer", sorted(ANSWERS))
@pytest.mark.parametrize("tests", TESTS, ids=range(len(TESTS)))
def test_honest_answers_get_the_same_outcome(answer: str, tests: str) -> None:
    plain = outcome(ANSWERS[answer], tests, judged=False)
    if tests.startswith("def test_f"):  # a pytest-style test the plain program never calls
        plain = "pass" if answer == "right" else "AssertionError"
    if "unittest" in tests and plain == "pass":  # unittest.main(exit=False) reports, not raises
        plain = "pass" if answer == "right" else "AssertionError"
    judged = outcome(ANSWERS[answer], tests, judged=True)
    assert judged == plain or (plain != "pass" and judged != "pass"), (plain, judged)


def test_checks_are_rewritten_and_reference_code_is_left_native() -> None:
    text = rewrite_tests(textwrap.dedent("""
        def ref(n):
            total = 0
            for i in range(n):
                total = total + i * 2
            return total
        diff = f(1) - 2
        assert f(1) == ref(2) and abs(f(2) - 1) < 1e-6 and x is not None and 0 < y <= 2
        if f(3) in [1, 2]:
            pass
        self.assertEqual(a, b)
        unittest.main()
        np.allclose(a, b)
    """))
    assert "total = total + i * 2" in text  # a reference implementation: native speed
    assert "diff = __judge_sub__(f(1), 2)" in text  # arithmetic on a call's result
    assert "__judge_eq__(f(1), ref(2))" in text and "__judge_sub__(f(2), 1)" in text
    assert "__judge_lt__(abs(" in text and "x is not None" in text
    assert "__judge_chain__(0, '<', False, y, '<=', False, 2)" in text
    assert "__judge_in__(f(3), [1, 2])" in text
    assert "__judge_case__(self, 'assertEqual', a, b)" in text
    assert "__judge_run_unittests__()" in text and "__judge_close__(np, 'allclose', a, b)" in text


def test_uncalled_tests_and_test_cases_are_run_and_bad_sources_kept() -> None:
    assert rewrite_tests("def test_a():\n    pass\n").endswith("test_a()\n")
    assert "test_b()" not in rewrite_tests("def test_b(x):\n    pass\n")
    assert rewrite_tests("def test_c():\n    pass\ntest_c()\n").count("\ntest_c()") == 1
    cases = "import unittest\nclass T(unittest.TestCase):\n    def test_a(self):\n        pass\n"
    assert rewrite_tests(cases).endswith("__judge_run_unittests__()\n")
    assert rewrite_tests("assert (") == "assert ("
    lazy = rewrite_tests("async def g():\n    assert 0 < await h() < 3\n")
    assert "lambda" not in lazy and "__judge_chain__" in lazy  # await cannot sit in a lambda
