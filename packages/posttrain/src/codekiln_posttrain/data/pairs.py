"""On-policy DPO pairs (spec §7): sample N answers per prompt, judge them in the sandbox.

chosen = an answer that passes the prompt's tests, rejected = one that fails them. A prompt
with no pass or no fail yields no pair; an answer the sandbox could not judge
(``sandbox_error``) is neither chosen nor rejected.

A weak policy (a freshly pretrained small model) passes nothing, so on-policy pairs never
form. With ``reference_chosen`` a row's ``reference`` solution, judged by the same tests in
the same sandbox batch, stands in as chosen when no sample passes; rejected stays on-policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from codekiln_core.config import RecipeModel
from codekiln_posttrain.chat.datasets import row_id
from codekiln_posttrain.rewards.base import RewardFn, Sample
from codekiln_posttrain.sampling import Sampler


class PairsConfig(RecipeModel):
    """Options of ``codekiln posttrain data pairs``."""

    samples: int = Field(8, ge=2, description="answers sampled per prompt (hundreds in the paper)")
    pairs_per_prompt: int = Field(1, ge=1, description="most pairs kept per prompt")
    max_new_tokens: int = Field(512, ge=1, description="longest sampled answer")
    temperature: float = Field(1.0, gt=0, description="sampling temperature")
    prompts_per_batch: int = Field(8, ge=1, description="prompts sampled and judged together")
    timeout_s: float = Field(10.0, gt=0, description="sandbox timeout per run")
    reference_chosen: bool = Field(False, description="when no sample passes, use the row's "
                                   "`reference` solution as chosen if it passes the tests")


@dataclass
class PairCounts:
    prompts: int = 0
    pairs: int = 0
    no_pass: int = 0
    no_fail: int = 0
    unscored: int = 0
    reference_chosen: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def build_pairs(rows: list[dict[str, Any]], sampler: Sampler, judge: RewardFn,
                config: PairsConfig) -> tuple[list[dict[str, Any]], PairCounts]:
    """Preference rows for ``rows`` (RL rows: ``prompt`` messages and ``tests``)."""
    counts = PairCounts()
    pairs: list[dict[str, Any]] = []
    groups = sampler.sample([r["prompt"] for r in rows], config.samples,
                            max_new_tokens=config.max_new_tokens,
                            temperature=config.temperature)
    samples = [Sample(row["prompt"][-1]["content"], c.text, row)
               for row, group in zip(rows, groups, strict=True) for c in group]
    references = [reference_answer(row) if config.reference_chosen else None for row in rows]
    samples += [Sample(row["prompt"][-1]["content"], ref, row)
                for row, ref in zip(rows, references, strict=True) if ref is not None]
    scores = judge.score(samples)
    reference_scores = iter(scores[sum(len(g) for g in groups):])
    at = 0
    for row, group, reference in zip(rows, groups, references, strict=True):
        counts.prompts += 1
        mine = scores[at:at + len(group)]
        at += len(group)
        counts.unscored += sum(s is None for s in mine)
        passed = [c.text for c, s in zip(group, mine, strict=True) if s == 1.0]
        failed = [c.text for c, s in zip(group, mine, strict=True)
                  if s is not None and s < 1.0]
        reference_passed = reference is not None and next(reference_scores) == 1.0
        if not passed and reference_passed and failed:
            passed = [str(reference)]
            counts.reference_chosen += 1
        if not passed:
            counts.no_pass += 1
            continue
        if not failed:
            counts.no_fail += 1
            continue
        for chosen, rejected in list(zip(passed, failed, strict=False))[:config.pairs_per_prompt]:
            pair = {"prompt": row["prompt"], "chosen": chosen, "rejected": rejected,
                    "source_id": row["id"], "tests": row.get("tests"),
                    "language": row.get("language", "python")}
            pair["id"] = row_id(pair)
            pairs.append(pair)
            counts.pairs += 1
    return pairs, counts


def reference_answer(row: dict[str, Any]) -> str | None:
    """The row's reference solution as a fenced answer, like a sampled one; None without."""
    code = row.get("reference")
    if not isinstance(code, str) or not code.strip():
        return None
    return f"```{row.get('language', 'python')}\n{code.strip()}\n```"
