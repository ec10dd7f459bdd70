"""`codekiln curate label` against a real local HTTP server speaking the OpenAI chat API.

The server is the only stand-in (for a hosted LLM); sampling, prompting, HTTP, retries,
parsing, caching, Parquet output and lineage all run for real.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from codekiln_core.cli.app import main
from codekiln_core.errors import ConfigError
from codekiln_core.fake_openai import Response, chat_response, fake_openai_server
from codekiln_core.lineage.run import LineageRun
from codekiln_curate.label.label_dataset import LABEL_COLUMNS, label_dataset, label_files
from codekiln_curate.label.prompt import build_prompt, parse_rating
from codekiln_curate.label.recipe import LabelRecipe


class ChatServer:
    """Answers by marker in the file: GOOD-n -> Rating n, MUMBLE -> no rating,
    FLAKY -> 429 then 500 then a rating, DOWN -> always 503, NOPE -> 400 (a script step of
    core's fake OpenAI server)."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.bodies: list[dict[str, object]] = []
        self.times: dict[str, list[float]] = {}
        self.url = ""

    def step(self, body: dict[str, Any]) -> Response:
        prompt = body["messages"][0]["content"]
        with self.lock:
            self.bodies.append(body)
            self.hits[prompt] += 1
            self.times.setdefault(prompt, []).append(time.monotonic())
            count = self.hits[prompt]
        status, text = self.reply(prompt, count)
        if status == 429:
            return status, {"error": "busy"}, {"Retry-After": "1" if "PATIENT" in prompt
                                               else "0"}
        if status != 200:
            return status, {"error": "busy"}, {}
        return chat_response([text])

    @staticmethod
    def reply(prompt: str, count: int) -> tuple[int, str]:
        if "DOWN" in prompt:
            return 503, ""
        if "NOPE" in prompt:
            return 400, ""
        if "PATIENT" in prompt and count == 1:
            return 429, ""
        if "FLAKY" in prompt and count <= 2:
            return (429 if count == 1 else 500), ""
        if "MUMBLE" in prompt:
            return 200, "This file looks fine to me, nicely written."
        score = prompt.split("GOOD-", 1)[1][:2].strip() if "GOOD-" in prompt else "5"
        return 200, f"Readable, modular and clear.\nRating: [[{score}]]"

    @property
    def requests(self) -> int:
        return sum(self.hits.values())


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    server = ChatServer()
    with fake_openai_server(server.step) as fake:
        server.url = f"{fake.url}/v1"
        yield server
    assert set(fake.paths) <= {"/v1/chat/completions"}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    files = {
        "a.py": "# GOOD-8\ndef add(a, b):\n    return a + b\n",
        "b.py": "# GOOD-3\nx = 1\n",
        "c.py": "# MUMBLE\nprint('hi')\n",
        "d.py": "# FLAKY GOOD-6\ndef f():\n    pass\n",
        "e.py": "# GOOD-10\nclass A:\n    pass\n",
        "main.go": "// GOOD-7\npackage main\n\nfunc main() {}\n",
        "x.js": "// DOWN\nconsole.log(1)\n",
        "notes.txt": "GOOD-9 not in the language list\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def recipe_for(server: ChatServer, dataset: Path, out: Path, **sampling: object) -> LabelRecipe:
    return LabelRecipe.model_validate({
        "dataset": str(dataset), "output": str(out),
        "teacher": {"base_url": server.url, "model": "teacher-x", "concurrency": 3,
                    "max_retries": 3},
        "sampling": {"languages": ["python", "go", "javascript"], "per_language": 10,
                     **sampling},
    })


def test_parser_takes_last_rating_and_rejects_out_of_range() -> None:
    assert parse_rating("ok\nRating: [[7]]").score == 7
    assert parse_rating("Format is Rating: [[X]]. Mine: Rating: [[ 4 ]]").score == 4
    assert parse_rating("Clean code.\nRating: [[0]]").explanation == "Clean code."
    assert parse_rating("**Rating:** 6/10").score == 6  # markdown bold is tolerated
    assert parse_rating("Rating: 6/10").score == 6
    assert parse_rating("score [[9.6]]").score == 10
    assert parse_rating("Rating: [[11]]").score is None
    assert parse_rating("I cannot rate this").score is None
    assert parse_rating("").score is None


def test_prompt_has_rubric_zero_policy_and_literal_content() -> None:
    prompt = build_prompt("c++", "int main() { return {LANGUAGE}; }")
    assert "```C++\nint main() { return {LANGUAGE}; }\n```" in prompt
    for word in ("Readability", "Modularity", "Clarity", "Reusability", "auto-generated",
                 "Rating: [[X]]", "score of 0"):
        assert word in prompt


def test_labels_retries_unparsable_and_cache_resume(chat_server: ChatServer, corpus: Path,
                                                    tmp_path: Path) -> None:
    out = tmp_path / "labels"
    result = label_files(recipe_for(chat_server, corpus, out), _teacher(chat_server))
    stats = result.stats
    assert stats["sampled"] == 7  # notes.txt is not in the language list
    assert (stats["labeled"], stats["unparsable"], stats["failed"]) == (5, 1, 1)
    assert stats["labeled"] + stats["unparsable"] + stats["failed"] == stats["sampled"]
    table = pq.read_table(out / "labels.parquet")
    assert tuple(table.column_names) == LABEL_COLUMNS
    scores = {row["path"]: row["score"] for row in table.to_pylist()}
    assert scores == {"a.py": 8, "b.py": 3, "d.py": 6, "e.py": 10, "main.go": 7}
    assert set(table.column("teacher").to_pylist()) == {"openai:teacher-x"}
    assert all(e == "Readable, modular and clear." for e in table.column("explanation")
               .to_pylist())
    rejected = {r["path"]: r["reason"] for r in pq.read_table(out / "unparsable.parquet")
                .to_pylist()}
    assert rejected["c.py"] == "unparsable" and rejected["x.js"].startswith("failed: gave up")
    flaky = next(p for p in chat_server.hits if "FLAKY" in p)
    assert chat_server.hits[flaky] == 3  # 429, 500, then the answer
    down = next(p for p in chat_server.hits if "DOWN" in p)
    assert chat_server.hits[down] == 4  # first try + max_retries
    first_requests = chat_server.requests
    assert stats["requests"] == first_requests == 5 + 1 + 2 + 4
    assert chat_server.bodies[0]["model"] == "teacher-x"

    again = label_files(recipe_for(chat_server, corpus, out), _teacher(chat_server))
    resent = chat_server.requests - first_requests
    assert resent == 4  # only the failed file is asked again; answers come from the cache
    assert again.stats["cache_hits"] == 6 and again.stats["labeled"] == 5
    assert pq.read_table(out / "labels.parquet").equals(table)


def test_teacher_waits_as_long_as_retry_after_asks(chat_server: ChatServer) -> None:
    teacher = _teacher(chat_server)
    [answer] = teacher.answer_all([(0, "PATIENT GOOD-4 file")])
    assert answer.error is None and answer.attempts == 2 and teacher.requests == 2
    first, second = chat_server.times["PATIENT GOOD-4 file"]
    assert second - first >= 0.9  # the server said Retry-After: 1


def test_rerun_with_everything_cached_makes_zero_requests(chat_server: ChatServer,
                                                          corpus: Path, tmp_path: Path) -> None:
    (corpus / "x.js").unlink()
    out = tmp_path / "labels"
    label_files(recipe_for(chat_server, corpus, out), _teacher(chat_server))
    before = chat_server.requests
    again = label_files(recipe_for(chat_server, corpus, out), _teacher(chat_server))
    assert chat_server.requests == before
    assert again.stats["requests"] == 0 and again.stats["cache_hits"] == 6


def test_quotas_are_per_language_and_seeded(chat_server: ChatServer, corpus: Path,
                                            tmp_path: Path) -> None:
    quotas = {"python": 2, "javascript": 0}
    first = label_files(recipe_for(chat_server, corpus, tmp_path / "a", quotas=quotas, seed=3),
                        _teacher(chat_server))
    assert first.stats["sampled_per_language"] == {"go": 1, "python": 2}
    second = label_files(recipe_for(chat_server, corpus, tmp_path / "b", quotas=quotas,
                                    seed=3), _teacher(chat_server))
    assert [r["id"] for r in second.rows] == [r["id"] for r in first.rows]
    picks = set()
    for seed in range(6):
        seeded = recipe_for(chat_server, corpus, tmp_path / f"s{seed}", quotas=quotas, seed=seed)
        rows = label_files(seeded, _teacher(chat_server)).rows
        picks.add(tuple(sorted(r["path"] for r in rows if r["language"] == "python")))
    assert len(picks) > 1  # the seed changes which python files are picked


def test_cli_labels_curated_parquet_with_lineage(chat_server: ChatServer, corpus: Path,
                                                 tmp_path: Path, mlflow_store: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow as pa

    dataset = tmp_path / "curated"
    (dataset / "data").mkdir(parents=True)
    rows = [{"id": f"id{i}", "path": p.name, "language": "python" if p.suffix == ".py" else "go",
             "content": p.read_text(), "repo": "r", "source": "dir"}
            for i, p in enumerate([*sorted(corpus.glob("*.py")), corpus / "main.go"])]
    pq.write_table(pa.Table.from_pylist(rows), dataset / "data" / "part-0-0.parquet")
    out = tmp_path / "labels"
    recipe = tmp_path / "label.yaml"
    recipe.write_text(f"teacher: {{base_url: '{chat_server.url}', model: t}}\n")
    args = ["curate", "label", str(recipe), str(dataset), "--output", str(out),
            "--set", "sampling.languages=[python, go]"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "labeled 5 of 6 sampled files (1 unparsable, 0 failed" in printed
    run_id = next(line.split()[-1] for line in printed.splitlines()
                  if line.startswith("mlflow run:"))
    from mlflow import MlflowClient

    run = MlflowClient(mlflow_store).get_run(run_id)
    assert run.info.status == "FINISHED"
    assert {d.dataset.name for d in run.inputs.dataset_inputs} >= {"curated", "labels"}
    assert run.data.metrics["labeled"] == 5.0 and run.data.metrics["unparsable"] == 1.0
    assert (out / ".codekiln-run.json").is_file()
    assert sorted(pq.read_table(out / "labels.parquet").column("id").to_pylist()) == \
        ["id0", "id1", "id3", "id4", "id5"]


def test_bad_teacher_settings_are_one_line_errors(tmp_path: Path, corpus: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    recipe = LabelRecipe.model_validate({
        "dataset": str(corpus), "output": str(tmp_path / "o"),
        "teacher": {"model": "m", "api_key_env": "NO_SUCH_KEY_VAR"}})
    with pytest.raises(ConfigError, match="NO_SUCH_KEY_VAR"):
        label_dataset(recipe, LineageRun(None))
    bad = tmp_path / "bad.yaml"
    bad.write_text("teacher: {concurrency: 0}\n")
    args = ["curate", "label", str(corpus), "-o", str(tmp_path / "o"), "--no-lineage",
            "--recipe", str(bad)]  # the old spelling still works, with a deprecation line
    assert main(args) == 2
    deprecation, err = capsys.readouterr().err.strip().splitlines()
    assert deprecation.startswith("codekiln: --recipe is deprecated") and \
        "codekiln curate label RECIPE DATASET" in deprecation
    assert err.startswith(f"error: {bad}: ") and "teacher.concurrency" in err
    assert main(["curate", "label", str(tmp_path / "nope"), "-o", str(tmp_path / "o"),
                 "--no-lineage", "--set", "teacher.model=m"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def _teacher(server: ChatServer):  # type: ignore[no-untyped-def]
    from codekiln_curate.label.openai_teacher import OpenAITeacher

    return OpenAITeacher(recipe_for(server, Path("."), Path(".")).teacher)
