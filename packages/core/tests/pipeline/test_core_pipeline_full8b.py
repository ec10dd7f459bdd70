"""recipes/seed-coder-8b-full.yaml load-validates without a cluster.

The paper-scale pipeline cannot run here (no GPU, no teacher, no corpus), so every link it
would run is checked as far as a laptop can: the real pipeline loader resolves each step,
the installed CLI parses each command line, and each step's recipe (file or inline, with
the step's ``--set`` overrides exactly as its command line carries them) is loaded and
validated by its registered command, as ``codekiln`` would before running it, so a wrong
key anywhere fails here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from codekiln_core.cli.app import build_app
from codekiln_core.pipeline.command import substitute
from codekiln_core.pipeline.plan import _static, plan
from codekiln_core.pipeline.recipe import PipelineRecipe, StepConfig, load_pipeline

REPO = Path(__file__).resolve().parents[4]
FULL = REPO / "recipes" / "seed-coder-8b-full.yaml"
OWNERS = {"curate": "codekiln_curate", "train": "codekiln_train",
          "posttrain": "codekiln_posttrain", "eval": "codekiln_eval", "serve": "codekiln_serve"}
#: What the chain must contain (issue 12, deliverable 3).
CHAIN_KINDS = {"curate", "label", "scorer", "score", "shards", "pretrain", "export", "instruct",
               "sft", "pairs", "dpo", "grpo", "eval", "serve-check"}


@pytest.fixture(scope="module")
def recipe() -> PipelineRecipe:
    return load_pipeline(FULL)


@pytest.fixture(scope="module")
def argvs(recipe: PipelineRecipe) -> dict[str, list[str]]:
    rows = plan(recipe)
    assert all(argv is not None for _, argv in rows), "every step is enabled"
    return {step.name: list(argv or []) for step, argv in rows}


def needs(argv: list[str]) -> None:
    owner = OWNERS.get(argv[0])
    if owner and importlib.util.find_spec(owner) is None:
        pytest.skip(f"{owner} is not installed")


def step_recipe(argv: list[str]) -> Any:
    """The validated recipe a step's command line would run with (nothing runs)."""
    from codekiln_core.cli.invoke import load_command_recipe
    from codekiln_core.cli.typer_command import parse_command_line
    from codekiln_core.pipeline.kinds import step_commands

    command = next(c for c in step_commands().values()
                   if list(c.words) == argv[:len(c.words)])
    needs(argv)
    return load_command_recipe(command, parse_command_line(command, argv[len(command.words):]))


def step_by_kind(recipe: PipelineRecipe, kind: str) -> list[StepConfig]:
    return [s for s in recipe.steps if s.kind == kind]


def test_every_link_of_the_chain_is_there_and_enabled(recipe: PipelineRecipe) -> None:
    assert {s.kind for s in recipe.steps} >= CHAIN_KINDS
    assert all(s.enabled for s in recipe.steps)
    kinds = {s.kind for s in recipe.steps}
    assert {"curate.tokenizer.adopt", "curate.samples.repos"} <= kinds


def test_every_command_line_parses_against_the_installed_cli(
        argvs: dict[str, list[str]]) -> None:
    root = typer.main.get_command(build_app())
    for name, argv in argvs.items():
        owner = OWNERS.get(argv[0])
        if owner and importlib.util.find_spec(owner) is None:
            continue  # that package is not installed in this environment
        node, words, path = root, list(argv), []
        while isinstance(getattr(node, "commands", None), dict):
            word = words.pop(0)
            path.append(word)
            assert word in node.commands, f"{name}: `codekiln {' '.join(path)}` does not exist"
            node = node.commands[word]
        node.make_context(" ".join(path), words)  # click raises on any bad option or value


def test_dry_run_prints_every_command_line() -> None:
    result = CliRunner().invoke(build_app(), ["run", str(FULL), "--dry-run"],
                                env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("codekiln ")]
    assert len(lines) == len(load_pipeline(FULL).steps)
    assert "disabled" not in result.output and "outside" not in result.output


def test_curate_recipe_and_its_stages_validate(recipe: PipelineRecipe,
                                               argvs: dict[str, list[str]]) -> None:
    pytest.importorskip("codekiln_curate")
    from codekiln_core.plugins import get_plugin_manager
    from codekiln_core.registry import Registry
    from codekiln_curate.engine.plan import check_stages

    registry = Registry(get_plugin_manager(warn=False))
    levels = {}
    for step in step_by_kind(recipe, "curate"):
        loaded = step_recipe(argvs[step.name])
        check_stages(loaded, registry)  # stage names, options and gates, no input read
        assert loaded.executor == "ray"
        names = [s.name for s in loaded.stages]
        assert names == ["exact-dedup", "near-dedup", "language-id", "heuristics", "syntax",
                         "decontaminate"]  # seed-coder.md §0's order
        assert loaded.stages[-1].options["ngram"] == 10  # seed-coder.md §5
        levels[step.name] = {loaded.stages[0].options["level"], loaded.stages[1].options["level"]}
    # seed-coder.md §1: both variants
    assert levels == {"curate": {"file"}, "curate-repo": {"repo"}}


def test_label_recipe_is_the_papers_teacher_and_sample(recipe: PipelineRecipe,
                                                       argvs: dict[str, list[str]],
                                                       tmp_path: Path) -> None:
    pytest.importorskip("codekiln_curate")
    from codekiln_curate.label.recipe import SEED_LANGUAGES

    step = recipe.step("label")
    config = substitute(step.config, lambda n, f: _static(recipe, n, f))
    path = tmp_path / "label.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    argv = argvs["label"]
    label = step_recipe([*argv[:2], str(path), *argv[3:]])
    assert label.teacher.kind == "openai" and label.teacher.mode == "generate"
    assert label.teacher.model == "deepseek-ai/DeepSeek-V2-Chat"  # seed-coder.md §1's oracle
    sampling = label.sampling
    assert tuple(sampling.languages) == SEED_LANGUAGES and set(sampling.quotas) <= set(
        SEED_LANGUAGES)
    total = sum(sampling.quotas.get(lang, sampling.per_language) for lang in SEED_LANGUAGES)
    assert abs(total - 222_066) / 222_066 < 0.002 and sampling.quotas["python"] == 26_924
    assert str(label.cache).startswith(str(recipe.work_path.resolve()))


def test_scorer_and_gate_are_the_papers(argvs: dict[str, list[str]]) -> None:
    config = step_recipe(argvs["scorer"])
    assert (config.num_hidden_layers, config.hidden_size, config.epochs) == (24, 2048, 1)
    assert step_recipe(argvs["score"]).drop_percentile == 10  # bottom ~10% dropped


def test_shards_use_the_papers_fim_and_context(argvs: dict[str, list[str]]) -> None:
    shards = {name: step_recipe(a) for name, a in argvs.items() if a[:2] == ["curate", "shards"]}
    got = {name: (r.seq_len, r.fim_rate) for name, r in shards.items()}
    assert got == {"shards-8k": (8192, 0.5), "shards-long": (32768, 0.1),
                   "shards-repo": (32768, 0.0)}
    assert all(shards[n].fim_mode == "spm" for n in ("shards-8k", "shards-long"))


def test_pretrain_recipe_reads_this_chains_shards(recipe: PipelineRecipe,
                                                  argvs: dict[str, list[str]]) -> None:
    pytest.importorskip("codekiln_train")
    from codekiln_train.stage_plan import stage_plan

    loaded = step_recipe(argvs["pretrain"])
    stage_plan(loaded, None, world_size=128, source="pretrain")  # shapes and budgets
    assert str(loaded.output) == str(recipe.work_path.resolve() / "pretrain")
    paths = {(i, m.name): str(m.path) for i, stage in enumerate(loaded.stages)
             for m in stage.mixture}
    out = recipe.work_path.resolve()
    assert paths[(1, "code")] == str(out / "shards-8k")
    for stage in (2, 3):
        assert paths[(stage, "long-file")] == str(out / "shards-long")
        assert paths[(stage, "repo-level")] == str(out / "shards-repo")
    assert sum(s.tokens for s in loaded.stages) == 6_000_000_000_000  # seed-coder.md §6
    assert loaded.launcher == "deepspeed"


RECIPE_MODELS = {"sft": "SftRecipe", "dpo": "DpoRecipe", "grpo": "GrpoRecipe"}


def posttrain_recipes(recipe: PipelineRecipe, argvs: dict[str, list[str]]) -> dict[str, Any]:
    return {step.name: step_recipe(argvs[step.name]) for step in recipe.steps
            if step.kind in RECIPE_MODELS}


def test_posttrain_recipes_validate_with_the_steps_overrides(
        recipe: PipelineRecipe, argvs: dict[str, list[str]]) -> None:
    pytest.importorskip("codekiln_posttrain")
    loaded = posttrain_recipes(recipe, argvs)
    out = recipe.work_path.resolve()
    sft, dpo, longcot = loaded["sft"], loaded["dpo"], loaded["longcot"]
    assert (sft.epochs, sft.engine.lr, sft.chat_template) == (3, 2e-5, "seed-coder")  # §7
    assert sft.model == str(out / "export") and sft.data == [out / "instruct"]
    assert dpo.model == str(out / "sft" / "model") and dpo.register_as == "seed-coder-8b-instruct"
    # §8: the warm-up starts from Base, not Instruct, at lr 2e-5 with the reasoning template.
    assert longcot.model == str(out / "export") and longcot.chat_template == "reasoning"
    assert longcot.engine.lr == 2e-5
    stages = [(s.steps, s.max_new_tokens, s.rollouts)
              for name in ("grpo-16k", "grpo-32k") for s in loaded[name].grpo.stages]
    assert stages == [(90, 16384, 16), (160, 32768, 32)]  # §8: 250 steps in all
    assert loaded["grpo-32k"].model.startswith(str(out / "grpo-16k" / "verl" / "global_step_90"))
    assert step_recipe(argvs["instruct"]).model == "deepseek-ai/DeepSeek-V2-Chat"
    assert step_recipe(argvs["pairs"]).samples >= 100  # "hundreds of responses per prompt"


@pytest.mark.slow  # imports verl (torch, ray): ~30 s
def test_verl_launches_save_a_hugging_face_actor_for_the_next_stage(
        recipe: PipelineRecipe, argvs: dict[str, list[str]], tmp_path: Path) -> None:
    """verl's own Hydra config accepts every override, and each stage saves what the next
    step reads (verl's default save_freq of -1 saves nothing)."""
    pytest.importorskip("codekiln_posttrain")
    verl = pytest.importorskip("verl")
    from hydra import compose, initialize_config_dir

    from codekiln_posttrain.grpo.verl_backend import hydra_overrides

    loaded = posttrain_recipes(recipe, argvs)
    config_dir = Path(verl.__file__).parent / "trainer" / "config"
    for name in ("grpo-16k", "grpo-32k"):
        grpo = loaded[name]
        assert grpo.backend == "verl"
        with initialize_config_dir(config_dir=str(config_dir), version_base=None):
            config = compose(config_name="ppo_trainer",
                             overrides=hydra_overrides(grpo, tmp_path / "t.parquet"))
        steps = config.trainer.total_training_steps
        assert steps % config.trainer.save_freq == 0  # the last step is saved
        assert "hf_model" in config.actor_rollout_ref.actor.checkpoint.save_contents
        assert config.trainer.resume_mode == "auto"  # verl continues a rerun in place
    assert f"global_step_{loaded['grpo-16k'].grpo.stages[0].steps}/" in loaded["grpo-32k"].model


def test_evaluation_covers_the_papers_benchmarks(argvs: dict[str, list[str]]) -> None:
    evals = {n: step_recipe(a) for n, a in argvs.items() if a[:2] == ["eval", "run"]}
    benchmarks = {e.benchmark for e in evals.values()}
    assert benchmarks >= {"humaneval", "humaneval-plus", "mbpp", "mbpp-plus", "livecodebench",
                          "multipl-e-cpp"}
    assert all(e.ks == [1] for e in evals.values())  # pass@1 everywhere (§9)
    for name in ("eval-instruct-livecodebench", "eval-reasoning-livecodebench"):
        window = evals[name].options  # LCB 2410-2502
        assert window == {"start_date": "2024-10-01", "end_date": "2025-02-28"}
    assert "--engine=vllm" in step_recipe(argvs["serve-check"]).serve_args


def test_cluster_docs_give_every_step_its_hardware(recipe: PipelineRecipe) -> None:
    table = (REPO / "docs" / "cluster.md").read_text(encoding="utf-8").split(
        "## What each step needs", 1)[1].split("\n## ", 1)[0]
    for step in recipe.steps:
        family = step.name.split("-", 1)[0] + "-*"
        assert f"`{step.name}`" in table or f"`{family}`" in table, step.name
