"""``lineage show --format``: text, json, mermaid, dot, png, svg, html on a real store.

The chain is raw code -> curate -> dataset -> train -> registered model -> eval (pass@k),
logged through ``lineage_run`` into the embedded SQLite store.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from codekiln_core.cli.app import main
from codekiln_core.lineage import InputRef, lineage_run
from codekiln_core.lineage.chain import walk_chain
from codekiln_core.lineage.graph import build_graph
from codekiln_core.testing import TINY_CORPUS


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Built once per module (a fresh SQLite store costs seconds of MLflow migrations)."""
    tmp_path = tmp_path_factory.mktemp("formats")
    tiny_code_corpus = tmp_path / "corpus"
    for rel, text in TINY_CORPUS.items():
        (tiny_code_corpus / rel).parent.mkdir(parents=True, exist_ok=True)
        (tiny_code_corpus / rel).write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
        patch.setenv("CODEKILN_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
        yield _make_chain(tmp_path, tiny_code_corpus)


def _make_chain(tmp_path: Path, tiny_code_corpus: Path) -> dict[str, str]:
    dataset = tmp_path / "curated"
    with lineage_run("curate.run", inputs=[InputRef.from_path(tiny_code_corpus,
                                                               name="raw-code")]) as curate:
        dataset.mkdir()
        (dataset / "part-0.jsonl").write_text('{"id": "a"}\n', encoding="utf-8")
        curate.log_metrics({"docs_kept": 1})
        curate.log_output(dataset, name="curated")
    tokenizer = tmp_path / "tokenizer"
    with lineage_run("curate.tokenizer", inputs=[InputRef.from_path(tiny_code_corpus,
                                                                    name="raw-code")]) as tok:
        tokenizer.mkdir()
        (tokenizer / "tokenizer.json").write_text("{}", encoding="utf-8")
        tok.log_output(tokenizer, name="tokenizer")
    model_dir = tmp_path / "model"
    with lineage_run("train.pretrain", inputs=[InputRef.from_path(dataset),
                                               InputRef.from_path(tokenizer)]) as train:
        model_dir.mkdir()
        (model_dir / "config.json").write_text("{}", encoding="utf-8")
        for step, loss in enumerate([3.0, 2.5, 2.2]):
            train.log_metrics({"train_loss": loss, "lr": 1e-3 * (step + 1)}, step=step)
        model_uri = train.log_model(model_dir, name="tiny", register_as="quickstart")
    with lineage_run("eval.run", inputs=[InputRef(name="model", source=model_uri)]) as ev:
        ev.log_metrics({"pass_at_1": 0.125, "pass_at_10": 0.5})
    assert curate.run_id and tok.run_id and train.run_id and ev.run_id
    return {"curate": curate.run_id, "tokenizer": tok.run_id, "train": train.run_id,
            "eval": ev.run_id, "model": model_uri}


def test_graph_has_datasets_models_and_evaluations(chain: dict[str, str]) -> None:
    graph = build_graph(walk_chain(chain["model"]))
    kinds = {n.kind for n in graph.nodes}
    assert kinds == {"run", "dataset", "model", "eval"}
    titles = {n.title: n for n in graph.nodes}
    assert "models:/quickstart/1" in titles and "curated" in titles and "raw-code" in titles
    assert titles["eval.run"].kind == "eval"
    assert "pass@1 = 0.125" in titles["eval.run"].lines
    assert any(line.startswith("digest ") for line in titles["curated"].lines)
    ids = {n.title: n.id for n in graph.nodes}
    edges = set(graph.edges)
    assert (ids["raw-code"], ids["curate.run"]) in edges
    assert (ids["curate.run"], ids["curated"]) in edges
    assert (ids["curated"], ids["train.pretrain"]) in edges
    assert (ids["train.pretrain"], ids["models:/quickstart/1"]) in edges
    assert (ids["models:/quickstart/1"], ids["eval.run"]) in edges


def test_text_and_json_show_registered_model_and_pass_at_k(
    chain: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lineage", "show", chain["model"], "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert "registered: models:/quickstart/1" in text and "pass_at_1=0.125" in text
    assert main(["lineage", "show", chain["eval"], "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["runs"][0]["metrics"]["pass_at_10"] == 0.5
    assert data["runs"][1]["registered"] == ["quickstart/1"]


def test_text_tree_draws_sibling_upstream_runs_at_one_level(
    chain: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """train.pretrain read two datasets made by two unrelated runs: both are its children."""
    for ref, train_lead, indent in ((chain["model"], "", ""), (chain["eval"], "└─ ", "   ")):
        assert main(["lineage", "show", ref, "--format", "text"]) == 0
        lines = capsys.readouterr().out.splitlines()
        heads = {name: next(line for line in lines if f"{name}  run {chain[key]}" in line)
                 for name, key in (("curate.run", "curate"), ("curate.tokenizer", "tokenizer"),
                                   ("train.pretrain", "train"))}
        assert heads["train.pretrain"].startswith(train_lead + "train.pretrain")
        siblings = sorted((heads["curate.run"], heads["curate.tokenizer"]),
                          key=lines.index)
        assert siblings[0].startswith(indent + "├─ "), siblings
        assert siblings[1].startswith(indent + "└─ "), siblings
        assert "(shown above)" not in "\n".join(lines)  # no run is reached twice here
        detail = lines[lines.index(siblings[0]) + 1]
        assert detail.startswith(indent + "│  ")  # the first sibling's lines keep the rail


def test_mermaid_and_dot(chain: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lineage", "show", chain["model"], "--format", "mermaid"]) == 0
    mermaid = capsys.readouterr().out
    assert mermaid.startswith("flowchart LR") and mermaid.count("-->") >= 5
    assert "pass@1 = 0.125" in mermaid and "models:/quickstart/1" in mermaid
    assert main(["lineage", "show", chain["model"], "--format", "dot"]) == 0
    dot = capsys.readouterr().out
    assert dot.startswith("digraph lineage {") and dot.rstrip().endswith("}")
    assert dot.count(" -> ") >= 5 and "shape=cylinder" in dot and "shape=component" in dot


def test_png_svg_html_pictures(chain: dict[str, str], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    png, svg, page = tmp_path / "l.png", tmp_path / "l.svg", tmp_path / "l.html"
    for fmt, target in (("png", png), ("svg", svg), ("html", page)):
        assert main(["lineage", "show", chain["model"], "--format", fmt, "-o",
                     str(target)]) == 0
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    assert 300 < width <= 960 and height > 150  # legible at the UI's preview width
    assert svg.read_text().startswith("<svg")
    assert ">models:/quickstart/1</text>" in svg.read_text()  # real text, not outlines
    html = page.read_text()
    assert "<svg" in html and "<script" not in html and "http://" not in html.split("<svg")[0]
    assert "pass@1 = 0.125" in html


def test_unknown_format_is_one_line(chain: dict[str, str],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lineage", "show", chain["model"], "--format", "gif"]) == 2
    err = capsys.readouterr().err
    assert "--format 'gif': choose one of text, json, mermaid, dot, png" in err


def test_metric_history_plot(chain: dict[str, str], tmp_path: Path) -> None:
    from codekiln_core.plots import is_learning_rate, metric_histories, plot_run_metrics

    histories = metric_histories(chain["train"])
    assert histories == {"lr": [(0, 0.001), (1, 0.002), (2, 0.003)],
                         "train_loss": [(0, 3.0), (1, 2.5), (2, 2.2)]}
    assert is_learning_rate("lr") and is_learning_rate("optim/learning_rate")
    assert not is_learning_rate("val_loss")
    path = plot_run_metrics(chain["train"], tmp_path / "curves.png")
    assert path is not None and path.read_bytes()[:4] == b"\x89PNG"
    assert plot_run_metrics(chain["eval"], tmp_path / "none.png") is None  # single points
