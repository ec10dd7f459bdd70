"""OSS-Instruct-style synthesis with a sandbox self-check (seed-coder.md §7).

For each seed snippet (the highest quality scores of a curated dataset) a teacher model
behind any OpenAI-compatible endpoint writes a new self-contained problem inspired by the
seed, a solution and unit tests. The solution must parse (tree-sitter) and pass its tests,
as core's judge decides (the one eval and the rewards use); when it does not, the teacher
sees the failure and revises, up to ``max_attempts`` times. Only passing items are kept, so
hard problems stay in the set without their wrong answers.

Work is done in parts of ``part_size`` seeds, each written atomically; a rerun skips the
parts already written (resumable, and deterministic for a deterministic endpoint).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from codekiln_core.config import RecipeModel
from codekiln_core.errors import ConfigError
from codekiln_posttrain.chat.datasets import row_id
from codekiln_posttrain.data.syntax import syntax_ok
from codekiln_posttrain.rewards.extract import code_blocks

if TYPE_CHECKING:
    from codekiln_core.lineage import LineageRun

SYSTEM = ("You are an expert programmer who writes clear programming problems with correct, "
          "tested solutions.")
TASK = """Take inspiration from this {language} code snippet to create a new, self-contained
programming problem (not a copy of the snippet) and solve it.

Snippet:
```{language}
{seed}
```

Answer in exactly three sections:
[Problem]
the problem statement, with the function name and signature to implement
[Solution]
```{language}
the solution
```
[Tests]
```{language}
assert-based tests that pass for a correct solution
```"""
REVISE = """Your solution failed its tests in a sandbox ({verdict}):
{detail}
Fix the solution (and the tests, if they were wrong). Answer with the same three sections."""

#: A teacher: the conversation so far in, its next answer out.
Chat = Callable[[list[dict[str, str]]], str]
_SECTION = re.compile(r"\[(Problem|Solution|Tests)\]\s*", re.IGNORECASE)


class InstructConfig(RecipeModel):
    """The recipe of ``codekiln posttrain data instruct``."""

    curated: Path = Field(description="curated dataset (file or directory) with content, "
                          "language and a quality score column: the seeds")
    output: Path = Field(description="directory of part-NNNNN.jsonl SFT rows")
    endpoint: str = Field(..., description="OpenAI-compatible base URL of the teacher model")
    model: str = Field(..., description="teacher model name at the endpoint")
    seeds: int = Field(100, ge=1, description="number of seed snippets (highest scores first)")
    score_column: str = Field("quality_score", description="seed column holding the score")
    min_score: float | None = Field(None, description="skip seeds scored below this")
    language: str | None = Field(None, description="only seeds of this language")
    max_seed_chars: int = Field(2000, ge=100, description="seed snippet cut to this length")
    max_attempts: int = Field(3, ge=1, description="sandbox self-check attempts per item")
    temperature: float = Field(0.7, ge=0, description="teacher sampling temperature")
    max_tokens: int = Field(1024, ge=16, description="longest teacher answer")
    concurrency: int = Field(4, ge=1, description="seeds in flight at once")
    part_size: int = Field(32, ge=1, description="seeds per atomically written part file")
    timeout_s: float = Field(10.0, gt=0, description="sandbox timeout per run")


@dataclass
class Draft:
    problem: str
    solution: str
    tests: str


@dataclass
class Outcome:
    """What became of one seed: a kept row or the reason it was dropped."""

    seed_id: str
    row: dict[str, Any] | None
    attempts: int
    reason: str = "kept"
    log: list[str] = field(default_factory=list)


def parse_answer(text: str) -> Draft | None:
    """The three sections of a teacher answer, or None when any is missing."""
    parts: dict[str, str] = {}
    pieces = _SECTION.split(text)
    for name, body in zip(pieces[1::2], pieces[2::2], strict=False):
        parts[name.lower()] = body.strip()
    if set(parts) != {"problem", "solution", "tests"} or not parts["problem"]:
        return None
    solution, tests = code_blocks(parts["solution"] + "\n"), code_blocks(parts["tests"] + "\n")
    if not solution or not tests:
        return None
    return Draft(parts["problem"], solution[-1][1], tests[-1][1])


def select_seeds(rows: list[dict[str, Any]], config: InstructConfig) -> list[dict[str, Any]]:
    """The best-scored seeds, highest first (ties by id, so the choice is deterministic)."""
    if rows and config.score_column not in rows[0]:
        raise ConfigError(f"seed dataset has no column {config.score_column!r}; columns are "
                          f"{sorted(rows[0])}: set score_column")
    chosen = [r for r in rows if isinstance(r.get("content"), str) and r["content"].strip()
              and (config.language is None or r.get("language") == config.language)
              and (config.min_score is None or float(r[config.score_column]) >= config.min_score)]
    chosen.sort(key=lambda r: (-float(r[config.score_column]), row_id(r)))
    return chosen[: config.seeds]


class Synthesizer:
    """One teacher conversation per seed, checked in the sandbox."""

    def __init__(self, config: InstructConfig, sandbox: Any, chat: Chat) -> None:
        self.config, self.sandbox, self.chat = config, sandbox, chat

    def run_seed(self, seed: dict[str, Any]) -> Outcome:
        from codekiln_core.judge import Judge, Submission

        language = str(seed.get("language") or "python").lower()
        seed_id = row_id(seed)
        messages = [{"role": "system", "content": SYSTEM},
                    {"role": "user", "content": TASK.format(
                        language=language, seed=seed["content"][: self.config.max_seed_chars])}]
        outcome = Outcome(seed_id, None, 0, "no attempt")
        for attempt in range(1, self.config.max_attempts + 1):
            outcome.attempts = attempt
            answer = self.chat(messages)
            messages.append({"role": "assistant", "content": answer})
            draft = parse_answer(answer)
            if draft is None:
                outcome.reason = "unparsable answer"
                feedback = ("format", "the answer lacked [Problem], [Solution] or [Tests] "
                            "with fenced code")
            elif syntax_ok(draft.solution, language) is False:
                outcome.reason = "syntax error"
                feedback = ("syntax error", "the solution does not parse")
            else:
                judged = Judge(self.sandbox).run_one(Submission(
                    language, draft.solution, draft.tests, timeout_s=self.config.timeout_s))
                if judged.passed:
                    outcome.row = self._row(seed_id, draft, language, attempt)
                    outcome.reason = "kept"
                    return outcome
                outcome.reason = f"tests {judged.verdict}"
                if judged.verdict == "sandbox_error":
                    return outcome  # our fault, not the teacher's: do not ask for a revision
                stderr = judged.result.stderr if judged.result is not None else ""
                feedback = (judged.verdict, f"{judged.reason}\n{stderr}"[-1500:])
            messages.append({"role": "user",
                             "content": REVISE.format(verdict=feedback[0], detail=feedback[1])})
        return outcome

    @staticmethod
    def _row(seed_id: str, draft: Draft, language: str, attempts: int) -> dict[str, Any]:
        answer = f"```{language}\n{draft.solution.rstrip()}\n```"
        row = {"messages": [{"role": "user", "content": draft.problem},
                            {"role": "assistant", "content": answer}],
               "tests": draft.tests, "language": language, "seed_id": seed_id,
               "attempts": attempts, "source": "oss-instruct"}
        row["id"] = row_id(row)
        return row

    def run_all(self, seeds: list[dict[str, Any]]) -> list[Outcome]:
        with ThreadPoolExecutor(max_workers=self.config.concurrency) as pool:
            return list(pool.map(self.run_seed, seeds))


def endpoint_chat(config: InstructConfig) -> Chat:
    """Chat with the teacher through the shared OpenAI-compatible client."""
    from codekiln_core.clients import openai_client

    client = openai_client(config.endpoint)

    def chat(messages: list[dict[str, str]]) -> str:
        reply = client.chat.completions.create(
            model=config.model, messages=messages,  # type: ignore[arg-type]
            temperature=config.temperature, max_tokens=config.max_tokens)
        return reply.choices[0].message.content or ""

    return chat


def synthesize_instructions(config: InstructConfig, run: LineageRun, *,
                            chat: Chat | None = None, sandbox: Any = None) -> dict[str, int]:
    """SFT rows from the best seeds, written part by part to ``config.output``: parts
    already there are kept, so an interrupted run continues. Returns the counts of kept
    and dropped seeds. ``chat``/``sandbox`` default to the endpoint and a local sandbox."""
    from collections import Counter

    from codekiln_core.sandbox import LocalSandbox, SandboxLimits
    from codekiln_posttrain.chat.datasets import read_source_rows
    from codekiln_posttrain.data.parts import run_in_parts

    chosen = select_seeds(read_source_rows(config.curated), config)
    if not chosen:
        raise ConfigError(f"{config.curated}: no seed passes the filters (language, "
                          "min_score)")
    owned = sandbox is None
    sandbox = sandbox or LocalSandbox(workers=2, limits=SandboxLimits(timeout_s=config.timeout_s))
    synth = Synthesizer(config, sandbox, chat or endpoint_chat(config))

    def work(chunk: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
        outcomes = synth.run_all(chunk)
        counts = Counter(o.reason for o in outcomes)
        counts["attempts"] = sum(o.attempts for o in outcomes)
        return [o.row for o in outcomes if o.row is not None], dict(counts)

    try:
        rows, counts, resumed = run_in_parts(chosen, config.output, config.part_size, work,
                                             "instruct")
    finally:
        if owned:
            sandbox.close()
    summary = {"seeds": len(chosen), "kept": rows, "resumed_parts": resumed, **counts}
    run.log_metrics(summary)
    run.log_output(config.output, name="sft-data")
    return summary
