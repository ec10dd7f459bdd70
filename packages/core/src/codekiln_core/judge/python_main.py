"""Entry of a judged Python program inside the sandbox: the answer, then the tests, then done.

The judge's files (answer, tests, the per-run nonce) are read and deleted before any of the
answer runs, so the answer can neither read the tests nor rewrite them. The answer runs in its
own ``__main__`` namespace; the tests in a copy of it whose builtins are a copy taken before
the answer ran, with the ``__judge_*__`` checks added and an ``__import__`` that hands out
snapshots of the common standard modules (and numpy, when loaded) as they were before the
answer ran. Everything used after the answer starts was captured before it, as locals or
closures, never looked up again (``finish_run`` loads no global name; a test checks this).

The program reaches its end only when every test ran: the local sandbox sees that through
its own per-run nonce; elsewhere the judge's nonce is printed last and must be on stdout.
In the local sandbox's workers this module is imported once (``from ... import judge_main``);
for other sandboxes the judge inlines this file (lines marked ``judge: local`` dropped).
"""

from __future__ import annotations

import builtins
import os
import sys
import types
from collections.abc import Callable
from typing import Any

from codekiln_core.judge.python_unittest import make_unittest_checks  # judge: local
from codekiln_core.judge.python_values import make_value_checks  # judge: local

NONCE_FILE = ".judge-nonce"
PRELUDE_FILE = ".judge-prelude.py"
ANSWER_FILE = ".judge-answer.py"
TESTS_FILE = ".judge-tests.py"
#: Modules the tests get as they were before the answer ran (when already imported then).
SNAPSHOT_MODULES = ("math", "cmath", "re", "collections", "itertools", "functools", "heapq",
                    "bisect", "string", "typing", "random", "statistics", "fractions",
                    "decimal", "datetime", "hashlib", "copy", "operator", "json", "unittest",
                    "dataclasses", "enum", "numpy")


def take(name: str) -> str:
    """A judge file's text, deleted as it is read ("" when the judge sent none)."""
    try:
        with open(name, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        return ""
    os.unlink(name)
    return text


def module_snapshots(modules: dict[str, Any],
                     tests: str) -> tuple[dict[str, Any], dict[int, str]]:
    """name -> a copy of the module's namespace now; id(module) -> name. Only modules the
    tests name (a substring test: a needless copy costs microseconds)."""
    snaps = {name: dict(vars(modules[name])) for name in SNAPSHOT_MODULES
             if name in modules and name in tests}
    return snaps, {id(modules[name]): name for name in snaps}


def make_import(real_import: Callable[..., Any], snaps: dict[str, Any],
                ids: dict[int, str]) -> tuple[Callable[..., Any], Callable[[dict[str, Any]], None]]:
    """The tests' ``__import__`` and a function that swaps snapshot modules into a namespace."""
    module_type, id_, list_, type_, vars_ = types.ModuleType, id, list, type, vars
    made: dict[str, Any] = {}

    def proxy(name: str) -> Any:
        module = made.get(name)
        if module is None:
            module = made[name] = module_type(name)
            vars_(module).update(snaps[name])
        return module

    def judge_import(name: str, globals: Any = None, locals: Any = None,
                     fromlist: Any = (), level: int = 0) -> Any:
        if level == 0 and name in snaps:
            return proxy(name)
        return real_import(name, globals, locals, fromlist, level)

    def swap_modules(namespace: dict[str, Any]) -> None:
        for key, value in list_(namespace.items()):
            name = ids.get(id_(value))
            if name is not None and type_(value) is module_type:
                namespace[key] = proxy(name)

    return judge_import, swap_modules


def judge_main() -> None:
    """Compile everything, capture what the tests need, then run answer and tests."""
    nonce = take(NONCE_FILE).encode()
    prelude, answer, tests = take(PRELUDE_FILE), take(ANSWER_FILE), take(TESTS_FILE)
    main_file = os.path.abspath("main.py")
    codes = (compile(prelude, os.path.abspath("prelude.py"), "exec") if prelude else None,
             compile(answer, main_file, "exec"),
             compile(tests, os.path.abspath("tests.py"), "exec"))
    case_class = None
    if "__judge_case__" in tests or "__judge_run_unittests__" in tests:
        import unittest

        case_class = unittest.TestCase
    tests_ns: dict[str, Any] = {}
    test_builtins = dict(vars(builtins))
    values = make_value_checks()
    test_builtins.update(values)
    if case_class is not None:
        test_builtins.update(make_unittest_checks(tests_ns, values, case_class))
    snaps, ids = module_snapshots(sys.modules, tests)
    test_builtins["__import__"], swap_modules = make_import(builtins.__import__, snaps, ids)
    answer_ns = {"__name__": "__main__", "__file__": main_file, "__builtins__": builtins}
    out = sys.stdout
    finish_run(exec, codes, answer_ns, tests_ns, test_builtins, swap_modules,
               (out.flush, os.write, nonce))


def finish_run(exec_: Callable[..., Any], codes: tuple[Any, Any, Any], answer_ns: dict[str, Any],
               tests_ns: dict[str, Any], test_builtins: dict[str, Any],
               swap_modules: Callable[[dict[str, Any]], None],
               done: tuple[Callable[[], Any], Callable[[int, bytes], Any], bytes]) -> None:
    """Answer, tests, nonce; every name used here was captured before the answer ran."""
    prelude, answer, tests = codes
    if prelude is not None:
        exec_(prelude, answer_ns)
    exec_(answer, answer_ns)
    tests_ns.update(answer_ns)
    swap_modules(tests_ns)
    tests_ns["__builtins__"] = test_builtins
    exec_(tests, tests_ns)
    flush, write, nonce = done
    if nonce:
        flush()
        write(1, nonce + b"\n")
