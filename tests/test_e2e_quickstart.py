"""The README's first command, end to end, then its MLflow UI in a real headless browser.

One module-scoped fixture runs the real ``codekiln run recipes/quickstart.yaml`` (every
enabled step, curate through serve-check) in a temp workdir with its own MLflow store,
shrunk only by ``--set steps.NAME...`` overrides so that it takes minutes on two cores. The
tests then check the registered model, its lineage back to the raw files, and what a person
sees in the MLflow UI (Debian's headless Chromium over the DevTools protocol;
screenshots land in ``.codekiln/browser-test/`` for people to look at).
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.cli.app import main

#: The first test also waits for the module's pipeline: minutes idle, far more on a busy
#: shared machine, so the suite's 900 s per-test limit is raised here.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2700)]

REPO = Path(__file__).resolve().parents[1]
MODEL = "quickstart"

#: The quickstart cut to CI size by ``--set`` alone (the recipe itself is the README's). The
#: repository contributes only its recipes (YAML), so the Python files the teacher labels all
#: come from the stdlib: the labeled sample, and with it the scorer's train / held-out split,
#: is the same on every commit.
SHRINK = (
    'steps.curate.set.inputs.0.include=["json/*.py", "html/*.py", "http/*.py", "urllib/*.py"]',
    'steps.curate.set.inputs.1.include=["recipes/*.yaml"]',
    "steps.label.set.sampling.quotas.python=6",
    "steps.label.set.sampling.max_chars=600",
    "steps.scorer.set.epochs=1",
    "steps.scorer.set.eval_percent=50",
    "steps.tokenizer.set.vocab_size=1024",
    "steps.shards.set.seq_len=256",
    "steps.shards.set.mix=code=1",  # every file of the small corpus (the recipe samples 10%)
    "steps.shards-val.set.seq_len=256",
    "steps.pretrain.config.engine.global_batch_tokens=1024",
    "steps.pretrain.config.stages.0.seq_len=256",
    "steps.pretrain.config.stages.0.tokens=4096",
    "steps.pretrain.config.stages.0.schedule.warmup_steps=1",
    "steps.pretrain.config.log.eval_every_steps=2",
    "steps.sft-code.set.limit=8",
    "steps.sft.set.max_steps=2",
    "steps.sft.set.max_seq_len=256",
    "steps.pairs.set.samples=2",
    "steps.pairs.set.max_new_tokens=16",
    "steps.dpo.set.max_steps=2",
    "steps.dpo.set.max_seq_len=256",
    "steps.grpo.set.grpo.prompts_per_step=2",
    "steps.grpo.set.grpo.curriculum_samples=0",
    "steps.grpo.set.grpo.stages=[{steps: 1, max_new_tokens: 16, rollouts: 2}]",
    "steps.eval-humaneval.set.limit=1",
    "steps.eval-humaneval.set.max_tokens=16",
    "steps.eval-mbpp.set.limit=1",
    "steps.eval-mbpp.set.max_tokens=16",
    "steps.eval-infill.set.limit=1",
)

#: The registered model's chain, step -> the steps whose outputs it read.
UPSTREAM = {
    "grpo": ("dpo",), "dpo": ("sft", "pairs"), "pairs": ("sft",),
    "sft": ("pretrain", "sft-code", "sft-mbpp"),
    "sft-code": ("score",),
    "pretrain": ("shards", "shards-val"), "shards": ("score", "tokenizer"),
    "shards-val": ("heldout", "tokenizer"), "heldout": ("curate",), "tokenizer": ("score",),
    "score": ("curate", "scorer"), "scorer": ("label",), "label": ("curate",),
}


@dataclass(frozen=True)
class Quickstart:
    """The finished pipeline: where its store, its step states and its output are."""

    uri: str
    workdir: Path
    returncode: int
    log: Path

    def check_finished(self) -> None:
        tail = self.log.read_text(encoding="utf-8", errors="replace")[-4000:]
        assert self.returncode == 0, f"codekiln run exited {self.returncode}:\n{tail}"

    def state(self, step: str) -> dict[str, Any]:
        path = self.workdir / ".pipeline" / "steps" / f"{step}.json"
        return dict(json.loads(path.read_text(encoding="utf-8")))

    def run_id(self, step: str) -> str:
        return str(self.state(step)["run_id"])

    @property
    def parent_run_id(self) -> str:
        return str(self.state("curate")["parent_run_id"])


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Quickstart]:
    """``codekiln run recipes/quickstart.yaml`` for real, from the repository root."""
    root = tmp_path_factory.mktemp("quickstart")
    store = root / "mlflow"
    store.mkdir()
    uri = f"sqlite:///{store / 'mlflow.db'}"
    workdir = root / "pipeline"
    log = root / "codekiln-run.log"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MLFLOW_TRACKING_URI", uri)
        env.setenv("CODEKILN_ARTIFACT_ROOT", str(store / "artifacts"))
        env.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        if "mlflow" in sys.modules:  # an earlier test's store may be mlflow's global URI
            import mlflow

            mlflow.set_tracking_uri(uri)
        overrides = [f"workdir={workdir}", *SHRINK]
        argv = [sys.executable, "-m", "codekiln_core", "run", "recipes/quickstart.yaml",
                *(word for item in overrides for word in ("--set", item))]
        started = time.monotonic()
        with log.open("wb") as sink:
            done = subprocess.run(argv, cwd=REPO, stdout=sink, stderr=subprocess.STDOUT,
                                  timeout=2400, check=False)
        print(f"\nquickstart: codekiln run took {time.monotonic() - started:.0f}s "
              f"(log: {log})")
        yield Quickstart(uri, workdir, done.returncode, log)


def test_quickstart_finishes_every_step_and_registers_the_model(quickstart: Quickstart) -> None:
    quickstart.check_finished()
    from codekiln_core.pipeline.recipe import load_pipeline

    recipe = load_pipeline(REPO / "recipes" / "quickstart.yaml", SHRINK)
    enabled = [step.name for step in recipe.steps if step.enabled]
    assert set(UPSTREAM) | {"eval-humaneval", "eval-mbpp", "eval-infill", "serve-check"} <= set(
        enabled)
    states = {step: quickstart.state(step) for step in enabled}
    assert {step: s["status"] for step, s in states.items()} == dict.fromkeys(enabled, "finished")
    assert {s["parent_run_id"] for s in states.values()} == {quickstart.parent_run_id}

    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=quickstart.uri)
    version = client.get_model_version(MODEL, "1")
    assert version.status == "READY"
    assert version.run_id == quickstart.run_id("grpo"), "quickstart/1 is the GRPO model"
    parent = client.get_run(quickstart.parent_run_id)
    assert parent.info.status == "FINISHED" and parent.info.run_name == MODEL
    sizes = {a.path: a.file_size for a in client.list_artifacts(parent.info.run_id, "lineage")}
    assert (sizes.get("lineage/lineage.png") or 0) > 1000, sizes
    assert (sizes.get("lineage/lineage.html") or 0) > 1000, sizes
    for step in ("eval-humaneval", "eval-mbpp", "eval-infill"):
        metrics = client.get_run(quickstart.run_id(step)).data.metrics
        assert "pass_at_1" in metrics, (step, sorted(metrics))
    assert "exact_match" in client.get_run(quickstart.run_id("eval-infill")).data.metrics


def test_lineage_of_the_registered_model_reaches_the_raw_files(
    quickstart: Quickstart, capsys: pytest.CaptureFixture[str],
) -> None:
    quickstart.check_finished()
    capsys.readouterr()
    assert main(["lineage", "show", f"models:/{MODEL}/1", "--format", "json"]) == 0
    chain = json.loads(capsys.readouterr().out)
    runs = {run["run_id"]: run for run in chain["runs"]}
    assert chain["runs"][0]["run_id"] == quickstart.run_id("grpo")
    for step, sources in UPSTREAM.items():  # every link of the chain, not just its ends
        run = runs.get(quickstart.run_id(step))
        assert run is not None, f"{step}'s run is not in the lineage of {MODEL}/1"
        for source in sources:
            assert quickstart.run_id(source) in run["upstream"], f"{step} does not link {source}"

    raw = {item["source"] for item in chain["raw_inputs"]}
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    curate = runs[quickstart.run_id("curate")]
    curated_from = {item["source"] for item in curate["inputs"]}
    assert {str(stdlib), str(REPO)} <= curated_from & raw, curate["inputs"]  # the raw code
    assert f"{MODEL}/1" in runs[quickstart.run_id("grpo")]["registered"]


# ---- what the store offers the MLflow UI ----------------------------------------------------


def test_model_version_explains_itself_and_runs_link_both_ways(quickstart: Quickstart) -> None:
    """The version's description (chain, eval table), its tags, the runs' descriptions, and
    MLflow's own structures (model inputs, logged-model metrics, the source run's picture)."""
    quickstart.check_finished()
    from mlflow import MlflowClient

    from codekiln_core.lineage.links import run_page
    from codekiln_core.lineage.resolve import version_model_id

    client = MlflowClient(tracking_uri=quickstart.uri)
    version = client.get_model_version(MODEL, "1")
    experiment = client.get_run(quickstart.run_id("grpo")).info.experiment_id
    text = str(version.description)
    chain = text.split("#### Chain back to the raw inputs")[1].split("####")[0]
    for step in ("grpo", *UPSTREAM):  # one line per run, each a link to its page
        assert f"({run_page(experiment, quickstart.run_id(step))})" in chain, step
    evaluations = text.split("#### Latest evaluations")[1].split("####")[0]
    for step, benchmark in (("eval-humaneval", "humaneval"), ("eval-mbpp", "mbpp")):
        row = next(line for line in evaluations.splitlines() if line.startswith(f"| {benchmark}"))
        assert f"({run_page(experiment, quickstart.run_id(step))})" in row, row
        assert f"{benchmark}.pass_at_1" in version.tags
    assert "**Starting model:** quickstart-base v1, trained from scratch by" in text
    assert version.tags["base_model"] == "quickstart-base v1"
    assert version.tags["recipe"].endswith("posttrain-tiny-grpo.yaml")

    steps = {*UPSTREAM, *(source for sources in UPSTREAM.values() for source in sources)}
    notes = {step: client.get_run(quickstart.run_id(step)).data.tags["mlflow.note.content"]
             for step in steps}
    for step, sources in UPSTREAM.items():  # each run links its upstream runs, and they it
        for source in sources:
            assert f"({run_page(experiment, quickstart.run_id(source))})" in notes[step], step
            assert f"({run_page(experiment, quickstart.run_id(step))})" in notes[source], \
                f"{source} does not link its consumer {step}"

    model_id = version_model_id(version)
    scores = {(m.run_id, m.key) for m in client.get_logged_model(str(model_id)).metrics or []}
    for step in ("eval-humaneval", "eval-mbpp"):
        evaluation = client.get_run(quickstart.run_id(step))
        assert [m.model_id for m in evaluation.inputs.model_inputs] == [model_id]
        assert (quickstart.run_id(step), "pass_at_1") in scores
    picture = {a.path: a.file_size for a in client.list_artifacts(quickstart.run_id("grpo"),
                                                                  "lineage")}
    assert set(picture) == {"lineage/lineage.png", "lineage/lineage.html"}, picture


# ---- the MLflow UI in headless Chromium ------------------------------------------------------


@pytest.fixture(scope="module")
def mlflow_ui(quickstart: Quickstart, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """core's ``codekiln lineage ui`` server on the quickstart's store, on a free port."""
    from codekiln_core.lineage.ui import start_ui
    from codekiln_core.testing import free_port

    quickstart.check_finished()
    server = start_ui(free_port(), log=tmp_path_factory.mktemp("mlflow-ui") / "mlflow-ui.log")
    try:
        yield server
    finally:
        server.stop()


def _link(text: str) -> str:
    """JavaScript: the first link showing ``text``."""
    return f"Array.from(document.links).find(a => a.innerText.trim() === {json.dumps(text)})"


def _link_to(part: str) -> str:
    """JavaScript: the first link whose address contains ``part``."""
    return f"Array.from(document.links).find(a => a.getAttribute('href').includes('{part}'))"


def _described(text: str) -> str:
    """JavaScript: the description's link showing ``text`` (these open a new tab)."""
    return ("Array.from(document.querySelectorAll('.note-editor-preview-content a'))"
            f".find(a => a.innerText.trim() === {json.dumps(text)})")


#: JavaScript: the registered models page's promotion dialog (shown once per browser) and
#: the close buttons of it and of the Assistant panel, and a run description's "Show more".
PROMOTION = "document.querySelector('.du-bois-light-modal-wrap[role=dialog]')"
CLOSE_PROMOTION = f"{PROMOTION}.querySelector('button[aria-label=Close]')"
CLOSE_ASSISTANT = ("document.querySelector("
                   "'[data-component-id=\"mlflow.assistant.chat_panel.close\"]')")
SHOW_MORE = "Array.from(document.querySelectorAll('button')).find(b => b.innerText === 'Show more')"


def _show_whole_description(page: Any) -> None:
    """A long run description is folded after a few lines; unfold it as a person would."""
    if page.evaluate(f"!!({SHOW_MORE})"):
        page.click(SHOW_MORE, "the description's Show more")


def _png_width(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[16:20], "big")  # the PNG header's IHDR width


def test_browser_walks_from_the_model_version_to_curate_and_an_eval_by_links_alone(
    quickstart: Quickstart, browser: Any, mlflow_ui: Any,
) -> None:
    """From the page ``codekiln lineage ui`` opens on, by clicks only: the registered model,
    its version 1, then the curate run at the chain's far end and an evaluation; then
    MLflow's own panels: the logged model's scores and the source run's lineage picture."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=quickstart.uri)
    curate, humaneval = quickstart.run_id("curate"), quickstart.run_id("eval-humaneval")
    page = browser.page
    browser.open(mlflow_ui.start_page, ("Registered Models", MODEL, "quickstart-base"))
    # a fresh browser profile: MLflow introduces its new registry UI in a dialog first
    page.click(CLOSE_PROMOTION, "the registry UI dialog's close button")
    page.wait_for(f"(d => !d || !d.getClientRects().length)({PROMOTION})",
                  "the registry UI dialog closed")
    if page.evaluate(f"!!{CLOSE_ASSISTANT}"):  # the docs: close it once, the browser remembers
        page.click(CLOSE_ASSISTANT, "the Assistant panel's close button")
        page.wait_for(f"!{CLOSE_ASSISTANT}", "the Assistant panel closed")
    page.screenshot("registered-models")
    browser.follow(_link(MODEL), ("Version 1", "Registered Models"), "the quickstart model")
    text = browser.follow(_link("Version 1"), (
        "Source Run", "posttrain.grpo", "Latest evaluations", "Chain back to the raw inputs",
        "Starting model: quickstart-base v1", "base_model", "humaneval.pass_at_1"),
        "version 1 of the quickstart model")
    # closed, it leaves only its "MLflow Assistant" button in the corner
    assert not page.evaluate(f"!!{CLOSE_ASSISTANT}"), "the closed Assistant panel reopened"
    page.screenshot("model-version")

    text = browser.follow(_described("curate.run"), (
        "curate.run", "Made from", "raw input", "Used by", "curate.label", "curate.heldout",
        curate), "the chain's curate.run link")
    assert "Model training" in text and "Traces" in text and "Judges" not in text, \
        "the run opens in the model-training view"
    browser.page.wait_for(f"!!({_link_to(quickstart.parent_run_id)})", "its parent run's link")
    _show_whole_description(browser.page)
    browser.page.screenshot("curate-run")
    browser.close_tab()

    row = ("Array.from(document.querySelectorAll('.note-editor-preview-content tr'))"
           ".find(r => r.innerText.includes('humaneval'))")
    browser.follow(f"{row}.querySelector('a')", (
        "eval.run", humaneval, "pass_at_1", "humaneval", "Made from", "posttrain.grpo",
        "Logged models"), "the humaneval row's eval.run link")
    browser.page.screenshot("eval-run")
    browser.close_tab()

    browser.follow(_link_to("/models/m-"), (
        "About this logged model", "pass_at_1", "benchmark.humaneval", "eval.run"),
        "the version's Source Model link")
    page.screenshot("logged-model")
    source = client.get_run(quickstart.run_id("grpo"))
    picture = Path(client.download_artifacts(source.info.run_id, "lineage/lineage.png",
                                             str(quickstart.workdir / "downloaded")))
    width = _png_width(picture)
    assert width <= 960, f"the lineage picture is {width} px wide: too wide to read in the UI"
    browser.follow(_link_to(f"/runs/{source.info.run_id}"), ("posttrain.grpo", "Lineage picture"),
                   "the logged model's source run")
    _show_whole_description(page)
    browser.follow(_described("lineage/lineage.png"), ("lineage.png", "lineage.html"),
                   "the source run's lineage picture link")
    shown = ("Array.from(document.images).find(i => i.complete && "
             f"i.naturalWidth === {width} && i.width > 0)")
    browser.page.wait_for(f"!!({shown})", f"the lineage picture ({width} px wide)")
    scale = browser.page.evaluate(f"{shown}.width / {width}")
    assert scale >= 0.7, f"the preview shrinks the picture to {scale:.0%}: text unreadable"
    browser.page.screenshot("model-lineage")
    browser.close_tab()


def test_pipeline_run_keeps_the_whole_lineage_picture(
    quickstart: Quickstart, browser: Any, mlflow_ui: Any, tmp_path: Path,
) -> None:
    quickstart.check_finished()
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=quickstart.uri)
    parent = client.get_run(quickstart.parent_run_id)
    experiment, parent_id = parent.info.experiment_id, parent.info.run_id
    run_page = f"{mlflow_ui.url}/#/experiments/{experiment}/runs/{parent_id}"
    browser.open(run_page, (MODEL, parent_id, "Pipeline quickstart", "curate.run"))
    browser.page.screenshot("pipeline-run")
    browser.open(f"{run_page}/artifacts/lineage/lineage.png",
                 ("lineage.png", "lineage.html", "pipeline", "lineage/lineage.png"))
    picture = Path(client.download_artifacts(parent_id, "lineage/lineage.png", str(tmp_path)))
    width = _png_width(picture)
    browser.page.wait_for(f"Array.from(document.images).some(i => i.complete && "
                          f"i.naturalWidth === {width})", f"the lineage picture ({width} px)")
    browser.page.screenshot("pipeline-lineage")
