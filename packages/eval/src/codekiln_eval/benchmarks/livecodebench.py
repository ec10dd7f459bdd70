"""LiveCodeBench code generation (contest problems dated by release, public + hidden tests).

Problems carry a ``contest_date``; ``start_date``/``end_date`` pick a release window (the
spec's 2410-2502 window is ``start_date=2024-10-01 end_date=2025-02-28``) so a model is scored
only on problems published after its training cut-off. stdin problems run once per test with
real stdin; LeetCode-style (``functional``) problems call ``Solution().<func>`` in one program.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import zlib
from collections.abc import Mapping
from datetime import date
from typing import Any

from codekiln_core.errors import ConfigError
from codekiln_core.judge import Submission
from codekiln_eval.benchmarks.base import Benchmark, Task
from codekiln_eval.prompts import competition_problem

#: Hub files per release tag (each release adds one file).
RELEASE_FILES = {f"v{i}": tuple(["test.jsonl"] + [f"test{j}.jsonl" for j in range(2, i + 1)])
                 for i in range(1, 7)}

FUNCTIONAL_HEADER = (
    "from typing import *\nimport bisect, collections, functools, heapq, itertools, math, "
    "re, string\nfrom collections import *\nfrom functools import *\nfrom itertools import *\n"
    "from heapq import *\nfrom bisect import *\nfrom math import *\n"
)


class _StrOnly(pickle.Unpickler):
    """Upstream pickles a JSON string; refuse anything that would import code."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def decode_tests(value: Any) -> list[dict[str, Any]]:
    """Test cases from a JSON string, or upstream's base64(zlib(pickle(json))) encoding."""
    if not value:
        return []
    if isinstance(value, list):
        return value
    try:
        return list(json.loads(value))
    except ValueError:
        raw = zlib.decompress(base64.b64decode(value.encode("utf-8")))
        return list(json.loads(_StrOnly(io.BytesIO(raw)).load()))


def parse_day(value: Any, key: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise ConfigError(f"livecodebench option {key}={value!r} is not a date "
                          "(use YYYY-MM-DD)") from exc


def functional_tests(func: str, tests: list[dict[str, Any]]) -> str:
    """LeetCode-style cases: call ``Solution().<func>`` on each input, compare the output."""
    cases = [(t["input"], t["output"]) for t in tests]
    return (
        "import json as _json, math as _math\n"
        f"_CASES = _json.loads({json.dumps(json.dumps(cases))})\n"
        "def _same(a, b):\n"
        "    if isinstance(a, tuple):\n        a = list(a)\n"
        "    if isinstance(a, float) or isinstance(b, float):\n"
        "        return _math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)\n"
        "    return a == b\n"
        "for _i, (_inp, _out) in enumerate(_CASES):\n"
        "    _args = [_json.loads(line) for line in _inp.split('\\n') if line.strip()]\n"
        f"    _got = Solution().{func}(*_args)\n"
        "    assert _same(_got, _json.loads(_out)), f'test {_i}: got {_got!r}'\n"
    )


class LiveCodeBench(Benchmark):
    name = "livecodebench"
    license = "unclear (dataset card: cc); problems from LeetCode, AtCoder, Codeforces"
    hub_repo = "livecodebench/code_generation_lite"
    local_patterns = ("code_generation_lite*.jsonl", "test*.jsonl")
    decontamination_fields = ("question_content", "starter_code")
    id_field = "question_id"
    stop = ('\n"""', "\n```", "\nassert ")

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        return ("start_date", "end_date", "release", "difficulty")

    @property
    def hub_patterns(self) -> tuple[str, ...]:  # type: ignore[override]
        release = str(self.options.get("release", "v1")).removeprefix("release_")
        if release not in RELEASE_FILES:
            raise ConfigError(f"livecodebench option release={release!r}; choose one of "
                              f"{', '.join(RELEASE_FILES)}")
        return RELEASE_FILES[release]

    def selected(self, record: Mapping[str, Any]) -> bool:
        day = parse_day(record["contest_date"], "contest_date")
        if "start_date" in self.options and day < parse_day(self.options["start_date"],
                                                            "start_date"):
            return False
        if "end_date" in self.options and day > parse_day(self.options["end_date"], "end_date"):
            return False
        wanted = self.options.get("difficulty")
        return wanted is None or record.get("difficulty") == wanted

    def to_task(self, record: Mapping[str, Any]) -> Task:
        starter = record.get("starter_code") or ""
        meta = record.get("metadata") or "{}"
        meta = json.loads(meta) if isinstance(meta, str) else dict(meta)
        tests = decode_tests(record.get("public_test_cases")) + decode_tests(
            record.get("private_test_cases"))
        prompt = f'"""\n{record["question_content"].strip()}\n"""\n{starter}'
        full = dict(record, tests=tests, func_name=meta.get("func_name"))
        return Task(str(record["question_id"]), "python", prompt,
                    competition_problem(record["question_content"], starter),
                    meta.get("func_name"), full)

    def solution_from_completion(self, task: Task, completion: str) -> str:
        header = task.prompt[: len(task.prompt) - len(task.record.get("starter_code") or "")]
        return super().solution_from_completion(task, completion)[len(header):]

    def checks(self, task: Task, solution: str) -> dict[str, Submission]:
        tests = task.record["tests"]
        functional = [t for t in tests if t.get("testtype") == "functional"]
        found: dict[str, Submission] = {}
        if functional:
            found["functional"] = Submission(
                "python", solution, functional_tests(task.record["func_name"], functional),
                prelude=FUNCTIONAL_HEADER)
        for i, test in enumerate(t for t in tests if t.get("testtype") != "functional"):
            found[f"stdin{i}"] = Submission("python", solution, stdin=test["input"],
                                            expected_stdout=test["output"])
        return found
