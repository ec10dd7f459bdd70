"""The LLM-filter ablation recipe end to end, shrunk by --set: two arms, two seeds.

``codekiln run recipes/ablation-llm-filter.yaml --seeds 2`` on 40 standard-library modules:
curate (rules) -> labels -> scorer -> quality gate -> held-out MBPP set -> one tokenizer ->
shards per arm -> ``tiny`` pretraining per arm and seed (a few thousand tokens) -> pass@1 on
one MBPP task -> ``lineage compare``. Every step is the real command in its
own process; the only stand-in is the teacher LLM (a hosted API in real use): a local HTTP
server speaking the OpenAI chat API, rating files by a fixed rule. The shipped recipe's own
teacher (SmolLM2 in-process) is covered by the curate label tests and the recorded full run.
"""

from __future__ import annotations

import json
import shutil
import sysconfig
from pathlib import Path

import pytest

from codekiln_core.cli.app import main

# ~5 min on an idle 2-core machine (21 step processes, each importing its stack); the
# timeout leaves room for a loaded CI runner.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "ablation-llm-filter.yaml"


def shrunk(tmp_path: Path, teacher_url: str) -> list[str]:
    """--set overrides that keep the recipe's shape and cut its size."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in [p for p in sorted(stdlib.glob("*.py"))
                 if 2_000 < p.stat().st_size < 30_000][:40]:
        shutil.copy(path, raw / path.name)
    sets = [f"workdir={tmp_path / 'work'}",
            f"steps.curate.set.inputs=[{{kind: dir, path: {raw}, name: raw}}]",
            f"steps.label.set.teacher={{base_url: '{teacher_url}', model: teacher}}",
            "steps.label.set.sampling.quotas.python=12",
            "steps.scorer.set.epochs=1", "steps.scorer.set.max_tokens=128",
            "steps.scorer.set.eval_percent=25",
            "steps.scorer.set.tokenizer_vocab=512", "steps.score.set.max_tokens=128",
            "steps.score.set.drop_percentile=25", "steps.tokenizer.set.vocab_size=600",
            "steps.heldout.set.mbpp_split=prompt"]  # 10 programs: a small validation set
    for arm in ("rules", "llm"):
        sets += [f"steps.pretrain-{arm}.set.stages.0.tokens=12288",  # 3 steps of 4096
                 f"steps.pretrain-{arm}.set.stages.0.schedule.warmup_steps=1",
                 f"steps.pretrain-{arm}.set.log.eval_every_steps=3",  # at the end
                 f"steps.pretrain-{arm}.set.checkpoint.every_steps=2"]
        sets += [f"steps.eval-mbpp-{arm}.set.limit=1",
                 f"steps.eval-mbpp-{arm}.set.max_tokens=16",
                 # one benchmark is enough to check the wiring (each eval is a process
                 # that loads transformers); the kinds test parses the full recipe's steps
                 f"steps.eval-humaneval-{arm}.enabled=false"]
    runs = [f"{arm}@${{seed}}={ref}" for arm in ("rules", "llm")
            for ref in (f"${{steps.pretrain-{arm}.run_id}}",
                        f"mbpp:${{steps.eval-mbpp-{arm}.run_id}}")]
    sets += ["steps.compare.inputs=[" + ", ".join(f"'{r}'" for r in runs) + "]",
             "steps.compare.set.metrics=[val_loss, 'val_loss:min', mbpp/pass_at_1]"]
    return [arg for s in sets for arg in ("--set", s)]


def test_ablation_recipe_compares_both_arms_over_two_seeds(
    tmp_path: Path, mlflow_store: str, documented_teacher_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["run", str(RECIPE), "--seeds", "2", *shrunk(tmp_path, documented_teacher_url)]
    assert main(args) == 0, capsys.readouterr().err
    out = tmp_path / "work" / "compare"
    data = json.loads((out / "comparison.json").read_text())
    assert data["arms"] == ["rules", "llm"] and data["seeds"] == [0, 1]
    rows = {(r["arm"], r["seed"]): r["metrics"] for r in data["rows"]}
    assert set(rows) == {("rules", 0), ("rules", 1), ("llm", 0), ("llm", 1)}
    for metrics in rows.values():
        assert metrics["val_loss"] is not None and metrics["val_loss"] > 0
        assert metrics["mbpp/pass_at_1"] is not None
    assert rows[("rules", 0)]["val_loss"] != rows[("rules", 1)]["val_loss"]  # seeds differ
    diff = next(d for d in data["differences"] if d["metric"] == "val_loss")
    assert diff["paired"] and diff["n"] == 2 and diff["se"] is not None
    assert (out / "comparison.png").read_bytes()[:4] == b"\x89PNG"
    assert "| llm | 1 |" in (out / "comparison.md").read_text()

    manifests = {arm: json.loads((tmp_path / "work" / f"shards-{arm}" / "manifest.json")
                                 .read_text()) for arm in ("rules", "llm")}
    assert manifests["llm"]["total_documents"] < manifests["rules"]["total_documents"]

    from mlflow import MlflowClient

    client = MlflowClient()
    for arm in ("rules", "llm"):  # each arm's model registered, one version per seed
        versions = client.search_model_versions(f"name = 'ablation-{arm}'")
        assert len(versions) == 2
    state = json.loads((tmp_path / "work" / ".pipeline" / "steps" / "heldout.json").read_text())
    heldout = client.get_run(state["run_id"]).data.metrics
    assert heldout["documents"] + heldout["dropped_overlap"] == 10  # MBPP's prompt split

    from codekiln_core.lineage.chain import walk_chain

    compare_run = json.loads((tmp_path / "work" / ".pipeline" / "steps" / "compare.json")
                             .read_text())["run_id"]
    commands = {run.command for run in walk_chain(compare_run).runs}
    assert {"lineage.compare", "eval.run", "train.pretrain", "curate.shards", "curate.score",
            "curate.heldout", "curate.run"} <= commands
