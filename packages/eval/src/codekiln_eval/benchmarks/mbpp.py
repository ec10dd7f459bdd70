"""MBPP (full and sanitized, Google) and MBPP+ (EvalPlus v0.2.0, 378 problems).

Task ids follow EvalPlus (``Mbpp/<n>``) everywhere so results line up across the three.
The evaluated MBPP split is upstream's test split, ids 11-510, unless ``split`` says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from codekiln_benchmark_data import MBPP_SPLITS
from codekiln_core.errors import ConfigError
from codekiln_core.judge import Submission
from codekiln_eval.benchmarks.base import Benchmark, Task
from codekiln_eval.benchmarks.io import read_records
from codekiln_eval.prompts import mbpp_completion_prompt, solve_with_tests

#: Upstream MBPP id ranges (one copy, in codekiln_benchmark_data), plus every id at once.
SPLITS: dict[str, range] = {
    **MBPP_SPLITS,
    "all": range(min(r.start for r in MBPP_SPLITS.values()),
                 max(r.stop for r in MBPP_SPLITS.values())),
}

MBPP_STOPS: tuple[str, ...] = ("\nassert ", '\n"""', "\nprint(", "\nif __name__", "\n```")


def entry_point_of(code: str, tests: list[str]) -> str | None:
    """The function the tests call: a ``def`` of the reference that the first test names."""
    names = re.findall(r"^def\s+(\w+)\s*\(", code, re.MULTILINE)
    first = tests[0] if tests else ""
    for name in names:
        if re.search(rf"\b{re.escape(name)}\s*\(", first):
            return str(name)
    called = re.search(r"assert\b.*?\b([A-Za-z_]\w*)\s*\(", first)
    return names[0] if names else (called.group(1) if called else None)


def number_of(task_id: Any) -> int:
    """``Mbpp/12``, ``"12"`` and ``12`` all name problem 12."""
    return int(str(task_id).rsplit("/", 1)[-1])


def assert_submission(solution: str, tests: list[str], setup: str = "",
                      imports: list[str] | None = None) -> Submission:
    """Imports before the solution; setup (it may use the solution's classes), then asserts."""
    return Submission("python", solution, f"{setup}\n\n" + "\n".join(tests) + "\n",
                      prelude="\n".join(imports or []))


class MBPP(Benchmark):
    name = "mbpp"
    license = "CC-BY-4.0"
    bundled = True
    hub_repo = "google-research-datasets/mbpp"
    hub_patterns: ClassVar[tuple[str, ...]] = ("full/*.parquet",)
    local_patterns: ClassVar[tuple[str, ...]] = ("mbpp.jsonl",)
    decontamination_fields = ("text", "code", "test_list")
    stop = MBPP_STOPS
    text_field = "text"

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        return ("split",)

    def split(self) -> range:
        name = str(self.options.get("split", "test"))
        if name not in SPLITS:
            raise ConfigError(f"mbpp option split={name!r}; choose one of {', '.join(SPLITS)}")
        return SPLITS[name]

    def selected(self, record: Mapping[str, Any]) -> bool:
        return number_of(record["task_id"]) in self.split()

    def to_task(self, record: Mapping[str, Any]) -> Task:
        text = record[self.text_field]
        tests = list(record["test_list"])
        return Task(
            task_id=f"Mbpp/{number_of(record['task_id'])}",
            language="python",
            prompt=mbpp_completion_prompt(text, tests[0]),
            instruction=solve_with_tests(text, tests),
            entry_point=entry_point_of(record["code"], tests),
            record=record,
        )

    def solution_from_completion(self, task: Task, completion: str) -> str:
        # The prompt is only a docstring; the completion is the whole program.
        return super().solution_from_completion(task, completion)[len(task.prompt):]

    def reference_solution(self, task: Task) -> str | None:
        return str(task.record["code"])

    def checks(self, task: Task, solution: str) -> dict[str, Submission]:
        rec = task.record
        return {"base": assert_submission(
            solution, list(rec["test_list"]), rec.get("test_setup_code", "") or "",
            list(rec.get("test_imports") or []),
        )}


class MBPPSanitized(MBPP):
    name = "mbpp-sanitized"
    hub_patterns = ("sanitized/*.parquet",)
    local_patterns = ("sanitized-mbpp.json",)
    decontamination_fields = ("prompt", "code", "test_list")
    text_field = "prompt"


class MBPPPlus(MBPP):
    name = "mbpp-plus"
    license = "Apache-2.0 (derived from MBPP, CC-BY-4.0)"
    hub_repo = "evalplus/mbppplus"
    hub_patterns = ("*.parquet",)
    local_patterns = ("MbppPlus-OriginFmt*.jsonl*", "MbppPlus-v*.jsonl*", "MbppPlus.jsonl*")
    decontamination_fields = ("prompt", "canonical_solution", "assertion")

    def selected(self, record: Mapping[str, Any]) -> bool:
        split = self.options.get("split")
        return split is None or number_of(record["task_id"]) in self.split()

    def load_records(self, files: list[Path]) -> list[dict[str, Any]]:
        plain: dict[int, dict[str, Any]] = {}
        origin: dict[int, dict[str, Any]] = {}
        for path in dict.fromkeys(files):
            for record in read_records(path):
                (plain if "plus_input" in record else origin)[number_of(record["task_id"])] = record
        if not origin:
            raise ConfigError(
                f"MBPP+ needs the OriginFmt release (tests as code); found only "
                f"{[str(f) for f in files]}; add MbppPlus-OriginFmt-v0.2.0.jsonl.gz"
            )
        merged = []
        for num, rec in origin.items():
            base = plain.get(num, {})
            tests = list(rec["test_list"])
            found = re.search(r"assertion\((\w+)\(\*inp\)", rec["test"])
            merged.append({
                "task_id": f"Mbpp/{num}",
                "prompt": base.get("prompt") or mbpp_completion_prompt(rec["prompt"], tests[0]),
                "text": rec["prompt"],
                "entry_point": base.get("entry_point")
                or (found.group(1) if found else entry_point_of(rec["code"], tests)),
                "canonical_solution": base.get("canonical_solution", rec["code"]),
                "assertion": base.get("assertion", "\n".join(tests)),
                "test_imports": list(rec.get("test_imports") or []),
                "test_list": tests,
                "plus_test": rec["test"],
            })
        return merged

    def to_task(self, record: Mapping[str, Any]) -> Task:
        return Task(
            task_id=record["task_id"],
            language="python",
            prompt=record["prompt"],
            instruction=solve_with_tests(record["text"], record["test_list"][:1]),
            entry_point=record["entry_point"],
            record=record,
        )

    def reference_solution(self, task: Task) -> str | None:
        return str(task.record["canonical_solution"])

    def checks(self, task: Task, solution: str) -> dict[str, Submission]:
        rec = task.record
        imports = rec["test_imports"]
        return {
            "base": assert_submission(solution, rec["test_list"], imports=imports),
            "plus": assert_submission(solution, [rec["plus_test"]], imports=imports),
        }
