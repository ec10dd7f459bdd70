"""HumanEval in other languages: HumanEval-X (THUDM, Apache-2.0) and MultiPL-E (NUPRL).

MultiPL-E's license forbids using its contents as training data (BSD-3 plus a machine
learning clause): it is marked ``training_allowed = False``; it may serve as evaluation data
and as a decontamination blocklist only.

Languages left out, and why: HumanEval-X Rust tests are ``#[test]`` modules that need the
``rand``/``regex``/``md5`` crates; HumanEval-X and MultiPL-E Go run under ``go test``;
MultiPL-E Java imports ``org.javatuples`` (not on a bare JDK classpath).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from codekiln_core.judge import Submission
from codekiln_eval.benchmarks.base import Benchmark, Task
from codekiln_eval.extract import extract_code
from codekiln_eval.prompts import PYTHON_FUNCTION_STOPS, complete_function

_HEADER = re.compile(r"^\s*(#include|import\s|using\s|use\s|from\s\w+\s+import)")

HUMANEVAL_X_FILES = {"python": "python", "cpp": "cpp", "javascript": "js", "java": "java"}
MULTIPLE_FILES = {"python": "py", "cpp": "cpp", "javascript": "js", "rust": "rs", "bash": "sh"}
_JS_STOPS = ("\nfunction ", "\n/*", "\n//", "\nconsole.log")


def header_lines(code: str) -> str:
    """Include/import lines of a prompt, which chat answers often leave out."""
    return "".join(line + "\n" for line in code.splitlines() if _HEADER.match(line))


def entry_from_name(name: str) -> str:
    """``HumanEval_0_has_close_elements`` -> ``has_close_elements``."""
    return name.split("_", 2)[2] if name.count("_") >= 2 else name


class HumanEvalX(Benchmark):
    name = "humaneval-x-python"
    language = "python"
    license = "Apache-2.0"
    bundled = True
    hub_repo = "THUDM/humaneval-x"
    decontamination_fields = ("prompt", "declaration", "canonical_solution", "test")
    file_tag: ClassVar[str] = "python"

    @property
    def local_patterns(self) -> tuple[str, ...]:  # type: ignore[override]
        return (f"humaneval_{self.file_tag}.jsonl.gz", f"humaneval_{self.file_tag}.jsonl")

    @property
    def hub_patterns(self) -> tuple[str, ...]:  # type: ignore[override]
        return (f"data/{self.file_tag}/data/humaneval*.jsonl*",)

    @property
    def stop(self) -> tuple[str, ...]:  # type: ignore[override]
        if self.language == "python":
            return PYTHON_FUNCTION_STOPS
        if self.language == "javascript":
            return _JS_STOPS
        return ("\n}\n\n", "\nint main", "\npublic class Main")

    def to_task(self, record: Mapping[str, Any]) -> Task:
        declaration = record.get("declaration", "")
        found = re.search(r"(\w+)\s*(?:=\s*\([^)]*\)\s*=>|\()[^(]*$", declaration.strip())
        entry = found.group(1) if found else None
        return Task(record["task_id"], self.language, record["prompt"],
                    complete_function(record["prompt"], self.language), entry, record)

    def reference_solution(self, task: Task) -> str | None:
        return task.prompt + str(task.record["canonical_solution"])

    def solution_from_chat(self, task: Task, answer: str) -> str:
        if self.language == "python":
            return super().solution_from_chat(task, answer)
        code = extract_code(answer, self.language, task.entry_point)
        return header_lines(task.record.get("declaration", "")) + code

    def checks(self, task: Task, solution: str) -> dict[str, Submission]:
        # The judge makes JavaScript's console.assert throw (HumanEval-X relies on it).
        return {"base": Submission(self.language, solution, f"{task.record['test']}\n")}


class MultiPLE(Benchmark):
    name = "multipl-e-python"
    language = "python"
    license = "BSD-3-Clause with a no-training clause (clause 4): evaluation/decontamination only"
    training_allowed = False
    hub_repo = "nuprl/MultiPL-E"
    id_field = "name"
    decontamination_fields = ("prompt", "tests")
    file_tag: ClassVar[str] = "py"

    @property
    def local_patterns(self) -> tuple[str, ...]:  # type: ignore[override]
        return (f"humaneval-{self.file_tag}-reworded.jsonl*",)

    @property
    def hub_patterns(self) -> tuple[str, ...]:  # type: ignore[override]
        return (f"humaneval-{self.file_tag}/*.parquet",)

    def to_task(self, record: Mapping[str, Any]) -> Task:
        return Task(record["name"], self.language, record["prompt"],
                    complete_function(record["prompt"], self.language),
                    entry_from_name(record["name"]), record)

    def solution_from_completion(self, task: Task, completion: str) -> str:
        stops = tuple(task.record.get("stop_tokens") or ())
        from codekiln_eval.extract import truncate_at_stops

        return task.prompt + truncate_at_stops(completion, stops)

    def solution_from_chat(self, task: Task, answer: str) -> str:
        if self.language == "python":
            return super().solution_from_chat(task, answer)
        code = extract_code(answer, self.language, task.entry_point)
        return header_lines(task.prompt) + code

    def checks(self, task: Task, solution: str) -> dict[str, Submission]:
        tests, answer = task.record["tests"], solution
        if tests.lstrip().startswith("}"):
            # The tests' leading "}" closes the prompt's function: it belongs to a completion
            # (the answer must stand alone); a chat answer is a whole function already.
            tests = tests.lstrip()[1:]
            if solution.startswith(task.prompt):
                answer = f"{solution}\n}}"
        return {"base": Submission(self.language, answer, f"{tests}\n")}


def language_variants() -> list[type[Benchmark]]:
    """One registered benchmark class per supported language of each family."""
    made: list[type[Benchmark]] = []
    for lang, tag in HUMANEVAL_X_FILES.items():
        made.append(type(f"HumanEvalX_{tag}", (HumanEvalX,), {
            "name": f"humaneval-x-{lang}", "language": lang, "file_tag": tag}))
    for lang, tag in MULTIPLE_FILES.items():
        made.append(type(f"MultiPLE_{tag}", (MultiPLE,), {
            "name": f"multipl-e-{lang}", "language": lang, "file_tag": tag}))
    return made
