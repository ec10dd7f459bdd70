"""The benchmark contract: load problems, build prompts, turn answers into checks.

A benchmark never runs code itself: it returns one judge ``Submission`` per test group (e.g.
``base`` and ``plus`` for EvalPlus) - the answer, and the tests that decide it, kept apart -
and core's judge assembles and runs them, so the same benchmark works with the local sandbox
and a remote one, and answers are judged exactly as rewards and data synthesis judge them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from codekiln_core.errors import ConfigError
from codekiln_core.judge import Submission
from codekiln_eval.benchmarks.io import (
    DATA_ENV,
    bundled_root,
    default_data_root,
    find_local,
    hub_files,
    read_records,
)
from codekiln_eval.extract import extract_code, python_imports, truncate_at_stops


@dataclass(frozen=True)
class Task:
    """One problem, in the form every benchmark shares."""

    task_id: str
    language: str  # sandbox language name
    prompt: str  # completion prompt for base models
    instruction: str  # user message for chat models
    entry_point: str | None = None
    record: Mapping[str, Any] = field(default_factory=dict, repr=False)
    suffix: str | None = None  # infilling: the code after the middle the model writes


class Benchmark:
    """Base class of every registered benchmark; subclasses fill the class variables."""

    name: ClassVar[str]
    language: ClassVar[str] = "python"
    license: ClassVar[str] = ""
    #: False when the license forbids using the data to train models (MultiPL-E clause 4).
    training_allowed: ClassVar[bool] = True
    #: True when codekiln-benchmark-data ships this benchmark's files (permissive licence).
    bundled: ClassVar[bool] = False
    hub_repo: ClassVar[str] = ""
    hub_patterns: ClassVar[tuple[str, ...]] = ()
    local_patterns: ClassVar[tuple[str, ...]] = ()
    decontamination_fields: ClassVar[tuple[str, ...]] = ()
    stop: ClassVar[tuple[str, ...]] = ()
    id_field: ClassVar[str] = "task_id"
    #: True for fill-in-the-middle benchmarks: tasks carry a suffix, --mode fim applies.
    infilling: ClassVar[bool] = False

    def __init__(self, data: str | Path | None = None, **options: Any) -> None:
        #: The explicit ``--data`` path; None means look in the usual places (see ``locate``).
        self.data = Path(data) if data is not None else None
        self.options = dict(options)
        self._records: list[dict[str, Any]] | None = None
        self._files: list[Path] = []
        unknown = set(self.options) - set(self.option_names())
        if unknown:
            raise ConfigError(
                f"benchmark {self.name!r} has no option {sorted(unknown)[0]!r}; "
                f"known options: {', '.join(self.option_names()) or 'none'}"
            )

    # -- data ------------------------------------------------------------------------------
    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """Keyword options the constructor accepts (``-O key=value`` on the CLI)."""
        return ()

    def source_files(self) -> list[Path]:
        """The files the problems were read from (lineage inputs)."""
        self.records()
        return list(self._files)

    def locate(self) -> list[Path]:
        """``--data``, then ``CODEKILN_BENCHMARK_DATA``, then the bundled copy, then the hub.

        An explicit ``--data`` must hold the benchmark; the environment folder is a shared
        root that may hold only some benchmarks, so a benchmark missing there falls through.
        """
        if self.data is not None:
            found = find_local(self.data, self.local_patterns)
            if not found:
                raise ConfigError(
                    f"no {self.name} file under {self.data} (looked for "
                    f"{', '.join(self.local_patterns)}); pass --data with the benchmark file"
                )
            return found
        env_root = default_data_root()
        if env_root is not None:
            found = find_local(env_root, self.local_patterns, origin=DATA_ENV)
            if found:
                return found
        if self.bundled:
            found = find_local(bundled_root(), self.local_patterns)
            if found:
                return found
        return hub_files(self.hub_repo, self.hub_patterns)

    def load_records(self, files: list[Path]) -> list[dict[str, Any]]:
        """Parse the located files into raw records (override to merge several files)."""
        return [r for path in files for r in read_records(path)]

    def records(self) -> list[dict[str, Any]]:
        """Raw upstream records (field names unchanged), loaded once."""
        if self._records is None:
            self._files = self.locate()
            self._records = self.load_records(self._files)
        return self._records

    def tasks(self, limit: int | None = None) -> list[Task]:
        """The evaluated problems, in upstream order."""
        chosen = [self.to_task(r) for r in self.records() if self.selected(r)]
        return chosen[:limit] if limit is not None else chosen

    def selected(self, record: Mapping[str, Any]) -> bool:
        """Whether a record belongs to the evaluated split (all records by default)."""
        return True

    def to_task(self, record: Mapping[str, Any]) -> Task:
        raise NotImplementedError

    # -- decontamination -----------------------------------------------------------------
    def decontamination_texts(self) -> Iterator[tuple[str, str]]:
        """(task_id, text) per benchmark field that training data must not overlap.

        One text per field, so n-grams never span two unrelated fields.
        """
        for record in self.records():
            task_id = str(record.get(self.id_field, ""))
            for name in self.decontamination_fields:
                value = record.get(name)
                if isinstance(value, list):
                    value = "\n".join(str(v) for v in value)
                if value:
                    yield task_id, str(value)

    # -- answers ---------------------------------------------------------------------------
    def solution_from_completion(self, task: Task, completion: str) -> str:
        """The program a base model wrote: prompt plus completion cut at the stop sequences."""
        return task.prompt + truncate_at_stops(completion, self.stop)

    def solution_from_chat(self, task: Task, answer: str) -> str:
        """The program a chat model wrote: the fenced block that defines the entry point."""
        code = extract_code(answer, task.language, task.entry_point)
        if task.language == "python":
            if task.entry_point and f"def {task.entry_point}" not in code:
                return task.prompt + code  # the model wrote only the body
            return python_imports(task.prompt) + code
        return code

    def reference_solution(self, task: Task) -> str | None:
        """A known-correct solution in the same form as the two methods above, if any."""
        return None

    def exact_match(self, task: Task, completion: str) -> bool | None:
        """Whether a completion is the reference answer; None where no such score exists."""
        return None

    def checks(self, task: Task, solution: str) -> dict[str, Submission]:
        """The judged checks of a solution; the sample passes when every check passes."""
        raise NotImplementedError
