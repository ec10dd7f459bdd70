"""The GRPO loop (``backend: local``): transformers ``generate`` for groups, our sandbox
for rewards, the DAPO objective, and codekiln-train's engine for the optimizer step; data
parallel under torchrun or DeepSpeed's launcher, and resumable mid-run.

Per step: take ``prompts_per_step`` prompts and cut them into ``ranks x accumulation``
micro-batches (micro-batch ``j`` on rank ``j % ranks``). Each micro-batch samples the
stage's ``rollouts`` completions of its prompts (at most the stage's ``max_new_tokens``),
scores them, drops uniform groups, overlong and unscored completions and normalises
advantages per group (:mod:`codekiln_posttrain.grpo.rollouts`). Then one on-policy update
over all of them: token-level loss over the kept tokens of the whole step (every rank's),
clip [1-0.2, 1+0.28], no KL. A step where no group has any signal makes no update. For tiny
models on CPU and small ones on a GPU; verl is the path at scale.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    import torch

    from codekiln_core.lineage import LineageRun
    from codekiln_posttrain.grpo.curriculum import Stage
    from codekiln_posttrain.grpo.rollouts import Rollouts
    from codekiln_posttrain.recipe import GrpoRecipe
    from codekiln_posttrain.rewards.base import RewardFn
    from codekiln_posttrain.sampling import Completion

#: Prompts per chunk of the curriculum pre-pass (chunks are shared out over the ranks).
CURRICULUM_CHUNK = 8


@dataclass
class GrpoResult:
    """What a GRPO run made, its headline numbers and its per-step metrics."""

    model_dir: str
    model_uri: str
    steps: int
    updates: int
    prompts: int
    curriculum_dropped: int
    mean_reward: float
    groups_kept: int
    history: list[dict[str, float]] = field(default_factory=list)


def build_reward(recipe: GrpoRecipe, registry: Any = None) -> RewardFn:
    from codekiln_posttrain.rewards.adapters import load_reward
    from codekiln_posttrain.rewards.base import WeightedSum

    g = recipe.grpo
    parts = []
    for name, weight in g.rewards.items():
        options = dict(g.reward_options.get(name, {}))
        if name == "code-tests":
            options.setdefault("workers", g.sandbox_workers)
            options.setdefault("timeout_s", g.timeout_s)
            options.setdefault("url", g.sandbox_url)
        parts.append((load_reward(name, options, registry=registry), weight))
    return WeightedSum(parts)


def curriculum(rows: list[dict[str, Any]], sampler: Any, reward: RewardFn,
               recipe: GrpoRecipe) -> list[int]:
    """Indices of the prompts worth training on: the start policy solves them at most
    87.5% of the time (seed-coder.md §8). Chunks of prompts are shared out over the ranks."""
    from codekiln_posttrain.grpo.curriculum import keep_for_curriculum, pass_rates
    from codekiln_posttrain.grpo.rollouts import sample_seeded, sampling_seed, score_groups
    from codekiln_posttrain.ranks import share_out

    g = recipe.grpo
    if g.curriculum_samples == 0:
        return list(range(len(rows)))

    def rates(index: int, chunk: list[dict[str, Any]]) -> list[float | None]:
        groups = sample_seeded(sampler, chunk, g.curriculum_samples,
                               max_new_tokens=g.stages[0].max_new_tokens,
                               temperature=g.temperature,
                               seed=sampling_seed(recipe.seed, -1, index))
        return pass_rates(score_groups(reward, chunk, groups), g.curriculum_samples)

    chunks = [rows[i:i + CURRICULUM_CHUNK] for i in range(0, len(rows), CURRICULUM_CHUNK)]
    found = [rate for part in share_out(chunks, rates) for rate in part]
    keep = keep_for_curriculum(found, g.curriculum_max_pass_rate)
    return [i for i, kept in enumerate(keep) if kept]


def update_batch(prompt_ids: list[list[int]], completions: list[Completion],
                 advantages: list[float], pad_id: int) -> dict[str, torch.Tensor]:
    """Left-padded prompts and right-padded completions of the kept samples."""
    import torch

    wp = max(map(len, prompt_ids))
    wc = max(1, max(len(c.token_ids) for c in completions))
    return {
        "prompt_ids": torch.tensor([[pad_id] * (wp - len(p)) + p for p in prompt_ids]),
        "prompt_mask": torch.tensor([[0] * (wp - len(p)) + [1] * len(p) for p in prompt_ids]),
        "completion_ids": torch.tensor([list(c.token_ids) + [pad_id] * (wc - len(c.token_ids))
                                        for c in completions]),
        "completion_mask": torch.tensor([[1] * len(c.token_ids) + [0] * (wc - len(c.token_ids))
                                         for c in completions]),
        "advantages": torch.tensor(advantages, dtype=torch.float32),
    }


class LocalGrpo:
    """One policy being trained: rolls out its share of each step, takes the DAPO update."""

    def __init__(self, recipe: GrpoRecipe, model: Any, tokenizer: Any, reward: RewardFn,
                 steps: int) -> None:
        from codekiln_posttrain.finetune import build_engine, pad_token_id
        from codekiln_posttrain.sampling import TransformersSampler

        self.recipe, self.tokenizer, self.reward = recipe, tokenizer, reward
        self.pad = pad_token_id(tokenizer)
        self.engine = build_engine(model, recipe, steps)
        self.parts = self.engine.gradient_accumulation_steps * self.engine.world_size
        if recipe.grpo.prompts_per_step % self.parts:
            raise ConfigError(
                f"grpo.prompts_per_step={recipe.grpo.prompts_per_step} does not split into "
                f"{self.engine.world_size} rank(s) x {self.engine.gradient_accumulation_steps} "
                f"micro-batch(es); make it a multiple of {self.parts}")
        self.sampler = TransformersSampler(self.engine.module, tokenizer,
                                           top_p=recipe.grpo.top_p)

    def step(self, step: int, rows: list[dict[str, Any]], stage_index: int, stage: Stage
             ) -> dict[str, float]:
        """Roll out this rank's micro-batches of the step's ``rows``, update; the metrics."""
        from codekiln_posttrain.grpo.rollouts import roll_out, sampling_seed, step_metrics
        from codekiln_posttrain.ranks import summed

        g, engine = self.recipe.grpo, self.engine
        size = len(rows) // self.parts
        rollouts = [roll_out(self.sampler, self.reward, rows[j * size:(j + 1) * size], stage,
                             temperature=g.temperature, filter_overlong=g.filter_overlong,
                             seed=sampling_seed(self.recipe.seed, step, j))
                    for j in range(engine.rank, self.parts, engine.world_size)]
        totals = summed(_added([part.sums() for part in rollouts]))
        metrics = step_metrics(totals, stage_index)
        if totals["kept_tokens"] > 0:
            metrics.update(self.update(rollouts, totals["kept_tokens"]))
        return metrics

    def update(self, rollouts: list[Rollouts], tokens: float) -> dict[str, float]:
        """One optimizer step over every rank's kept completions: each micro-batch's loss
        is divided by the step's kept tokens over the number of micro-batches."""
        from codekiln_posttrain.ranks import summed

        engine = self.engine
        engine.train(True)
        parts = []
        for part in rollouts:
            loss, counts = self.part_loss(part, tokens / self.parts)
            engine.backward(loss)
            parts.append(counts)
        stats = engine.step()
        totals = summed(_added(parts))
        low, high = totals["clip_low_tokens"] / tokens, totals["clip_high_tokens"] / tokens
        return {"loss": totals["loss"] / self.parts, "clip_ratio/low": low,
                "clip_ratio/high": high, "clip_ratio/region": low + high,
                "grad_norm": stats.grad_norm, "lr": stats.lr}

    def part_loss(self, part: Rollouts, normalizer: float
                  ) -> tuple[torch.Tensor, dict[str, float]]:
        """The loss of one micro-batch's kept completions (a zero loss through the model
        when it has none, so every rank takes part in the step's gradient exchange)."""
        import torch

        from codekiln_posttrain.chat.template import encode_prompt
        from codekiln_posttrain.grpo.objective import grpo_step_loss

        g, engine, kept = self.recipe.grpo, self.engine, part.kept
        if not kept:
            probe = torch.tensor([[self.pad]], device=engine.device)
            zero = engine.wrapped(input_ids=probe, use_cache=False).logits.sum() * 0.0
            return zero, {"loss": 0.0, "clip_low_tokens": 0.0, "clip_high_tokens": 0.0}
        prompts = [encode_prompt(self.tokenizer, part.rows[i // part.group_size]["prompt"])
                   for i in kept]
        batch = update_batch(prompts, [part.completions[i] for i in kept],
                             [part.advantages[i] for i in kept], self.pad)
        batch = {k: v.to(engine.device) for k, v in batch.items()}
        loss, extra = grpo_step_loss(engine.wrapped, batch, temperature=g.temperature,
                                     eps_low=g.eps_low, eps_high=g.eps_high,
                                     normalizer=normalizer)
        count = float(batch["completion_mask"].sum())
        return loss, {"loss": float(loss.detach()),
                      "clip_low_tokens": extra["clip_ratio/low"] * count,
                      "clip_high_tokens": extra["clip_ratio/high"] * count}


def _added(parts: list[dict[str, float]]) -> dict[str, float]:
    """Key-wise sums of this rank's micro-batches, in micro-batch order."""
    totals: dict[str, float] = {}
    for part in parts:
        for key, value in part.items():
            totals[key] = totals.get(key, 0.0) + value
    return totals


def kept_prompts(rows: list[dict[str, Any]], policy: LocalGrpo, reward: RewardFn,
                 recipe: GrpoRecipe, *, resume: bool) -> list[dict[str, Any]]:
    """The curriculum's prompts: an interrupted attempt's verdict when resuming, else the
    pre-pass's (noted in the output by rank 0)."""
    from codekiln_posttrain.grpo.progress import store_curriculum, stored_curriculum
    from codekiln_posttrain.ranks import is_rank_zero

    kept = stored_curriculum(recipe.output) if resume else None
    if kept is None:
        kept = curriculum(rows, policy.sampler, reward, recipe)
        if is_rank_zero():
            store_curriculum(recipe.output, kept)
    if not kept:
        raise ConfigError(f"curriculum dropped all {len(rows)} prompts (solved > "
                          f"{recipe.grpo.curriculum_max_pass_rate:.1%}); use harder prompts")
    return [rows[i] for i in kept]


def train_grpo_local(recipe: GrpoRecipe, *, run: LineageRun, registry: Any = None,
                     resume: bool = False) -> GrpoResult:
    """Run the schedule (continuing an interrupted run with ``resume``); ``registry``
    resolves reward names (default: installed plugins)."""
    from codekiln_posttrain.chat.datasets import read_rows
    from codekiln_posttrain.chat.decontam import checked_rows
    from codekiln_posttrain.finetune import export_and_register, load_start
    from codekiln_posttrain.grpo.curriculum import stage_at, total_steps
    from codekiln_posttrain.grpo.progress import Progress
    from codekiln_posttrain.ranks import is_rank_zero
    from codekiln_posttrain.run_settings import check_or_note
    from codekiln_train.checkpoint import seed_everything

    g = recipe.grpo
    rows, report = checked_rows(read_rows(recipe.data, "rl"), recipe.decontamination)
    seed_everything(recipe.seed)
    model, tokenizer = load_start(recipe)
    steps = total_steps(g.stages)
    reward = build_reward(recipe, registry)
    check_or_note(recipe, resume=resume, rank_zero=is_rank_zero())
    try:
        policy = LocalGrpo(recipe, model, tokenizer, reward, steps)
        kept_rows = kept_prompts(rows, policy, reward, recipe, resume=resume)
        progress = Progress.open(recipe.output, run, rank_zero=is_rank_zero())
        if resume:
            progress.resume(policy.engine)
        order = list(range(len(kept_rows)))
        random.Random(recipe.seed).shuffle(order)
        while progress.step < steps:
            step = progress.step
            stage_index, stage = stage_at(g.stages, step)
            picked = [kept_rows[order[(step * g.prompts_per_step + i) % len(order)]]
                      for i in range(g.prompts_per_step)]
            progress.record(policy.step(step, picked, stage_index, stage))
            if progress.step % recipe.checkpoint.every_steps == 0 or progress.step == steps:
                progress.save(policy.engine, recipe.checkpoint.keep_last)
    finally:
        close = getattr(reward, "close", None)
        if close is not None:
            close()
    history = progress.history
    dropped = len(rows) - len(kept_rows)
    updates = sum("loss" in metrics for metrics in history)
    groups_kept = int(sum(m["groups_kept"] for m in history))
    run.log_metrics({**report.as_metrics(), "curriculum_dropped": dropped, "updates": updates,
                     "groups_kept_total": groups_kept}, step=steps)
    out, uri = export_and_register(policy.engine.module, tokenizer, recipe, run, "grpo-model")
    mean = sum(m["reward_mean"] for m in history) / len(history) if history else 0.0
    return GrpoResult(str(out), uri, steps, updates, len(kept_rows), dropped, mean,
                      groups_kept, history)
