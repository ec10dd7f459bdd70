"""The data work against a real local HTTP server standing in for the hosted LLM, with the
real sandbox and tree-sitter: instruct (self-check, revision, resume), import, pairs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.cli.app import main
from codekiln_core.config import validate
from codekiln_core.errors import ConfigError
from codekiln_core.fake_openai import fake_openai_server
from codekiln_core.judge import hacks
from codekiln_core.lineage import LineageRun
from codekiln_core.sandbox import LocalSandbox, SandboxLimits
from codekiln_posttrain.chat.datasets import read_rows
from codekiln_posttrain.data.importing import ImportConfig, import_sft_set, mbpp_split_rows
from codekiln_posttrain.data.instruct import (
    InstructConfig,
    parse_answer,
    synthesize_instructions,
)
from codekiln_posttrain.data.pairs import PairsConfig, sample_preference_pairs

from ..conftest import PROBLEMS, fenced, rl_rows, write_jsonl

pytestmark = pytest.mark.sandbox


@contextmanager
def chat_server(reply: Callable[[list[dict[str, str]], int], list[str]],
                ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The core fake endpoint answering chats with ``reply(messages, n)``: its URL and the
    request bodies it received."""
    with fake_openai_server(reply=lambda body, n: reply(body["messages"], n)) as fake:
        yield fake.url, fake.requests


def answer(problem: str, solution: str, tests: str) -> str:
    return f"[Problem]\n{problem}\n[Solution]\n{fenced(solution)}\n[Tests]\n{fenced(tests)}"


GOOD = answer("Write double(x).", "def double(x):\n    return 2 * x\n",
              "assert double(2) == 4\n")
WRONG = answer("Write double(x).", "def double(x):\n    return x + 1\n",
               "assert double(2) == 4\n")
BROKEN = answer("Write f.", "def f(:\n    return\n", "assert f() is None\n")


def teacher(messages: list[dict[str, str]], n: int) -> list[str]:
    """Seed 'fixable' is wrong first and right after feedback; 'broken' never parses;
    'garbage' ignores the format; 'easy' is right at once."""
    seed = messages[1]["content"]
    revisions = sum(m["role"] == "user" for m in messages) - 1
    if "fixable" in seed:
        return [GOOD if revisions else WRONG]
    if "broken" in seed:
        return [BROKEN]
    if "garbage" in seed:
        return ["Sure! Here is some code."]
    return [GOOD]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LocalSandbox]:
    with LocalSandbox(workers=2, limits=SandboxLimits(timeout_s=5)) as sb:
        yield sb


def seeds_file(tmp_path: Path) -> Path:
    rows = [{"id": name, "content": f"# {name}\nx = 1\n", "language": "python",
             "quality_score": score}
            for name, score in (("easy", 9.0), ("fixable", 8.0), ("broken", 7.0),
                                ("garbage", 6.5), ("low", 1.0))]
    return write_jsonl(tmp_path / "seeds.jsonl", rows)


def test_instruct_self_check_revises_filters_and_resumes(tmp_path: Path,
                                                         sandbox: LocalSandbox,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    seeds, out = seeds_file(tmp_path), tmp_path / "sft"
    with chat_server(teacher) as (url, calls):
        config = InstructConfig(curated=seeds, output=out, endpoint=url, model="teacher",
                                seeds=4, max_attempts=2, part_size=2, concurrency=2)
        summary = synthesize_instructions(config, LineageRun(None), sandbox=sandbox)
        assert summary["seeds"] == 4 and summary["kept"] == 2  # the low-score seed unused
        assert summary["syntax error"] == 1 and summary["unparsable answer"] == 1
        rows = read_rows(out, "sft")
        assert sorted(r["attempts"] for r in rows) == [1, 2]  # 'fixable' kept after revision
        assert all("double" in r["messages"][0]["content"] for r in rows)
        assert calls[0]["model"] == "teacher"
        revision = next(c for c in calls if len(c["messages"]) > 3)
        assert "failed" in revision["messages"][-1]["content"]  # the sandbox's verdict fed back
        made = len(calls)
        argv = ["posttrain", "data", "instruct", str(seeds), "--output", str(out),
                "--endpoint", url, "--model", "teacher", "--seeds", "4", "--set",
                "part_size=2", "--no-lineage"]
        assert main(argv) == 2  # the written parts are never overwritten silently
        assert "pass --resume" in capsys.readouterr().err
        assert main([*argv, "--resume"]) == 0
        assert len(calls) == made  # every part was there: the teacher is not asked again
        assert "resumed_parts" in capsys.readouterr().out


GAMED = answer("Write double(x).", "class Anything:\n    def __eq__(self, other):\n"
               "        return True\n\ndef double(x):\n    return Anything()\n",
               "assert double(2) == 4\n")


def test_instruct_self_check_keeps_no_solution_that_games_its_tests(
        tmp_path: Path, sandbox: LocalSandbox) -> None:
    seeds = write_jsonl(tmp_path / "seeds.jsonl", [{"id": "s", "content": "x = 1\n",
                                                    "language": "python", "quality_score": 1}])
    with chat_server(lambda messages, n: [GAMED]) as (url, calls):
        config = InstructConfig(curated=seeds, output=tmp_path / "sft", endpoint=url,
                                model="teacher", seeds=1, max_attempts=2)
        summary = synthesize_instructions(config, LineageRun(None), sandbox=sandbox)
    assert summary["kept"] == 0 and summary["tests failed"] == 1 and len(calls) == 2
    assert "AssertionError" in calls[1]["messages"][-1]["content"]  # the judge's verdict


def test_parse_answer_needs_all_three_sections() -> None:
    assert parse_answer(GOOD) is not None
    assert parse_answer("[Problem]\nx\n[Solution]\nno fence\n[Tests]\n```\nassert 1\n```") is None


def import_set(source: Path, output: Path, **keys: Any) -> dict[str, int]:
    return import_sft_set(ImportConfig(source=str(source), output=output, **keys),
                          LineageRun(None))


def test_import_formats_and_mbpp_splits(tmp_path: Path) -> None:
    alpaca = write_jsonl(tmp_path / "a.jsonl", [{"instruction": "Add", "input": "1, 2",
                                                  "output": "3"}])
    assert import_set(alpaca, tmp_path / "a-out.jsonl", format="alpaca")["rows"] == 1
    row = read_rows(tmp_path / "a-out.jsonl", "sft")[0]
    assert row["messages"][0]["content"] == "Add\n\n1, 2"
    mbpp = write_jsonl(tmp_path / "m.jsonl", [
        {"task_id": 5, "text": "t", "code": "x=1", "test_list": ["assert x"]},
        {"task_id": 100, "text": "t", "code": "x=1", "test_list": ["assert x"]},
        {"task_id": 700, "text": "t", "code": "x=1", "test_list": ["assert x"]}])
    summary = import_set(mbpp, tmp_path / "m-out.jsonl", format="mbpp",
                         mbpp_split=["train", "prompt"])
    assert summary == {"read": 2, "rows": 2}  # task 100 is the test split: never imported
    with pytest.raises(ConfigError, match="may not be trained on"):
        mbpp_split_rows([], ["test"])
    base = {"source": str(mbpp), "output": str(tmp_path / "x.jsonl")}
    with pytest.raises(ConfigError, match=r"mbpp_split.*'test' may not be trained on"):
        validate({**base, "format": "mbpp", "mbpp_split": "test"}, ImportConfig, source="r")
    with pytest.raises(ConfigError, match="applies to format mbpp only"):
        validate({**base, "mbpp_split": "train"}, ImportConfig, source="r")


def policy(messages: list[dict[str, str]], n: int) -> list[str]:
    """Sampled answers: for 'add' half right, half wrong; for 'square' all right."""
    prompt = messages[-1]["content"]
    problem = next(p for p in PROBLEMS if p["prompt"] == prompt)
    if problem["id"] == "square":
        return [fenced(problem["solution"])] * n
    return [fenced(problem["solution"] if i % 2 else problem["wrong"]) for i in range(n)]


def test_pairs_chosen_pass_rejected_fail_and_no_one_sided_pairs(
        tmp_path: Path, sandbox: LocalSandbox) -> None:
    prompts = write_jsonl(tmp_path / "rl.jsonl", rl_rows()[:2])
    with chat_server(policy) as (url, calls):
        config = PairsConfig(prompts=prompts, output=tmp_path / "pairs.jsonl", endpoint=url,
                             endpoint_model="policy", samples=4)
        counts = sample_preference_pairs(config, LineageRun(None), sandbox=sandbox)
    assert calls[0]["n"] == 4
    assert counts["pairs"] == 1 and counts["no_fail"] == 1 and counts["no_pass"] == 0
    (pair,) = read_rows(tmp_path / "pairs.jsonl", "preference")
    assert "a + b" in pair["chosen"] and "a - b" in pair["rejected"]


def always_wrong(messages: list[dict[str, str]], n: int) -> list[str]:
    """A weak policy: every sample fails its tests."""
    problem = next(p for p in PROBLEMS if p["prompt"] == messages[-1]["content"])
    return [fenced(problem["wrong"])] * n


def test_a_passing_reference_stands_in_for_chosen_only_when_asked(
        tmp_path: Path, sandbox: LocalSandbox) -> None:
    rows = rl_rows()[:2]
    rows[0]["reference"] = PROBLEMS[0]["solution"]
    rows[1]["reference"] = PROBLEMS[1]["wrong"]  # a wrong reference is never chosen
    prompts = write_jsonl(tmp_path / "rl.jsonl", rows)
    with chat_server(always_wrong) as (url, _):
        base = {"prompts": prompts, "endpoint": url, "endpoint_model": "policy", "samples": 2}
        with pytest.raises(ConfigError, match="no prompt had both"):
            sample_preference_pairs(PairsConfig(**base, output=tmp_path / "none.jsonl"),
                                    LineageRun(None), sandbox=sandbox)
        assert not (tmp_path / "none.jsonl").exists()
        config = PairsConfig(**base, output=tmp_path / "pairs.jsonl", reference_chosen=True)
        counts = sample_preference_pairs(config, LineageRun(None), sandbox=sandbox)
    assert counts["pairs"] == counts["reference_chosen"] == 1 and counts["no_pass"] == 1
    (pair,) = read_rows(tmp_path / "pairs.jsonl", "preference")
    assert PROBLEMS[0]["solution"].strip() in pair["chosen"]
    assert PROBLEMS[0]["wrong"].strip() in pair["rejected"]


def empty_then_wrong(messages: list[dict[str, str]], n: int) -> list[str]:
    """A weak policy whose first samples are empty (it stopped at once)."""
    problem = next(p for p in PROBLEMS if p["prompt"] == messages[-1]["content"])
    return ["", " \n"] + [fenced(problem["wrong"])] * (n - 2)


def test_an_empty_answer_is_never_a_pair_member(tmp_path: Path,
                                                sandbox: LocalSandbox) -> None:
    rows = rl_rows()[:1]
    rows[0]["reference"] = PROBLEMS[0]["solution"]
    prompts = write_jsonl(tmp_path / "rl.jsonl", rows)
    with chat_server(empty_then_wrong) as (url, _):
        config = PairsConfig(prompts=prompts, output=tmp_path / "pairs.jsonl", endpoint=url,
                             endpoint_model="policy", samples=3, reference_chosen=True)
        counts = sample_preference_pairs(config, LineageRun(None), sandbox=sandbox)
    assert counts["empty"] == 2 and counts["pairs"] == 1
    (pair,) = read_rows(tmp_path / "pairs.jsonl", "preference")  # DPO's reader accepts it
    assert PROBLEMS[0]["wrong"].strip() in pair["rejected"]


def battery_policy(messages: list[dict[str, str]], n: int) -> list[str]:
    """Samples for the battery's task: the correct answer, then every hack of the language."""
    language = messages[-1]["content"].split()[-1]
    answers = [hacks.CORRECT[language]] + [h.answer for h in hacks.HACKS
                                           if h.language == language]
    return [f"```{language}\n{a}```" for a in (answers + [hacks.WRONG[language]] * n)[:n]]


def test_pairs_never_choose_an_answer_that_games_the_tests(tmp_path: Path,
                                                           sandbox: LocalSandbox) -> None:
    styles = {"python": "asserts", "javascript": "console", "bash": "multipl-e"}
    rows = [{"id": lang, "prompt": [{"role": "user", "content": f"Write add(a, b) in {lang}"}],
             "tests": hacks.TESTS[(lang, style)], "language": lang}
            for lang, style in styles.items()]
    samples = max(sum(h.language == lang for h in hacks.HACKS) for lang in styles) + 1
    prompts = write_jsonl(tmp_path / "rl.jsonl", rows)
    with chat_server(battery_policy) as (url, _):
        config = PairsConfig(prompts=prompts, output=tmp_path / "pairs.jsonl", endpoint=url,
                             endpoint_model="policy", samples=samples, pairs_per_prompt=8)
        counts = sample_preference_pairs(config, LineageRun(None), sandbox=sandbox)
    pairs = read_rows(tmp_path / "pairs.jsonl", "preference")
    assert counts["pairs"] == len(pairs) == 3 and counts["unscored"] == 0
    assert {p["language"]: p["chosen"] for p in pairs} == {
        lang: f"```{lang}\n{hacks.CORRECT[lang]}```" for lang in styles}
