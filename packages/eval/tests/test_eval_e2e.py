"""End to end: a tiny random model, locally and behind a real HTTP server, on HumanEval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import codekiln_benchmark_data
from codekiln_core.fake_openai import fake_openai_server
from codekiln_eval.benchmarks import HumanEval, all_benchmarks
from codekiln_eval.evaluate import EvalSettings

DATA = codekiln_benchmark_data.root()  # bundled HumanEval
BENCH = {cls.name: cls for cls in all_benchmarks()}
pytestmark = [pytest.mark.slow, pytest.mark.sandbox]


def stand_in(answer: Any) -> Any:
    """The core fake OpenAI server answering ``answer(request, n)``; /health reports the FIM
    order, as codekiln serve does."""
    return fake_openai_server(reply=answer, model="tiny", health={"fim_layout": "spm"})


def canned(req: dict[str, Any], n: int) -> list[str]:
    chat = "messages" in req
    if "suffix" in req or "input_suffix" in req:
        return canned_middle(req)
    tasks = HumanEval(data=DATA).tasks(limit=4)
    text = req["messages"][-1]["content"] if chat else req["prompt"]
    task = next(t for t in tasks if t.prompt.strip() in text)
    sol = task.record["canonical_solution"]
    answer = f"Sure.\n```python\n{task.prompt}{sol}```\n" if chat else sol
    return [answer] * n


def canned_middle(req: dict[str, Any]) -> list[str]:
    """The canonical middle of the single-line task the request's prefix and suffix cut."""
    prefix, suffix = req.get("prompt", req.get("input_prefix")), req.get(
        "suffix", req.get("input_suffix"))
    bench = BENCH["humaneval-infill-single-line"](data=DATA)
    task = next(t for t in bench.tasks(limit=8) if (t.prompt, t.suffix) == (prefix, suffix))
    return [task.record["middle"] + "\n    pass"] * int(req.get("n", 1))  # cut at "\n"


def settings(tmp_path: Path, model: str, **kw: Any) -> EvalSettings:
    base = {"benchmark": "humaneval", "model": model, "data": str(DATA), "n": 2, "ks": [1, 2],
            "limit": 4, "max_tokens": 16, "output": str(tmp_path / "run"),
            "calibrate": "probe"}
    return EvalSettings(**{**base, **kw})


def run_eval(settings: EvalSettings, **kwargs: Any) -> dict[str, Any]:
    """One evaluation without lineage, as the work function runs it."""
    from codekiln_core.lineage import LineageRun
    from codekiln_eval.evaluate import run_eval as evaluate

    return evaluate(settings, LineageRun(None), **kwargs)


@pytest.mark.parametrize("mode", ["completion", "chat"])
def test_canned_correct_endpoint_scores_one(tmp_path: Path, mode: str) -> None:
    with stand_in(canned) as server:
        summary = run_eval(settings(tmp_path, server.url, mode=mode))
    assert summary["pass_at_k"] == {"pass@1": 1.0, "pass@2": 1.0}
    assert summary["schema_version"] == 1 and summary["num_tasks_complete"] == 4
    assert (tmp_path / "run" / "passk.png").read_bytes()[:4] == b"\x89PNG"  # the bars
    rows = [json.loads(x) for x in (tmp_path / "run" / "tasks.jsonl").read_text().splitlines()]
    assert [r["correct"] for r in rows] == [2, 2, 2, 2]
    assert all(r["timeouts_s"]["base"] > 0 for r in rows)
    assert summary["calibration"]["machine_factor"] >= 1.0


def test_tiny_model_local_dir_and_endpoint_resume(tmp_path: Path, tiny_model_dir: Path,
                                                  mlflow_store: str) -> None:
    from codekiln_core.cli.app import main
    from codekiln_eval.models import ModelSpec, make_generator

    gen = make_generator(ModelSpec("local", str(tiny_model_dir), tiny_model_dir))
    args = ["eval", "run", "-b", "humaneval", "-m", str(tiny_model_dir), "--data", str(DATA),
            "-n", "2", "-k", "1,2", "--limit", "4", "--max-tokens", "16", "--calibrate",
            "probe", "--mode", "completion", "-o", str(tmp_path / "local" / "run")]
    assert main(args) == 0  # through the command: lineage recorded by core's command path
    summary = json.loads((tmp_path / "local" / "run" / "summary.json").read_text())
    out = tmp_path / "local" / "run"
    assert {p.name for p in out.iterdir()} >= {"samples.jsonl", "results.jsonl", "tasks.jsonl",
                                               "summary.json", "calibration.json"}
    assert summary["pass_at_k"]["pass@1"] == 0.0  # random weights write no working code
    assert summary["mlflow_run_id"]
    lines = (out / "samples.jsonl").read_text().splitlines()
    assert len(lines) == 8
    assert main(args) == 2  # the output holds a run: continuing it needs --resume
    more = settings(tmp_path / "local", str(tiny_model_dir), mode="completion", n=3)
    run_eval(more, generator=gen)  # resume: only sample_idx 2 is generated
    assert len((out / "samples.jsonl").read_text().splitlines()) == 12
    assert (out / "samples.jsonl").read_text().startswith("\n".join(lines))

    def from_model(req: dict[str, Any], n: int) -> list[str]:
        from codekiln_eval.generate.base import Prompt, SamplingParams

        prompt = Prompt("x", messages=req["messages"]) if "messages" in req else \
            Prompt("x", req["prompt"])
        return gen.generate([prompt], [n], SamplingParams(max_tokens=8))[0]

    with stand_in(from_model) as server:
        remote = run_eval(settings(tmp_path / "remote", server.url, mode="chat"))
    assert remote["num_tasks_complete"] == 4 and remote["mode"] == "chat"


def test_cli_report_table_and_plot(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from codekiln_core.cli.app import build_app

    with stand_in(canned) as server:
        run_eval(settings(tmp_path, server.url, mode="completion"))
    result = CliRunner().invoke(build_app(), ["eval", "report", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "humaneval" in result.output and "100.0" in result.output
    assert (tmp_path / "run" / "passk.png").stat().st_size > 1000


@pytest.mark.parametrize("fim_api", ["completions", "infill"])
def test_canned_fim_endpoint_scores_one_and_records_the_layout(tmp_path: Path,
                                                               fim_api: str) -> None:
    """Canonical middles, sent back by an endpoint, pass and match on both FIM routes."""
    with stand_in(canned) as server:
        summary = run_eval(settings(tmp_path, server.url, benchmark="humaneval-infill-single-line",
                                    fim_api=fim_api))
    assert summary["mode"] == "fim"  # auto: an infilling benchmark
    assert summary["pass_at_k"] == {"pass@1": 1.0, "pass@2": 1.0}
    assert summary["exact_match"] == 1.0
    route = "/infill" if fim_api == "infill" else "/v1/completions (suffix)"
    assert summary["fim"] == {"layout": "spm", "applied_by": f"endpoint {server.url}{route}"}
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["fim"]["layout"] == "spm"
    rows = [json.loads(x) for x in (tmp_path / "run" / "tasks.jsonl").read_text().splitlines()]
    assert [r["exact_match"] for r in rows] == [1.0] * 4


def test_seeded_by_default_and_each_infill_sample_draws_with_its_own_seed(
        tmp_path: Path) -> None:
    """A rerun or a resumed run draws what an uninterrupted one did (seed 0 unless set);
    llama.cpp's /infill gives one sample per request, so the n requests of a task carry
    seeds 0..n-1, not n copies of one draw."""
    seeds: list[tuple[str, int]] = []

    def recorded(req: dict[str, Any], n: int) -> list[str]:
        seeds.append((req["input_prefix"], req["seed"]))
        return canned(req, n)

    with stand_in(recorded) as server:
        config = settings(tmp_path, server.url, benchmark="humaneval-infill-single-line",
                          fim_api="infill")
        assert config.seed == 0
        run_eval(config)
    by_task: dict[str, list[int]] = {}
    for prefix, seed in seeds:
        by_task.setdefault(prefix, []).append(seed)
    assert len(by_task) == 4 and all(s == [0, 1] for s in by_task.values()), by_task


def test_tiny_fim_model_local_run(tmp_path: Path, tiny_fim_model_dir: Path,
                                  tiny_model_dir: Path) -> None:
    from tokenizers import Tokenizer

    from codekiln_core.errors import ConfigError
    from codekiln_eval.generate.base import Prompt, SamplingParams
    from codekiln_eval.models import ModelSpec, make_generator

    def local(path: Path, **kw: Any) -> Any:
        return make_generator(ModelSpec("local", str(path), path), **kw)

    gen = local(tiny_fim_model_dir, fim_layout="psm")
    task = BENCH["humaneval-infill-single-line"](data=DATA).tasks(limit=1)[0]
    enc = Tokenizer.from_file(str(tiny_fim_model_dir / "tokenizer.json"))
    enc.encode_special_tokens = True

    def ids(text: str) -> list[int]:
        return list(enc.encode(text, add_special_tokens=False).ids)

    fim = Prompt(task.task_id, text=task.prompt, suffix=task.suffix)
    assert list(gen.request(fim, 1, SamplingParams()).prompt_ids) == [3, *ids(task.prompt), 4,
                                                   *ids(task.suffix or ""), 5]  # PSM
    run = settings(tmp_path, str(tiny_fim_model_dir), benchmark="humaneval-infill-single-line",
                   n=1, ks=[1], limit=3, max_tokens=8, fim_layout="psm")
    summary = run_eval(run, generator=gen)
    assert summary["mode"] == "fim" and summary["fim"]["layout"] == "psm"
    assert 0.0 <= summary["exact_match"] <= 1.0 and summary["num_tasks_complete"] == 3
    rows = [json.loads(x) for x in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert {r["mode"] for r in rows} == {"fim"}
    with pytest.raises(ConfigError, match="fill-in-the-middle tokens"):
        local(tiny_model_dir).generate([fim], [1], run.sampling(("\n",)))
    with pytest.raises(ConfigError, match="needs an infilling benchmark"):
        run_eval(settings(tmp_path / "x", str(tiny_fim_model_dir), mode="fim"), generator=gen)
    with pytest.raises(ConfigError, match="not chat"):
        run_eval(settings(tmp_path / "y", str(tiny_fim_model_dir), mode="chat",
                          benchmark="humaneval-infill-multi-line"), generator=gen)
