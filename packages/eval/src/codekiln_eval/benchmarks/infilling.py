"""Infilling benchmarks cut from canonical solutions (Bavarian et al. 2022, "Efficient
Training of Language Models to Fill in the Middle", §5 and its HumanEval infilling sets).

Each task hides a span of a canonical solution: the prefix (the prompt and the solution before
the span) and the suffix (the solution after it) are given, the model writes the middle, and
prefix + middle + suffix runs against the problem's own tests. Built deterministically:

- single-line: every non-blank line of the solution (HumanEval: 1033 tasks);
- multi-line: every run of lines from one non-blank line to a later-or-same one (5815);
- random-span: per problem ``spans`` (default 10: 1640 tasks; 1 is the "light" set) spans
  cut at two uniform character positions by the training data's own split,
  ``codekiln_core.fim.fim_split`` keyed by ``(seed, task id, copy)``; an empty middle is
  drawn again.

A line span ends before the line's newline, so the suffix starts with it: single-line
answers are cut at the first newline, and exact match compares the stripped line. Multi-line
and random-span answers end where the model ends the middle (EOS). The single-line task also
runs on HumanEval-X's Java, JavaScript and C++ solutions (the MultiPL-HumanEval FIM
languages of SantaCoder and Seed-Coder): MultiPL-E itself ships no canonical solutions. The
few HumanEval-X problems whose canonical program fails its own tests (``BROKEN_CANONICAL``)
are left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from codekiln_core.errors import ConfigError
from codekiln_core.fim import FimConfig, fim_split
from codekiln_core.judge import Submission
from codekiln_eval.benchmarks.base import Benchmark, Task
from codekiln_eval.benchmarks.humaneval import HumanEval
from codekiln_eval.extract import truncate_at_stops

KINDS = {"single-line": "SingleLineInfilling", "multi-line": "MultiLineInfilling",
         "random-span": "RandomSpanInfilling"}
#: Problems whose canonical program fails its own tests here: every middle cut from them
#: would be unsolvable, so they are left out (each HumanEval problem passes).
BROKEN_CANONICAL: dict[str, str] = {
    "JavaScript/112": "returns `(z, false)`, which the comma operator makes `false`",
    "JavaScript/155": "counts no digit in 0 (the tests expect [1, 0])",
    "JavaScript/162": "needs the js-md5 npm package",
    "CPP/22": "needs Boost (boost/any.hpp)",
    "CPP/137": "needs Boost (boost/any.hpp)",
    "CPP/162": "needs OpenSSL (openssl/md5.h)",
}
Span = tuple[str, int, int]  # (task-id tail, start, end) within the solution


def line_bounds(solution: str) -> list[tuple[int, int]]:
    """(start, end before the newline) of each non-blank line."""
    bounds, offset = [], 0
    for line in solution.splitlines(keepends=True):
        if line.strip():
            bounds.append((offset, offset + len(line.rstrip("\r\n"))))
        offset += len(line)
    return bounds


def line_index(solution: str, offset: int) -> int:
    return solution.count("\n", 0, offset)


def single_line_spans(solution: str) -> list[Span]:
    return [(f"L{line_index(solution, s)}", s, e) for s, e in line_bounds(solution)]


def multi_line_spans(solution: str) -> list[Span]:
    bounds = line_bounds(solution)
    return [(f"L{line_index(solution, s)}_L{line_index(solution, e)}", s, e)
            for i, (s, _) in enumerate(bounds) for _, e in bounds[i:]]


def random_spans(solution: str, task_id: str, count: int, seed: int) -> list[Span]:
    config = FimConfig(rate=1.0, seed=seed)
    spans: list[Span] = []
    for k in range(count):
        copy = k
        split = fim_split(solution, task_id, config, copy)
        while split is not None and not split.middle:  # drawn again: a span is never empty
            copy += count
            split = fim_split(solution, task_id, config, copy)
        if split is not None:
            start = len(split.prefix)
            spans.append((f"S{k}", start, start + len(split.middle)))
    return spans


class Infilling(Benchmark):
    """Tasks cut from a base benchmark's canonical solutions; checks are the base's."""

    base: ClassVar[type[Benchmark]] = HumanEval
    kind: ClassVar[str] = "single-line"
    infilling = True
    decontamination_fields = ()  # the base benchmark's texts already cover these

    def __init__(self, data: str | Path | None = None, **options: Any) -> None:
        super().__init__(data, **options)
        self.of = self.base(data=data)
        self.spans = self._int_option("spans", 10, 1)
        self.seed = self._int_option("seed", 0, None)

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        return ("spans", "seed") if cls.kind == "random-span" else ()

    def _int_option(self, name: str, default: int, minimum: int | None) -> int:
        raw = self.options.get(name, default)
        try:
            value = int(raw)
        except (TypeError, ValueError):
            value = None
        if value is None or (minimum is not None and value < minimum):
            raise ConfigError(f"benchmark {self.name} option {name}={raw!r}: use an integer"
                              + (f" >= {minimum}" if minimum is not None else ""))
        return value

    @property
    def stop(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("\n",) if self.kind == "single-line" else ()

    def source_files(self) -> list[Path]:
        return self.of.source_files()

    def records(self) -> list[dict[str, Any]]:
        return self.of.records()

    def tasks(self, limit: int | None = None) -> list[Task]:
        made: list[Task] = []
        for task in self.of.tasks():
            if task.task_id not in BROKEN_CANONICAL:
                made.extend(self._cut(task))
            if limit is not None and len(made) >= limit:
                break
        return made[:limit] if limit is not None else made

    def _cut(self, task: Task) -> Iterator[Task]:
        solution = str(task.record["canonical_solution"])
        if self.kind == "single-line":
            spans = single_line_spans(solution)
        elif self.kind == "multi-line":
            spans = multi_line_spans(solution)
        else:
            spans = random_spans(solution, task.task_id, self.spans, self.seed)
        for tail, start, end in spans:
            record: Mapping[str, Any] = {**task.record, "middle": solution[start:end],
                                         "span": [start, end], "base_task_id": task.task_id}
            yield Task(f"{KINDS[self.kind]}/{task.task_id}/{tail}", task.language,
                       task.prompt + solution[:start], "", task.entry_point, record,
                       suffix=solution[end:])

    def solution_from_completion(self, task: Task, completion: str) -> str:
        """Prefix + the model's middle (cut at the stops) + suffix: the program that runs."""
        return task.prompt + truncate_at_stops(completion, self.stop) + (task.suffix or "")

    def solution_from_chat(self, task: Task, answer: str) -> str:
        raise ConfigError(f"{self.name} is an infilling benchmark: use --mode fim (or "
                          "completion, prefix only), not chat")

    def reference_solution(self, task: Task) -> str | None:
        return self.solution_from_completion(task, str(task.record["middle"]))

    def exact_match(self, task: Task, completion: str) -> bool | None:
        """The middle as written, whitespace at both ends aside."""
        return truncate_at_stops(completion, self.stop).strip() == \
            str(task.record["middle"]).strip()

    def checks(self, task: Task, solution: str) -> dict[str, Submission]:
        return self.of.checks(task, solution)


#: HumanEval-X languages with the single-line task (Python is HumanEval itself).
INFILL_X_LANGUAGES = ("java", "javascript", "cpp")


def infilling_benchmarks(bases: dict[str, type[Benchmark]]) -> list[type[Benchmark]]:
    """The infilling variants of the registered ``bases`` (by name)."""
    made: list[type[Benchmark]] = []
    pairs = [(f"humaneval-infill-{kind}", "humaneval", kind) for kind in KINDS]
    pairs += [(f"humaneval-x-infill-{lang}", f"humaneval-x-{lang}", "single-line")
              for lang in INFILL_X_LANGUAGES]
    for name, base_name, kind in pairs:
        base = bases[base_name]
        made.append(type(name.replace("-", "_"), (Infilling,), {
            "name": name, "base": base, "kind": kind, "language": base.language,
            "license": base.license, "training_allowed": base.training_allowed,
            "bundled": base.bundled}))
    return made
