"""Honest answers get the verdicts they always got: the judge against the plain program.

Before the judge, a check was the answer and its tests concatenated into one program, run as
is. For every task of a slice of each Python benchmark, the reference solution and a few
honest mutants of it (off-by-one, flipped comparisons: answers a model might really write,
passing or failing) are run both ways; every verdict must agree. So eval's pass@k does not
move for honest answers, while hacks (see ``test_eval_hack_battery.py``) stop passing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import codekiln_benchmark_data
from codekiln_core.judge import Judge
from codekiln_eval.benchmarks import all_benchmarks

DATA = codekiln_benchmark_data.root()
BENCH = {cls.name: cls for cls in all_benchmarks()}
MUTATIONS = [("+ 1", "+ 2"), (" < ", " <= "), (" > ", " >= "), (" == ", " != "), ("[0]", "[-1]"),
             ("True", "False"), (" - 1", ""), ("sorted(", "list("), ("range(", "range(1, "),
             ("max(", "min(")]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    from codekiln_core.sandbox import LocalSandbox, SandboxLimits

    with LocalSandbox(workers=2, limits=SandboxLimits(timeout_s=8, memory_mb=4096)) as sb:
        yield sb


def honest_answers(reference: str) -> list[str]:
    """The reference and up to three single-edit mutants of it."""
    found = [reference]
    for old, new in MUTATIONS:
        if old in reference and len(found) < 4:
            found.append(reference.replace(old, new, 1))
    return found


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize(("name", "limit"), [("humaneval", 40), ("mbpp", 40),
                                             ("cruxeval-o", 60), ("humaneval-plus", 10)])
def test_honest_answers_keep_their_verdicts(name: str, limit: int, sandbox: Any) -> None:
    from codekiln_core.sandbox import RunRequest

    bench = BENCH[name](data=DATA)
    checks = [check for task in bench.tasks(limit)
              for answer in honest_answers(bench.reference_solution(task) or "")
              for check in bench.checks(task, answer).values()]
    plain = sandbox.run_many([RunRequest(
        "python", f"{c.prelude}\n{c.answer}\n\n{c.tests}") for c in checks])
    judged = Judge(sandbox).run(checks)
    differ = [(c.answer[-60:], p.verdict.value, j.verdict, j.reason)
              for c, p, j in zip(checks, plain, judged, strict=True) if p.passed != j.passed]
    assert differ == []
    assert 0 < sum(j.passed for j in judged) < len(checks)  # both kinds were judged
