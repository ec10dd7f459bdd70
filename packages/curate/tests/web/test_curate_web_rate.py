"""LLM rating of web pages against a real local HTTP server speaking the OpenAI chat API
(the stand-in for a hosted model), with the labeling helper's client, cache and parser, and
the per-category gate."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from codekiln_core.cli.app import main
from codekiln_core.cli.invoke import load_or_defaults
from codekiln_core.errors import ConfigError
from codekiln_core.fake_openai import Response, chat_response, fake_openai_server
from codekiln_curate.label.recipe import TeacherConfig
from codekiln_curate.label.teacher import build_teacher
from codekiln_curate.web.extract import extract_pages
from codekiln_curate.web.page_table import read_pages
from codekiln_curate.web.rate import WEB_PROMPT_VERSION, build_web_prompt, passes_gate, rate_pages
from codekiln_curate.web.recipes import WebRateRecipe


class ChatServer:
    """Rates a page by its SCORE-n marker; MUMBLE -> no rating; DOWN -> always 503 (a script
    step of core's fake OpenAI server)."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.url = ""

    def step(self, body: dict[str, Any]) -> Response:
        prompt = body["messages"][0]["content"]
        with self.lock:
            self.hits[prompt] += 1
        if "DOWN" in prompt:
            return 503, {"error": "down"}, {}
        marker = re.search(r"SCORE-(\d+)", prompt)
        return chat_response(["Plain words only." if "MUMBLE" in prompt else
                              f"Useful page.\nRating: [[{marker.group(1) if marker else 5}]]"])

    @property
    def requests(self) -> int:
        return sum(self.hits.values())


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    server = ChatServer()
    with fake_openai_server(server.step) as fake:
        server.url = f"{fake.url}/v1"
        yield server


PAGES = [
    ("https://stackoverflow.com/questions/1/sort", "SCORE-5 How do I sort a dict by value?"),
    ("https://docs.example.org/api/sort.html", "SCORE-5 sorted(iterable, key) returns a list"),
    ("https://shop.example.com/products/9", "SCORE-8 A mug for programmers, add to cart"),
    ("https://shop.example.com/products/10", "SCORE-7 A shirt for programmers, add to cart"),
    ("https://example.dev/blog/2024/01/x", "MUMBLE a blog post about compilers and parsers"),
    ("https://example.com/about", "DOWN a page about the team behind this website"),
]


@pytest.fixture
def pages_dir(tmp_path: Path) -> Path:
    records = [{"url": url, "html": f"<main><h1>Page</h1><p>{text} with "
                "<code>{braces}</code> and more words to pass the filter.</p></main>"}
               for url, text in PAGES]
    source = tmp_path / "pages.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    extract_pages(source, tmp_path / "extracted")
    return tmp_path / "extracted"


def recipe_for(server: ChatServer, pages: Path, out: Path, cache: Path) -> WebRateRecipe:
    teacher = TeacherConfig.model_validate({"base_url": server.url, "model": "judge",
                                            "max_retries": 1, "concurrency": 3})
    return WebRateRecipe.model_validate({"dataset": str(pages), "output": str(out),
                                         "teacher": teacher.model_dump(),
                                         "cache": str(cache)})


def test_prompt_and_gate() -> None:
    prompt = build_web_prompt("qa-forum", "https://x/q/1", "use {x} and {CONTENT}", 100)
    assert "classified as: qa-forum" in prompt and "https://x/q/1" in prompt
    assert "use {x} and {CONTENT}" in prompt and prompt.rstrip().endswith(">>>")
    assert "[truncated]" in build_web_prompt("other", "", "w " * 200, 200)
    thresholds = {"qa-forum": 4, "documentation": 7, "other": 6}
    assert passes_gate(4, "qa-forum", thresholds) and not passes_gate(6, "documentation",
                                                                      thresholds)
    assert passes_gate(6, "blog-tutorial", thresholds)  # no own threshold: falls back to other


def test_rate_pages_gates_per_category_and_resumes(chat_server: ChatServer, pages_dir: Path,
                                                    tmp_path: Path) -> None:
    out = tmp_path / "rated"
    recipe = recipe_for(chat_server, pages_dir, out, tmp_path / "cache.sqlite")
    result = rate_pages(read_pages(pages_dir), recipe, build_teacher(recipe.teacher))
    stats = result.stats
    assert (stats["pages"], stats["rated"], stats["unparsable"], stats["failed"]) == (6, 4, 1, 1)
    assert stats["prompt_version"] == WEB_PROMPT_VERSION
    rated = {r["url"]: r for r in pq.read_table(out / "rated.parquet").to_pylist()}
    # Same score 5: kept as Q&A (bar 4), dropped as documentation (bar 7).
    assert rated[PAGES[0][0]]["category"] == "qa-forum" and rated[PAGES[0][0]]["kept"]
    assert rated[PAGES[1][0]]["category"] == "documentation"
    assert not rated[PAGES[1][0]]["kept"]
    # E-commerce needs 8: 8 kept, 7 dropped.
    assert rated[PAGES[2][0]]["kept"] and not rated[PAGES[3][0]]["kept"]
    assert stats["kept_per_category"] == {"e-commerce": 1, "qa-forum": 1}
    kept = pq.read_table(out / "kept.parquet").to_pylist()
    assert {k["url"] for k in kept} == {PAGES[0][0], PAGES[2][0]}
    assert all("text" in k and "llm_score" in k for k in kept)
    reasons = {r["reason"].split(":")[0] for r in pq.read_table(
        out / "unparsable.parquet").to_pylist()}
    assert reasons == {"unparsable", "failed"}
    # A rerun asks again only for the failed page (failures are not cached).
    before = chat_server.requests
    again = rate_pages(read_pages(pages_dir),
                       recipe.model_copy(update={"output": tmp_path / "rated2"}),
                       build_teacher(recipe.teacher))
    assert again.stats["cache_hits"] == 5 and chat_server.requests - before == 2  # 1 + 1 retry


def test_recipe_errors_and_cli(chat_server: ChatServer, pages_dir: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    paths = ["dataset=d", "output=o"]
    with pytest.raises(ConfigError, match="unknown categories"):
        load_or_defaults(WebRateRecipe, None, [*paths, "category_thresholds.forums=3"],
                         source="--set")
    parsed = load_or_defaults(WebRateRecipe, None,
                              [*paths, "category_thresholds.documentation=5"], source="--set")
    defaults = WebRateRecipe.model_fields["category_thresholds"].default
    assert parsed.category_thresholds == {**defaults, "documentation": 5}
    code = main(["curate", "web", "rate", str(pages_dir), "--output", str(tmp_path / "out"),
                 "--set", f"teacher.base_url={chat_server.url}", "--set", "teacher.model=j",
                 "--set", "teacher.max_retries=0", "--set",
                 "category_thresholds.documentation=5", "--no-lineage"])
    assert code in (0, None)
    printed = capsys.readouterr().out
    assert "rated 4 of 6 pages, kept 3" in printed
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["kept_per_category"] == {"documentation": 1, "e-commerce": 1, "qa-forum": 1}
    assert main(["curate", "web", "rate", str(pages_dir), "--output", str(tmp_path / "o2"),
                 "--set", "category_thresholds.shops=9", "--no-lineage"]) == 2
