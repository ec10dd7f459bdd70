"""What commands leave in the MLflow UI: descriptions with links both ways, model versions
that explain themselves and stay current as evaluations come in (a real SQLite store, the
commands recorded through ``lineage_command`` as every registered command is)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.lineage.command import lineage_command
from codekiln_core.lineage.links import TRAINING_VIEW, run_page, version_page
from codekiln_core.lineage.notes import BEGIN, END

NOTE = "mlflow.note.content"


def _evaluate(model: str | Path, bench: Path, benchmark: str, score: float) -> str:
    with lineage_command("eval.run", config={"benchmark": benchmark, "n": 1},
                         inputs=[model, bench]) as run:
        run.log_metrics({"pass_at_1": score})
        run.outcome_metrics = {"pass_at_1": score}
    assert run.run_id
    return run.run_id


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """raw -> curate -> pretrain (registered tiny-base) -> sft (registered tiny), read back
    after registration, then after one evaluation by directory and one by models:/."""
    root = tmp_path_factory.mktemp("publish")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        patch.setenv("CODEKILN_ARTIFACT_ROOT", str(root / "artifacts"))
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        from mlflow import MlflowClient

        raw, curated, base, model = (root / n for n in ("raw", "curated", "base", "model"))
        raw.mkdir()
        (raw / "a.py").write_text("print(1)\n", encoding="utf-8")
        ids: dict[str, Any] = {"root": root}
        with lineage_command("curate.run", inputs=[raw]) as run:
            curated.mkdir()
            (curated / "part-0.jsonl").write_text("{}\n", encoding="utf-8")
            run.log_output(curated, name="curated")
        ids["curate"] = run.run_id
        with lineage_command("train.pretrain", inputs=[curated]) as run:
            base.mkdir()
            (base / "config.json").write_text("{}", encoding="utf-8")
            for step, loss in enumerate([3.0, 2.0, 1.5]):
                run.log_metrics({"train_loss": loss}, step=step)
            run.log_model(base, name="pretrain", register_as="tiny-base")
            run.outcome_metrics = {"train_loss": 1.5}
        ids["pretrain"] = run.run_id
        recipe = root / "sft.yaml"
        recipe.write_text("epochs: 1\n", encoding="utf-8")
        with lineage_command("posttrain.sft", config={"epochs": 1}, inputs=[base, curated],
                             recipe_file=recipe) as run:
            model.mkdir()
            (model / "config.json").write_text("{}", encoding="utf-8")
            run.log_model(model, name="sft", register_as="tiny")
        ids["sft"] = run.run_id
        client = MlflowClient()
        ids["registered"] = client.get_model_version("tiny", "1")
        bench = root / "humaneval.jsonl"
        bench.write_text('{"task_id": "t/0"}\n', encoding="utf-8")
        ids["eval1"] = _evaluate(model, bench, "humaneval", 0.25)
        ids["evaluated"] = client.get_model_version("tiny", "1")
        client.update_model_version("tiny", "1", description="Kept: a note written in the UI.\n\n"
                                    + str(ids["evaluated"].description))
        ids["eval2"] = _evaluate("models:/tiny/1", bench, "humaneval", 0.5)
        ids["final"] = client.get_model_version("tiny", "1")
        ids["client"] = client
        yield ids


def _links(markdown: str) -> dict[str, str]:
    """Link target -> text of every markdown link."""
    return {target: text for text, target in re.findall(r"\[([^\]]+)\]\(([^)]+)\)", markdown)}


def test_registered_version_describes_its_chain_back_to_the_raw_input(
    store: dict[str, Any],
) -> None:
    version = store["registered"]
    text = str(version.description)
    assert text.startswith(BEGIN) and text.rstrip().endswith(END)
    links = _links(text)
    for step, command in (("sft", "posttrain.sft"), ("pretrain", "train.pretrain"),
                          ("curate", "curate.run")):
        assert links[run_page("1", store[step])] == command
    chain = text.split("#### Chain back to the raw inputs")[1].split("####")[0]
    hops = [line for line in chain.splitlines() if re.match(r"\d+\. ", line)]
    assert len(hops) == 3, chain  # one line per run
    assert "`raw` (raw)" in chain and "`curated` ← curate.run" in chain
    assert "**Starting model:** tiny-base v1, trained from scratch by [train.pretrain]" in text
    assert "No evaluation yet" in text
    datasets = text.split("#### Datasets")[1]
    curate = store["client"].get_run(store["curate"])
    made = next(d.dataset for d in curate.inputs.dataset_inputs if d.dataset.name == "curated")
    row = next(line for line in datasets.splitlines() if line.startswith("| `curated`"))
    assert f"`{made.digest}`" in row and run_page("1", store["curate"]) in row
    assert "raw input" in datasets
    assert version.tags["base_model"] == "tiny-base v1"
    assert version.tags["made_by"] == "posttrain.sft"
    assert version.tags["recipe"] == str(store["root"] / "sft.yaml")


def test_an_evaluation_after_registration_updates_the_version(store: dict[str, Any]) -> None:
    text = str(store["evaluated"].description)
    table = text.split("#### Latest evaluations")[1].split("####")[0]
    row = next(line for line in table.splitlines() if line.startswith("| humaneval"))
    assert "0.2500" in row and f"({run_page('1', store['eval1'])})" in row
    assert store["evaluated"].tags["humaneval.pass_at_1"] == "0.2500"


def test_the_latest_evaluation_of_a_benchmark_wins_and_the_ui_text_is_kept(
    store: dict[str, Any],
) -> None:
    final = store["final"]
    text = str(final.description)
    assert text.startswith("Kept: a note written in the UI.")
    assert text.count(BEGIN) == 1
    rows = [line for line in text.splitlines() if line.startswith("| humaneval")]
    assert len(rows) == 1 and "0.5000" in rows[0] and store["eval2"] in rows[0]
    assert final.tags["humaneval.pass_at_1"] == "0.5000"


def test_run_descriptions_link_upstream_and_downstream(store: dict[str, Any]) -> None:
    client = store["client"]
    curate = client.get_run(store["curate"]).data.tags[NOTE]
    assert _links(curate).keys() >= {run_page("1", store["pretrain"]), run_page("1", store["sft"])}
    assert "raw input" in curate
    sft = client.get_run(store["sft"]).data.tags[NOTE]
    links = _links(sft)
    assert links[run_page("1", store["pretrain"])] == "train.pretrain"
    assert links[run_page("1", store["curate"])] == "curate.run"
    assert {run_page("1", store["eval1"]), run_page("1", store["eval2"])} <= links.keys()
    assert links[version_page("tiny", 1)] == "tiny v1"
    assert "lineage/lineage.png" in sft
    assert all(TRAINING_VIEW in target for target in links)


def test_mlflow_structures_carry_the_links(store: dict[str, Any]) -> None:
    """Model inputs, logged-model metrics with their dataset, dataset profiles, pictures."""
    client = store["client"]
    model_id = store["final"].model_id or str(store["final"].source).removeprefix("models:/")
    evaluation = client.get_run(store["eval1"])
    assert [m.model_id for m in evaluation.inputs.model_inputs] == [model_id]
    metrics = client.get_logged_model(model_id).metrics or []
    by_run = {(m.run_id, m.key): m for m in metrics}
    assert by_run[(store["eval1"], "pass_at_1")].value == 0.25
    assert by_run[(store["eval1"], "pass_at_1")].dataset_name == "humaneval.jsonl"
    assert by_run[(store["eval2"], "pass_at_1")].value == 0.5
    pretrain_model = client.get_run(store["pretrain"]).outputs.model_outputs[0].model_id
    trained = client.get_logged_model(pretrain_model).metrics or []
    assert [(m.key, m.value, m.step) for m in trained] == [("train_loss", 1.5, 2)]
    history = client.get_metric_history(store["pretrain"], "train_loss")
    assert [m.value for m in history] == [3.0, 2.0, 1.5], "the curve is unchanged"
    sft = client.get_run(store["sft"])
    curated = next(d.dataset for d in sft.inputs.dataset_inputs if d.dataset.name == "curated")
    assert json.loads(str(curated.profile)) == {"made by": "curate.run",
                                                "made by run": store["curate"]}
    pictures = {a.path for a in client.list_artifacts(store["sft"], "lineage")}
    assert pictures == {"lineage/lineage.png", "lineage/lineage.html"}
    html = Path(client.download_artifacts(store["sft"], "lineage/lineage.html",
                                          str(store["root"] / "dl"))).read_text(encoding="utf-8")
    assert "models:/tiny/1" in html and "eval.run" in html, "redrawn after the evaluation"


def test_merge_note_replaces_only_its_own_block() -> None:
    from codekiln_core.lineage.notes import merge_note

    first = merge_note(None, "v1")
    assert first == f"{BEGIN}\nv1\n{END}"
    edited = f"Intro by hand.\n\n{first}\n\nOutro by hand."
    assert merge_note(edited, "v2") == f"Intro by hand.\n\n{BEGIN}\nv2\n{END}\n\nOutro by hand."
    assert merge_note("Written before codekiln.", "v1") == f"{first}\n\nWritten before codekiln."


def test_a_long_chain_still_fits_the_registrys_description_column() -> None:
    """A version description is a 5000-character column: a long chain drops detail, never
    its one linked line per run."""
    from codekiln_core.lineage.chain import DatasetLink, RunNode
    from codekiln_core.lineage.notes import (
        VERSION_NOTE_LIMIT,
        StartingModel,
        VersionStory,
        fit_note,
        version_note,
    )

    runs = [RunNode(f"{i:032x}", f"stage.command{i}", "FINISHED", experiment_id="1")
            for i in range(20)]
    for i, run in enumerate(runs):
        upstream = runs[i + 1].run_id if i + 1 < len(runs) else None
        run.inputs = [DatasetLink(f"dataset-{i}-{j}", f"/data/some/long/path/{i}/{j}",
                                  f"{i:08x}{j:08x}", upstream) for j in range(3)]
    story = VersionStory("big", "3", runs[0], runs, StartingModel("hf://org/base"))
    assert len(version_note(story)) > VERSION_NOTE_LIMIT
    fitted = fit_note("Kept.", lambda brevity: version_note(story, brevity),
                      VERSION_NOTE_LIMIT, "… (shortened)")
    assert len(fitted) <= VERSION_NOTE_LIMIT and fitted.endswith("Kept.")
    assert all(run_page("1", run.run_id) in fitted for run in runs), "every hop is linked"
