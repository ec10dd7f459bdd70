"""Training the tiny scorer for real: it learns, saves a standard HF checkpoint, is
deterministic, and its MLflow model links back to the labels run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.cli.app import main
from codekiln_train.scorer.presets import load_preset
from codekiln_train.scorer.run import META_FILE, train_scorer

from .conftest import TEST_OVERRIDES, label_rows, one_torch_thread, write_labels

pytestmark = pytest.mark.slow


def test_tiny_scorer_learns_the_rubric_cases(trained_scorer: Any) -> None:
    metrics = trained_scorer.metrics
    assert metrics.count >= 15
    assert metrics.spearman > 0.6, metrics
    # Predicting the mean label for every file (no learning) gives an MAE of ~3.3 here.
    assert metrics.mae < 2.0, metrics
    assert trained_scorer.losses[-1] < trained_scorer.losses[0]


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
    assert meta["held_out"]["eval_mae"] == pytest.approx(trained_scorer.metrics.mae)
    good = meta["input_template"].replace("{language}", "python").replace(
        "{content}", '"""Docs."""\n\n\ndef add(a, b):\n    """Sum."""\n    return a + b\n')
    data = meta["input_template"].replace("{language}", "json").replace(
        "{content}", json.dumps([{"line": i, "width": i * 3} for i in range(40)], indent=2))
    batch = tokenizer([good, data], return_tensors="pt", padding=True)
    with torch.inference_mode():
        scores = model(**batch).logits[:, 0] * 10
    assert scores[0] > scores[1] + 2  # library code well above a data dump


def test_training_is_deterministic(labels_dir: Path, code_tokenizer_dir: Path,
                                   tmp_path: Path) -> None:
    small = write_labels(tmp_path / "labels", label_rows(20))
    config = load_preset("tiny", [*TEST_OVERRIDES, "epochs=1"])
    with one_torch_thread():
        runs = [train_scorer(small, config, tmp_path / f"ckpt{i}", device="cpu", lineage=False,
                             tokenizer_dir=code_tokenizer_dir) for i in range(2)]
    assert runs[0].losses == runs[1].losses
    assert runs[0].metrics == runs[1].metrics
    weights = [(run.out_dir / "model.safetensors").read_bytes() for run in runs]
    assert weights[0] == weights[1]


def test_cli_trains_registers_and_links_to_the_labels_run(
        mlflow_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from codekiln_core.lineage import lineage_run
    from codekiln_core.lineage.chain import walk_chain

    labels = write_labels(tmp_path / "labels", label_rows(20))
    with lineage_run("curate.label", config={"teacher": "test"}) as label_run:
        label_run.log_output(labels, name="labels")
    out = tmp_path / "scorer"
    args = ["train", "scorer", str(labels), "--preset", "tiny", "--output", str(out),
            "--register", "test-scorer", "--device", "cpu", "--threads", "1",
            *[arg for kv in TEST_OVERRIDES for arg in ("--set", kv)], "--set", "epochs=1",
            "--set", "tokenizer_vocab=512"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "Spearman" in printed and "mean over classes" in printed
    assert "models:/test-scorer/1" in printed
    chain = walk_chain("models:/test-scorer/1")
    commands = [node.command for node in chain.runs]
    assert commands == ["train.scorer", "curate.label"]
    assert label_run.run_id in chain.runs[0].upstream
    assert (out / "tokenizer.json").is_file()  # the BPE trained on the labels is saved

    # The run's own curves: train loss and lr per step, validation loss on the held-out
    # split at evenly spaced steps, the last at the end (eval_points=5, here 3 steps in all).
    from codekiln_core.testing import logged_curves

    curves = logged_curves(chain.runs[0].run_id, tmp_path)
    steps = [p[0] for p in curves["loss"]["train_loss"]]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) >= 2
    assert [p[0] for p in curves["learning rate"]["lr"]] == steps
    val = curves["loss"]["val_loss"]
    assert val[-1][0] == steps[-1] and len(val) == min(5, len(steps))
    assert all(v > 0 for _, v in val)


def test_cli_refuses_to_overwrite_a_non_empty_output(tmp_path: Path, labels_dir: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    code = main(["train", "scorer", str(labels_dir), "--output", str(out), "--no-lineage"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "--force" in err, err
    assert (out / "keep.txt").read_text() == "precious"


def test_init_starts_from_pretrained_weights(trained_scorer: Any, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    small = write_labels(tmp_path / "labels", label_rows(20))
    config = load_preset("tiny", ["max_tokens=128", "learning_rate=1e-12"])
    with one_torch_thread():
        run = train_scorer(small, config, tmp_path / "ckpt", init=trained_scorer.out_dir,
                           device="cpu", lineage=False)
    before = load_file(str(trained_scorer.out_dir / "model.safetensors"))
    after = load_file(str(run.out_dir / "model.safetensors"))
    assert before.keys() == after.keys()
    for name, tensor in before.items():  # a vanishing learning rate keeps the init weights
        assert (after[name] - tensor).abs().max() < 1e-6, name
    assert (run.out_dir / "tokenizer.json").is_file()  # the init's tokenizer is reused


def test_init_that_is_no_directory_is_a_one_line_error(labels_dir: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    code = main(["train", "scorer", str(labels_dir), "--output", str(tmp_path / "o"),
                 "--init", str(tmp_path / "nope"), "--no-lineage"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "nope" in err, err


def test_validation_steps_are_spread_evenly_and_end_the_run() -> None:
    from codekiln_train.scorer.model import eval_steps

    assert eval_steps(100, 5) == {20, 40, 60, 80, 100}
    assert eval_steps(3, 5) == {1, 2, 3}
    assert eval_steps(7, 1) == {7} and eval_steps(7, 0) == set()
