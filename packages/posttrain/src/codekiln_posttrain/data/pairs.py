"""On-policy DPO pairs (seed-coder.md §7): sample N answers per prompt, judge them in the sandbox.

chosen = an answer that passes the prompt's tests, rejected = one that fails them, as the
``code-tests`` reward (core's judge) decides: an answer that games the tests is never chosen.
A prompt with no pass or no fail yields no pair; an answer the sandbox could not judge
(``sandbox_error``), or an empty one (nothing to prefer; DPO refuses it), is neither chosen
nor rejected.

A weak policy (a freshly pretrained small model) passes nothing, so on-policy pairs never
form. With ``reference_chosen`` a row's ``reference`` solution, judged by the same tests in
the same sandbox batch, stands in as chosen when no sample passes; rejected stays on-policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from codekiln_core.config import RecipeModel
from codekiln_core.errors import ConfigError
from codekiln_posttrain.chat.datasets import row_id
from codekiln_posttrain.rewards.base import RewardFn, Sample
from codekiln_posttrain.sampling import ChatSampler

if TYPE_CHECKING:
    from codekiln_core.lineage import InputRef, LineageRun


class PairsConfig(RecipeModel):
    """The recipe of ``codekiln posttrain data pairs``: the prompts, where the answers come
    from (a local ``model`` or an ``endpoint``), and how many."""

    prompts: Path = Field(description="RL prompts (file or directory): prompt messages and "
                          "tests")
    output: Path = Field(description="the preference pairs: a .jsonl or .parquet file")
    model: str | None = Field(None, description="local Hugging Face model directory to sample "
                              "from (or give endpoint)")
    endpoint: str | None = Field(None, description="or: an OpenAI-compatible base URL to "
                                 "sample from")
    endpoint_model: str | None = Field(None, description="the model name at endpoint")
    samples: int = Field(8, ge=2, description="answers sampled per prompt (hundreds in the paper)")
    pairs_per_prompt: int = Field(1, ge=1, description="most pairs kept per prompt")
    max_new_tokens: int = Field(512, ge=1, description="longest sampled answer")
    temperature: float = Field(1.0, gt=0, description="sampling temperature")
    prompts_per_batch: int = Field(8, ge=1, description="prompts sampled and judged together")
    timeout_s: float = Field(10.0, gt=0, description="sandbox timeout per run")
    engine: str = Field("auto", description="generator for a local model: auto (vllm with a "
                        "GPU where installed, else transformers) or a registered name")
    seed: int = Field(0, description="sampling seed: the same prompts draw the same answers")
    reference_chosen: bool = Field(False, description="when no sample passes, use the row's "
                                   "`reference` solution as chosen if it passes the tests")

    @model_validator(mode="after")
    def _one_source(self) -> PairsConfig:
        if (self.model is None) == (self.endpoint is None):
            raise ConfigError("pairs: give exactly one of model (--model DIR) or endpoint "
                              "(--endpoint URL --endpoint-model NAME)")
        if self.endpoint is not None and not self.endpoint_model:
            raise ConfigError(f"endpoint {self.endpoint}: also give endpoint_model (the "
                              "model name there: --endpoint-model NAME)")
        return self


@dataclass
class PairCounts:
    prompts: int = 0
    pairs: int = 0
    no_pass: int = 0
    no_fail: int = 0
    unscored: int = 0
    empty: int = 0
    reference_chosen: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)

    def add(self, other: PairCounts) -> None:
        for key, value in other.as_dict().items():
            setattr(self, key, getattr(self, key) + value)


def build_pairs(rows: list[dict[str, Any]], sampler: ChatSampler, judge: RewardFn,
                config: PairsConfig, seed: int | None = None,
                ) -> tuple[list[dict[str, Any]], PairCounts]:
    """Preference rows for ``rows`` (RL rows: ``prompt`` messages and ``tests``)."""
    counts = PairCounts()
    pairs: list[dict[str, Any]] = []
    groups = sampler.sample([r["prompt"] for r in rows], config.samples,
                            max_new_tokens=config.max_new_tokens,
                            temperature=config.temperature, seed=seed)
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
        counts.empty += sum(not c.text.strip() for c in group)
        judged = [(c.text, s) for c, s in zip(group, mine, strict=True) if c.text.strip()]
        passed = [text for text, s in judged if s == 1.0]
        failed = [text for text, s in judged if s is not None and s < 1.0]
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


def sampler_for(config: PairsConfig) -> ChatSampler:
    """The policy to sample from: the local model (in-process engine), or the endpoint's."""
    from codekiln_core.generation import GeneratorSpec

    if config.endpoint is not None:
        return ChatSampler.open(GeneratorSpec(model=config.endpoint,
                                              endpoint_model=config.endpoint_model))
    return ChatSampler.open(GeneratorSpec(model=config.model, engine=config.engine))


def pairs_inputs(config: PairsConfig) -> list[InputRef]:
    """The prompts and, when local, the policy model (each linking to the run that made it)."""
    from codekiln_core.lineage import InputRef
    from codekiln_posttrain.chat.datasets import dataset_input

    inputs = [dataset_input(config.prompts, "prompts")]
    if config.model is not None:
        if not Path(config.model).is_dir():
            raise ConfigError(f"model {config.model}: no such directory; pass a Hugging Face "
                              "model directory, or sample from an endpoint instead")
        inputs.append(InputRef.from_path(Path(config.model), name="policy-model"))
    return inputs


def sample_preference_pairs(config: PairsConfig, run: LineageRun, *,
                            sampler: ChatSampler | None = None, sandbox: Any = None
                            ) -> dict[str, int]:
    """Pairs for every prompt, judged in the sandbox, written to ``config.output``."""
    from codekiln_posttrain.chat.datasets import read_rows, write_rows
    from codekiln_posttrain.rewards.code_tests import CodeTestsReward

    rows = read_rows(config.prompts, "rl")
    owned = sampler is None
    sampler = sampler or sampler_for(config)
    judge = CodeTestsReward("binary", sandbox=sandbox, timeout_s=config.timeout_s)
    total = PairCounts()
    pairs: list[dict[str, Any]] = []
    try:
        for start in range(0, len(rows), config.prompts_per_batch):
            found, counts = build_pairs(rows[start:start + config.prompts_per_batch],
                                        sampler, judge, config, config.seed + start)
            pairs.extend(found)
            total.add(counts)
    finally:
        judge.close()
        if owned:
            sampler.close()
    if not pairs:
        raise ConfigError(f"{config.prompts}: no prompt had both a passing and a failing "
                          "answer; sample more (--samples N) or use other prompts")
    write_rows(config.output, pairs)
    run.log_metrics(total.as_dict())
    run.log_output(config.output, name="dpo-pairs")
    return total.as_dict()
