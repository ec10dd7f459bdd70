"""Rewrite a Python test program so that the judge, not the answer, decides each check.

Runs on the host (once per distinct test text: GRPO groups share their tests). Every
comparison (``==``, ``!=``, ``in``, ordering, chains) and every ``allclose``/``isclose`` call
becomes a call of a ``__judge_*__`` function (see ``python_values``), and so does arithmetic
where a program object could turn into a passing number: inside a check (an ``assert``, a
comparison, an ``if``/``while`` test, a judged call's arguments) or applied directly to a
call's result (``diff = f(x) - y``). Arithmetic elsewhere (a reference implementation in
the tests) stays native, so test code keeps its speed. ``self.assertX(...)`` calls go
through ``__judge_case__`` and ``unittest.main()`` becomes ``__judge_run_unittests__()``
(see ``python_unittest``). Test functions named ``test*`` that the tests define but never
call, and ``TestCase`` classes the tests never run, are run at the end, as pytest and
unittest would. ``is`` and plain truthiness stay as written.
"""

from __future__ import annotations

import ast
from functools import lru_cache

EQUALITY = {ast.Eq: "__judge_eq__", ast.NotEq: "__judge_ne__", ast.In: "__judge_in__",
            ast.NotIn: "__judge_not_in__"}
OP_TEXT = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
           ast.GtE: ">=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
ORDER = {ast.Lt: "__judge_lt__", ast.LtE: "__judge_le__", ast.Gt: "__judge_gt__",
         ast.GtE: "__judge_ge__"}
ARITHMETIC = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv",
              ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.Pow: "pow", ast.MatMult: "matmul",
              ast.LShift: "lshift", ast.RShift: "rshift", ast.BitAnd: "and",
              ast.BitOr: "or", ast.BitXor: "xor"}
CLOSE_CALLS = frozenset({"allclose", "isclose"})
CASE_METHODS = frozenset({
    "assertEqual", "assertEquals", "assertListEqual", "assertTupleEqual", "assertDictEqual",
    "assertSetEqual", "assertSequenceEqual", "assertMultiLineEqual", "assertNotEqual",
    "assertTrue", "assertFalse", "assertIs", "assertIsNot", "assertIsNone", "assertIsNotNone",
    "assertIn", "assertNotIn", "assertGreater", "assertGreaterEqual", "assertLess",
    "assertLessEqual", "assertAlmostEqual", "assertNotAlmostEqual", "assertCountEqual",
    "assertRaises", "subTest", "skipTest", "fail"})
RUN_UNITTESTS = "__judge_run_unittests__"


def _call(name: str, *args: ast.expr, keywords: list[ast.keyword] | None = None) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args),
                    keywords=keywords or [])


def _eager(node: ast.expr) -> bool:
    """Operands evaluated eagerly in a chain: nothing to run or short-circuit (a name, a
    constant), or something a lambda cannot hold (``await``, ``yield``, ``:=``)."""
    if any(isinstance(n, ast.Await | ast.Yield | ast.YieldFrom | ast.NamedExpr)
           for n in ast.walk(node)):
        return True
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Constant | ast.Name)


class _Rewriter(ast.NodeTransformer):
    def __init__(self) -> None:
        self.checking = 0  # > 0 inside a check: its arithmetic is judged too

    def checked(self, node: ast.AST) -> ast.AST:
        self.checking += 1
        try:
            visited: ast.AST = self.visit(node)
            return visited
        finally:
            self.checking -= 1

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        node.test = self.checked(node.test)  # type: ignore[assignment]
        if node.msg is not None:
            node.msg = self.visit(node.msg)
        return node

    def visit_If(self, node: ast.If) -> ast.AST:
        node.test = self.checked(node.test)  # type: ignore[assignment]
        node.body = [self.visit(n) for n in node.body]
        node.orelse = [self.visit(n) for n in node.orelse]
        return node

    visit_While = visit_If  # type: ignore[assignment]

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        node.test = self.checked(node.test)  # type: ignore[assignment]
        node.body, node.orelse = self.visit(node.body), self.visit(node.orelse)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.checking += 1
        try:
            self.generic_visit(node)
        finally:
            self.checking -= 1
        if len(node.ops) == 1:
            op, right = type(node.ops[0]), node.comparators[0]
            if op in EQUALITY:
                return _call(EQUALITY[op], node.left, right)
            if op in (ast.Is, ast.IsNot):
                return node
            return _call(ORDER[op], node.left, right)
        args: list[ast.expr] = [node.left]
        for op_node, operand in zip(node.ops, node.comparators, strict=True):
            lazy = not _eager(operand)
            no_args = ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[],
                                    defaults=[])
            args += [ast.Constant(OP_TEXT[type(op_node)]), ast.Constant(lazy),
                     ast.Lambda(args=no_args, body=operand) if lazy else operand]
        return _call("__judge_chain__", *args)

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        direct = isinstance(node.left, ast.Call | ast.Await) or isinstance(
            node.right, ast.Call | ast.Await)
        if not (self.checking or direct):
            return node
        return _call(f"__judge_{ARITHMETIC[type(node.op)]}__", node.left, node.right)

    def visit_Call(self, node: ast.Call) -> ast.expr:
        func = node.func
        judged = isinstance(func, ast.Attribute) and func.attr in CLOSE_CALLS | CASE_METHODS
        self.checking += judged
        try:
            self.generic_visit(node)
        finally:
            self.checking -= judged
        if not isinstance(func, ast.Attribute):
            return node
        if func.attr in CLOSE_CALLS:
            return _call("__judge_close__", func.value, ast.Constant(func.attr), *node.args,
                         keywords=node.keywords)
        if func.attr == "main" and isinstance(func.value, ast.Name) and \
                func.value.id == "unittest":
            return _call(RUN_UNITTESTS)
        if func.attr in CASE_METHODS:
            return _call("__judge_case__", func.value, ast.Constant(func.attr), *node.args,
                         keywords=node.keywords)
        return node


def _uncalled_tests(module: ast.Module) -> list[str]:
    """Top-level ``test*`` functions without required arguments that nothing names."""
    named = {n.id for n in ast.walk(module) if isinstance(n, ast.Name)}
    found = []
    for stmt in module.body:
        if (isinstance(stmt, ast.FunctionDef) and stmt.name.startswith("test")
                and stmt.name not in named
                and len(stmt.args.args) + len(stmt.args.posonlyargs) == len(stmt.args.defaults)
                and all(d is not None for d in stmt.args.kw_defaults)):
            found.append(stmt.name)
    return found


def _runs_unittests(module: ast.Module) -> bool:
    """Whether the tests define ``TestCase`` classes and never call ``unittest.main``."""
    cases = any(isinstance(n, ast.ClassDef) and any(ast.unparse(b).endswith("TestCase")
                                                     for b in n.bases)
                for n in ast.walk(module))
    called = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                 and n.func.attr == "main" and ast.unparse(n.func.value) == "unittest"
                 for n in ast.walk(module))
    return cases and not called


@lru_cache(maxsize=1024)
def rewrite_tests(source: str) -> str:
    """The judged form of ``source``; unchanged when it does not parse (it then fails to
    compile in the sandbox, as it would have)."""
    try:
        module = ast.parse(source)
    except (SyntaxError, ValueError):
        return source
    extra = [f"{name}()" for name in _uncalled_tests(module)]
    if _runs_unittests(module):
        extra.append(f"{RUN_UNITTESTS}()")
    tree = _Rewriter().visit(module)
    tree.body.extend(ast.parse("\n".join(extra)).body)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"
