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
import os
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from codekiln_core.cli.app import main

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

#: The first test also waits for the module's pipeline: minutes idle, far more on a busy
#: shared machine, so the suite's 900 s per-test limit is raised here.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2700)]

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / ".codekiln" / "browser-test"
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
    "steps.scorer.options.epochs=1",
    "steps.scorer.set.eval_percent=50",
    "steps.tokenizer.options.vocab_size=1024",
    "steps.shards.options.seq_len=256",
    "steps.shards.options.mix=code=1",  # every file of the small corpus (the recipe samples 10%)
    "steps.shards-val.options.seq_len=256",
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
    "steps.eval-humaneval.options.limit=1",
    "steps.eval-humaneval.options.max_tokens=16",
    "steps.eval-mbpp.options.limit=1",
    "steps.eval-mbpp.options.max_tokens=16",
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
    assert set(UPSTREAM) | {"eval-humaneval", "eval-mbpp", "serve-check"} <= set(enabled)
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
    for step in ("eval-humaneval", "eval-mbpp"):
        metrics = client.get_run(quickstart.run_id(step)).data.metrics
        assert "pass_at_1" in metrics, (step, sorted(metrics))


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


# ---- the MLflow UI in headless Chromium ------------------------------------------------------

#: Debian's headless Chromium, flags as CI runs it: no sandbox (root in a container), nothing
#: fetched in the background, a fresh profile per test.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-dev-shm-usage", "--window-size=1680,1050",
                  "--remote-debugging-port=0")


def chromium_binary() -> str:
    """The browser, or a skip (a failure under CI, whose .ci/run installs it)."""
    import shutil

    found = os.environ.get("CODEKILN_CHROMIUM") or shutil.which("chromium") \
        or shutil.which("chromium-browser")
    if found:
        return found
    reason = "Debian's headless Chromium is not installed (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; .ci/run installs it in CI")
    pytest.skip(reason)


class DevTools:
    """The few Chrome DevTools Protocol calls the test needs, over one page's websocket."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.last_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        self.socket.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:  # events arrive in between; the answer carries our id
            message = json.loads(self.socket.recv(timeout=120))
            if message.get("id") == self.last_id:
                assert "error" not in message, f"{method}: {message['error']}"
                return dict(message["result"])

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def open(self, url: str, expected: tuple[str, ...], timeout_s: float = 120) -> str:
        """Load ``url`` and wait until the rendered text shows every expected string."""
        self.call("Page.navigate", url="about:blank")
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout_s
        text = ""
        while time.monotonic() < deadline:
            text = self.evaluate("document.body ? document.body.innerText : ''") or ""
            if all(item in text for item in expected):
                return str(text)
            time.sleep(0.5)
        missing = [item for item in expected if item not in text]
        raise AssertionError(f"{url}: {missing} never showed; the page said:\n{text[:3000]}")

    def wait_for(self, condition: str, what: str, timeout_s: float = 60) -> None:
        """Poll a JavaScript condition on the page until it holds."""
        deadline = time.monotonic() + timeout_s
        while not self.evaluate(condition):
            assert time.monotonic() < deadline, f"{what} never showed on the page"
            time.sleep(0.5)

    def screenshot(self, name: str) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        import base64

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        path.write_bytes(base64.b64decode(data))
        print(f"screenshot: {path}")
        return path


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    """Headless Chromium in its own process group, driven through its first page."""
    binary = chromium_binary()
    profile = tmp_path / "chromium-profile"
    log = (tmp_path / "chromium.log").open("wb")
    process = subprocess.Popen([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                "about:blank"], stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        from websockets.sync.client import connect

        with connect(_page_websocket(profile, process), max_size=None,
                     open_timeout=30) as socket:
            yield DevTools(socket)
    finally:
        _stop_group(process)
        log.close()


def _page_websocket(profile: Path, process: subprocess.Popen[bytes]) -> str:
    """Chromium writes its DevTools port to the profile; ask it for the page's socket."""
    import urllib.request

    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while not active.is_file() or not active.read_text().strip():
        assert process.poll() is None, f"chromium exited with {process.returncode}"
        assert time.monotonic() < deadline, "chromium did not open its DevTools port"
        time.sleep(0.2)
    port = active.read_text().split()[0]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
        targets = json.loads(answer.read())
    return str(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    import signal

    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue
    process.wait()


@pytest.fixture
def mlflow_ui(quickstart: Quickstart, tmp_path: Path) -> Iterator[str]:
    """core's ``codekiln lineage ui`` server on the quickstart's store, on a free port."""
    from codekiln_core.lineage.ui import start_ui
    from codekiln_core.testing import free_port

    server = start_ui(free_port(), log=tmp_path / "mlflow-ui.log")
    try:
        yield server.url
    finally:
        server.stop()


def test_mlflow_ui_shows_the_model_its_source_run_and_the_lineage_picture(
    quickstart: Quickstart, browser: DevTools, mlflow_ui: str, tmp_path: Path,
) -> None:
    quickstart.check_finished()
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=quickstart.uri)
    source = client.get_run(quickstart.run_id("grpo"))
    parent = client.get_run(quickstart.parent_run_id)
    experiment, parent_id = parent.info.experiment_id, parent.info.run_id

    text = browser.open(f"{mlflow_ui}/#/models/{MODEL}/versions/1",
                        ("Version 1", MODEL, "Source Run", str(source.info.run_name)))
    assert "Registered Models" in text, text[:2000]
    browser.wait_for(f"Array.from(document.links).some(a => a.href.includes("
                     f"'/runs/{source.info.run_id}'))", "a link to the source run")
    browser.screenshot("model-version")

    run_page = f"{mlflow_ui}/#/experiments/{experiment}/runs/{parent_id}"
    browser.open(run_page, (MODEL, parent_id, "Artifacts"))
    browser.screenshot("pipeline-run")

    browser.open(f"{run_page}/artifacts/lineage/lineage.png",
                 ("lineage.png", "lineage.html", "pipeline", "lineage/lineage.png"))
    picture = Path(client.download_artifacts(parent_id, "lineage/lineage.png", str(tmp_path)))
    width = int.from_bytes(picture.read_bytes()[16:20], "big")  # the PNG header's IHDR width
    browser.wait_for(f"Array.from(document.images).some(i => i.complete && "
                     f"i.naturalWidth === {width})", f"the lineage picture ({width} px wide)")
    browser.screenshot("pipeline-lineage")
