"""Infilling benchmarks (Bavarian et al. 2022) cut from the bundled canonical solutions: the
published task counts, determinism, prefix + middle + suffix = the canonical program, exact
match, and canonical middles passing the problems' own tests in the sandbox."""

from __future__ import annotations

import os
from typing import Any

import pytest

import codekiln_benchmark_data
from codekiln_core.errors import ConfigError
from codekiln_eval.benchmarks import all_benchmarks
from codekiln_eval.benchmarks.base import Benchmark, Task
from codekiln_eval.execute import CheckJob, run_jobs

DATA = codekiln_benchmark_data.root()
BENCH = {cls.name: cls for cls in all_benchmarks()}
INFILL = sorted(name for name, cls in BENCH.items() if cls.infilling)


def load(name: str, **options: Any) -> Benchmark:
    return BENCH[name](data=DATA, **options)


@pytest.mark.parametrize(("name", "count"), [
    ("humaneval-infill-single-line", 1033), ("humaneval-infill-multi-line", 5815),
    ("humaneval-infill-random-span", 1640)])
def test_the_published_task_counts(name: str, count: int) -> None:
    assert len(load(name).tasks()) == count
    assert "humaneval-x-infill-java" in INFILL and len(INFILL) == 6


def test_random_span_light_and_seed() -> None:
    light = load("humaneval-infill-random-span", spans="1").tasks()
    assert len(light) == 164 and all(t.record["middle"] for t in light)
    again = load("humaneval-infill-random-span", spans="1").tasks()
    assert [t.record["span"] for t in light] == [t.record["span"] for t in again]
    other = load("humaneval-infill-random-span", spans="1", seed="7").tasks()
    assert [t.record["span"] for t in light] != [t.record["span"] for t in other]
    with pytest.raises(ConfigError, match="spans"):
        load("humaneval-infill-random-span", spans="none")
    with pytest.raises(ConfigError, match="no option"):
        load("humaneval-infill-single-line", spans="2")


@pytest.mark.parametrize("name", INFILL)
def test_prefix_middle_suffix_is_the_canonical_program(name: str) -> None:
    bench = load(name)
    programs = {t.task_id: bench.of.reference_solution(t) for t in bench.of.tasks()}
    for task in bench.tasks():
        whole = task.prompt + task.record["middle"] + (task.suffix or "")
        assert whole == programs[task.record["base_task_id"]], task.task_id
        assert bench.reference_solution(task) == whole
        if "infill-random" not in name:  # line spans: the suffix starts with the newline
            assert "\n" not in task.record["middle"].strip("\n") or "multi" in name
            assert (task.suffix or "\n").startswith(("\n", "\r\n"))


def test_task_ids_and_lines() -> None:
    single = load("humaneval-infill-single-line").tasks(limit=3)
    assert [t.task_id for t in single] == [f"SingleLineInfilling/HumanEval/0/L{i}"
                                           for i in range(3)]
    assert single[0].record["middle"] == "    for idx, elem in enumerate(numbers):"
    multi = load("humaneval-infill-multi-line").tasks(limit=2)
    assert [t.task_id for t in multi] == ["MultiLineInfilling/HumanEval/0/L0_L0",
                                          "MultiLineInfilling/HumanEval/0/L0_L1"]
    assert multi[1].record["middle"].count("\n") == 1


def test_exact_match_cuts_at_the_stop_and_ignores_edge_whitespace() -> None:
    bench = load("humaneval-infill-single-line")
    task = bench.tasks(limit=1)[0]
    middle = task.record["middle"]
    assert bench.exact_match(task, middle) is True
    assert bench.exact_match(task, middle.strip() + "  \n        return x\n") is True
    assert bench.exact_match(task, middle.replace("idx", "i")) is False
    assert load("humaneval").exact_match(task, middle) is None  # no such score there


def test_no_chat_form() -> None:
    bench = load("humaneval-infill-single-line")
    with pytest.raises(ConfigError, match="--mode fim"):
        bench.solution_from_chat(bench.tasks(limit=1)[0], "```python\npass\n```")


def _canonical_failures(bench: Benchmark, tasks: list[Task], sandbox: Any) -> list[str]:
    jobs = [CheckJob((t.task_id, 0), name, check, 120.0) for t in tasks
            for name, check in bench.checks(
                t, bench.solution_from_completion(t, t.record["middle"])).items()]
    return sorted({j.key[0] for j, r in zip(jobs, run_jobs(sandbox, jobs), strict=True)
                   if not r["passed"]})


@pytest.fixture(scope="module")
def sandbox() -> Any:
    from codekiln_core.sandbox import LocalSandbox, SandboxLimits

    with LocalSandbox(workers=2, limits=SandboxLimits(timeout_s=300, memory_mb=4096)) as sb:
        yield sb


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize(("name", "every"), [
    ("humaneval-infill-single-line", 10), ("humaneval-infill-multi-line", 60),
    ("humaneval-infill-random-span", 16), ("humaneval-x-infill-javascript", 40),
    ("humaneval-x-infill-cpp", 60), ("humaneval-x-infill-java", 100)])
def test_canonical_middles_pass_a_sample(name: str, every: int, sandbox: Any) -> None:
    """A fixed sample (~100 tasks of HumanEval, ~20-40 per HumanEval-X language) through the
    same path a model's middle takes; the full sets: CODEKILN_EVAL_FULL=1, below."""
    from codekiln_core.sandbox import LocalSandbox

    bench = load(name)
    reason = LocalSandbox.available_languages().get(bench.language)
    if reason:
        pytest.skip(reason)
    tasks = bench.tasks()[::every]
    assert _canonical_failures(bench, tasks, sandbox) == []


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("CODEKILN_EVAL_FULL"),
                    reason="every infilling task (~13k programs) takes ~15 min; set "
                    "CODEKILN_EVAL_FULL=1")
@pytest.mark.parametrize("name", INFILL)
def test_canonical_middles_pass_in_full(name: str, sandbox: Any) -> None:
    bench = load(name)
    assert _canonical_failures(bench, bench.tasks(), sandbox) == []
