"""Training the tiny scorer for real, on train's builder, engine and loop: it learns, saves
a standard HF checkpoint, is deterministic, and starts from pretrained weights on request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.lineage import LineageRun
from codekiln_train.scorer.training import META_FILE, eval_every, train_scorer

from ..conftest import label_rows, one_torch_thread, scorer_recipe, write_labels

pytestmark = pytest.mark.slow


def test_tiny_scorer_learns_the_rubric_cases(trained_scorer: Any) -> None:
    metrics = trained_scorer.metrics
    assert metrics.count >= 15
    assert metrics.spearman > 0.6, metrics
    # Predicting the mean label for every file (no learning) gives an MAE of ~3.3 here.
    assert metrics.mae < 2.0, metrics
    losses = trained_scorer.losses
    assert len(losses) == trained_scorer.summary.steps and losses[-1] < losses[0]
    # The loop's validation: at most eval_points (5) held-out losses, the last at the end.
    val_steps = [step for step, _ in trained_scorer.summary.val_losses]
    assert len(val_steps) <= 5 and val_steps[-1] == len(losses)


def test_checkpoint_loads_with_plain_transformers(trained_scorer: Any) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    out = trained_scorer.out_dir
    model = AutoModelForSequenceClassification.from_pretrained(str(out))
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    meta = json.loads((out / META_FILE).read_text())
    assert model.config.num_labels == 1 and model.config.problem_type == "regression"
    assert model.config.pad_token_id == tokenizer.pad_token_id
    assert meta["score_scale"] == 10.0 and meta["max_tokens"] == 128
    assert meta["preset"] == "tiny" and meta["config"]["num_hidden_layers"] == 2
    assert meta["held_out"]["eval_mae"] == pytest.approx(trained_scorer.metrics.mae)
    good = meta["input_template"].replace("{language}", "python").replace(
        "{content}", '"""Docs."""\n\n\ndef add(a, b):\n    """Sum."""\n    return a + b\n')
    data = meta["input_template"].replace("{language}", "json").replace(
        "{content}", json.dumps([{"line": i, "width": i * 3} for i in range(40)], indent=2))
    batch = tokenizer([good, data], return_tensors="pt", padding=True)
    with torch.inference_mode():
        scores = model(**batch).logits[:, 0] * 10
    assert scores[0] > scores[1] + 2  # library code well above a data dump


def test_training_is_deterministic(code_tokenizer_dir: Path, tmp_path: Path) -> None:
    small = write_labels(tmp_path / "labels", label_rows(20))
    with one_torch_thread():
        runs = [train_scorer(scorer_recipe(small, tmp_path / f"ckpt{i}", "epochs=1",
                                           f"tokenizer={code_tokenizer_dir}"), LineageRun(None))
                for i in range(2)]
    assert runs[0].losses == runs[1].losses
    assert runs[0].metrics == runs[1].metrics
    weights = [(run.out_dir / "model.safetensors").read_bytes() for run in runs]
    assert weights[0] == weights[1]


def test_init_starts_from_pretrained_weights(trained_scorer: Any, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    small = write_labels(tmp_path / "labels", label_rows(20))
    recipe = scorer_recipe(small, tmp_path / "ckpt", "learning_rate=1e-12", "epochs=1",
                           f"init={trained_scorer.out_dir}")
    with one_torch_thread():
        run = train_scorer(recipe, LineageRun(None))
    before = load_file(str(trained_scorer.out_dir / "model.safetensors"))
    after = load_file(str(run.out_dir / "model.safetensors"))
    assert before.keys() == after.keys()
    for name, tensor in before.items():  # a vanishing learning rate keeps the init weights
        assert (after[name] - tensor).abs().max() < 1e-6, name
    assert (run.out_dir / "tokenizer.json").is_file()  # the init's tokenizer is reused


def test_a_launched_rank_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from codekiln_core.errors import ConfigError

    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match=r"runs in one process \(WORLD_SIZE is 2\)"):
        train_scorer(scorer_recipe(tmp_path, tmp_path / "o"), LineageRun(None))


def test_validation_every_so_many_steps_gives_at_most_the_points() -> None:
    """The loop validates every ``eval_every`` steps and at the last one."""
    assert eval_every(100, 5) == 20  # 20, 40, 60, 80, 100
    assert eval_every(3, 5) == 1  # 1, 2, 3
    assert eval_every(7, 5) == 2  # 2, 4, 6, 7
    assert eval_every(7, 0) is None  # the recipe's eval_points=0: no validation set at all
