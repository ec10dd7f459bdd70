"""HumanEval (OpenAI, 164 problems) and HumanEval+ (EvalPlus v0.1.10, ~80x more tests).

HumanEval+ takes its extra tests from the ``OriginFmt`` release, where ``test`` is a
``check(candidate)`` embedding every base and plus input with expected outputs and an atol
compare; the plain release adds the base test so base and plus verdicts stay separate, as
in EvalPlus's ``eval_results.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codekiln_core.errors import ConfigError
from codekiln_core.judge import Submission
from codekiln_eval.benchmarks.base import Benchmark, Task
from codekiln_eval.benchmarks.io import read_records
from codekiln_eval.prompts import PYTHON_FUNCTION_STOPS, complete_function


def check_submission(solution: str, test: str, entry_point: str) -> Submission:
    """HumanEval's harness: the solution, judged by the test module and ``check(entry_point)``."""
    return Submission("python", solution, f"{test}\n\ncheck({entry_point})\n")


def fix_origin_test(test: str) -> str:
    """Repair HumanEval/32's check in the v0.1.10 OriginFmt release.

    It asserts ``_poly(*candidate(*inp), inp)``, unpacking the float root (TypeError for
    every answer, the canonical one included); EvalPlus's own oracle checks
    ``|poly(xs, root)| <= atol``, which is what the replacement asserts.
    """
    return test.replace("assert _poly(*candidate(*inp), inp) <= 0.0001",
                        "assert abs(_poly(*inp, candidate(*inp))) <= 0.0001")


class HumanEval(Benchmark):
    name = "humaneval"
    license = "MIT"
    bundled = True
    hub_repo = "openai/openai_humaneval"
    hub_patterns = ("openai_humaneval/test-*.parquet",)
    local_patterns = ("HumanEval.jsonl.gz", "HumanEval.jsonl", "human-eval-v2-*.jsonl*")
    decontamination_fields = ("prompt", "canonical_solution", "test")
    stop = PYTHON_FUNCTION_STOPS

    def to_task(self, record: Mapping[str, Any]) -> Task:
        return Task(
            task_id=record["task_id"],
            language="python",
            prompt=record["prompt"],
            instruction=complete_function(record["prompt"]),
            entry_point=record["entry_point"],
            record=record,
        )

    def reference_solution(self, task: Task) -> str | None:
        return task.prompt + str(task.record["canonical_solution"])

    def checks(self, task: Task, solution: str) -> dict[str, Submission]:
        assert task.entry_point is not None
        return {"base": check_submission(solution, task.record["test"], task.entry_point)}


class HumanEvalPlus(HumanEval):
    name = "humaneval-plus"
    license = "Apache-2.0 (derived from HumanEval, MIT)"
    hub_repo = "evalplus/humanevalplus"
    hub_patterns = ("*.parquet",)
    local_patterns = ("HumanEvalPlus-OriginFmt*.jsonl*", "HumanEvalPlus-v*.jsonl*",
                      "HumanEvalPlus.jsonl*")

    def load_records(self, files: list[Path]) -> list[dict[str, Any]]:
        plain: dict[str, dict[str, Any]] = {}
        origin: dict[str, dict[str, Any]] = {}
        for path in dict.fromkeys(files):
            for record in read_records(path):
                (plain if "plus_input" in record else origin)[record["task_id"]] = record
        if not origin:
            raise ConfigError(
                f"HumanEval+ needs the OriginFmt release (check() with plus inputs); found only "
                f"{[str(f) for f in files]}; add HumanEvalPlus-OriginFmt-v0.1.10.jsonl.gz"
            )
        merged = []
        for task_id, rec in origin.items():
            out = dict(rec)
            out["plus_test"] = fix_origin_test(rec["test"])
            base = plain.get(task_id)
            out["base_test"] = base["test"] if base else None
            if base:  # the plain release's fields (base test) are what decontamination reads
                out["test"] = base["test"]
            merged.append(out)
        return merged

    def checks(self, task: Task, solution: str) -> dict[str, Submission]:
        assert task.entry_point is not None
        found: dict[str, Submission] = {}
        if task.record.get("base_test"):
            found["base"] = check_submission(solution, task.record["base_test"],
                                             task.entry_point)
        found["plus"] = check_submission(solution, task.record["plus_test"], task.entry_point)
        return found
