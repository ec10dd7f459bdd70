"""Typed recipes of ``codekiln posttrain sft|dpo|grpo``: validated before any heavy import.

The ``engine``, ``schedule``, ``log`` and ``checkpoint`` sections are codekiln_train's own
recipe models, so SFT and DPO step through the same DeepSpeed engine as pretraining with
the same meaning (and validation) of every key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from codekiln_core.config import RecipeModel
from codekiln_core.errors import ConfigError
from codekiln_posttrain.chat.decontam import DecontamConfig
from codekiln_posttrain.grpo.curriculum import Stage
from codekiln_train.recipe import (
    CheckpointConfig,
    EngineConfig,
    LaunchSettings,
    LogConfig,
    ScheduleConfig,
)


def _engine_default() -> EngineConfig:
    """Post-training defaults: SFT's 2e-5 (seed-coder.md §7), no weight decay, one micro step."""
    return EngineConfig(lr=2e-5, weight_decay=0.0, gradient_accumulation_steps=1)


def _schedule_default() -> ScheduleConfig:
    return ScheduleConfig(kind="cosine", warmup_steps=0, min_lr_ratio=0.1)


class BaseRecipe(LaunchSettings):
    """What every post-training run shares; ``launcher``/``hostfile``/``num_gpus`` start it
    on several ranks as pretraining does (or run it under torchrun with ``launcher: none``):
    each global batch is shared out over the ranks."""

    model: str = Field(..., description="the model to start from: a Hugging Face directory "
                       "(codekiln train export, or a previous posttrain output) or hub id")
    data: list[Path] = Field(..., description="dataset file or directory (.jsonl / .parquet), "
                             "or a list of them (their rows are concatenated)")
    output: Path = Field(..., description="run directory: checkpoints/, model/, reports")
    register_as: str | None = Field(None, description="register the trained model under this "
                                    "MLflow registered-model name")
    chat_template: Literal["seed-coder", "reasoning"] | None = Field(
        None, description="write this template into the tokenizer first (default: keep "
        "the model's own; a model without one gets seed-coder)")
    max_seq_len: int = Field(2048, ge=16, description="tokens per packed sequence / pair")
    seed: int = Field(0, description="seeds data order and torch")
    decontamination: DecontamConfig = Field(default_factory=DecontamConfig, description=
                                            "drop rows sharing 10-grams with the benchmarks")
    engine: EngineConfig = Field(default_factory=_engine_default,
                                 description="DeepSpeed engine (codekiln_train's section)")
    schedule: ScheduleConfig = Field(default_factory=_schedule_default,
                                     description="lr shape over the run (codekiln_train's)")
    log: LogConfig = Field(default_factory=LogConfig, description="metric logging")
    checkpoint: CheckpointConfig = Field(default_factory=lambda: CheckpointConfig(
        every_steps=100), description="checkpoint schedule")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="where to train")

    @field_validator("data", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str | Path) else value


class SftRecipe(BaseRecipe):
    """``codekiln posttrain sft``: packed SFT, loss on assistant tokens (seed-coder.md §7)."""

    epochs: float = Field(3.0, gt=0, description="passes over the data (seed-coder.md §7: 3)")
    max_steps: int | None = Field(None, ge=1, description="stop after N steps (smoke runs)")


class DpoRecipe(BaseRecipe):
    """``codekiln posttrain dpo``: sigmoid DPO on stored reference log-probs."""

    beta: float = Field(0.1, gt=0, description="DPO temperature β (unconfirmed in the paper)")
    label_smoothing: float = Field(0.0, ge=0, lt=0.5, description="conservative DPO ε")
    epochs: float = Field(1.0, gt=0, description="passes over the pairs")
    max_steps: int | None = Field(None, ge=1, description="stop after N steps")


class GrpoSection(RecipeModel):
    """GRPO / DAPO settings (seed-coder.md §8)."""

    prompts_per_step: int = Field(128, ge=1, description="prompts per update (paper: 128), "
                                  "shared out in ranks x gradient_accumulation_steps "
                                  "micro-batches (it must divide)")
    lr: float = Field(1e-6, gt=0, description="policy lr (paper: 1e-6)")
    temperature: float = Field(0.6, gt=0, description="rollout temperature (paper: 0.6)")
    top_p: float = Field(1.0, gt=0, le=1, description="rollout nucleus")
    eps_low: float = Field(0.2, ge=0, description="lower clip ε")
    eps_high: float = Field(0.28, ge=0, description="upper clip ε (clip-higher, paper: 0.28)")
    kl_coef: float = Field(0.0, ge=0, le=0, description="no KL (paper); kept 0")
    filter_overlong: bool = Field(True, description="leave completions cut at max length "
                                  "out of the update (DAPO overlong filtering)")
    stages: list[Stage] = Field(..., min_length=1, description="progressive schedule of "
                                "max length x rollouts (paper: 90x16K x16, 160x32K x32)")
    curriculum_samples: int = Field(8, ge=0, description="pre-pass samples per prompt (0: off)")
    curriculum_max_pass_rate: float = Field(0.875, gt=0, le=1, description="drop prompts "
                                            "solved more often than this (paper: 87.5%)")
    rewards: dict[str, float] = Field(default_factory=lambda: {"code-tests": 1.0},
                                      description="registered rewards and their weights")
    reward_options: dict[str, dict[str, object]] = Field(
        default_factory=dict, description="options per reward name (e.g. code-tests mode)")
    sandbox_workers: int = Field(2, ge=1, description="sandbox processes for rewards")
    sandbox_url: str | None = Field(None, description="SandboxFusion /run_code service")
    timeout_s: float = Field(10.0, gt=0, description="sandbox timeout per program")


class VerlSection(RecipeModel):
    """The verl launch (``backend: verl``)."""

    nodes: int = Field(1, ge=1, description="trainer.nnodes")
    gpus_per_node: int = Field(8, ge=1, description="trainer.n_gpus_per_node")
    tensor_parallel: int = Field(1, ge=1, description="vLLM rollout tensor parallel size")
    micro_batch_per_gpu: int = Field(4, ge=1, description="ppo_micro_batch_size_per_gpu")
    mini_batch: int | None = Field(None, description="ppo_mini_batch_size (default: batch)")
    max_prompt_length: int = Field(2048, ge=16, description="data.max_prompt_length")
    extra_overrides: list[str] = Field(default_factory=list, description="more Hydra k=v")


class GrpoRecipe(BaseRecipe):
    """``codekiln posttrain grpo``: local loop (tiny/small models) or verl (``--backend``)."""

    backend: Literal["local", "verl"] = Field("local", description="where GRPO runs: local "
                                              "(transformers loop) or verl (Ray, vLLM)")
    dry_run: bool = Field(False, description="verl: write the dataset and print the launch "
                          "command, do not launch")
    grpo: GrpoSection = Field(description="GRPO / DAPO settings")
    verl: VerlSection = Field(default_factory=VerlSection, description="the verl launch")

    @model_validator(mode="after")
    def _verl_options_and_policy_lr(self) -> GrpoRecipe:
        if self.dry_run and self.backend != "verl":
            raise ConfigError("dry_run: applies to backend verl only (--backend verl)")
        if self.backend == "verl" and self.launcher != "none":
            raise ConfigError(f"launcher: {self.launcher} starts the local loop on several "
                              "ranks; verl places its own workers (verl.nodes, "
                              "verl.gpus_per_node): use launcher none with backend verl")
        self.engine.lr = self.grpo.lr  # one lr for the policy, the paper's 1e-6
        return self
