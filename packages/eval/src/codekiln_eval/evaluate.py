"""One evaluation: generate missing samples, calibrate timeouts, execute, score, record.

Every step resumes: samples and results are append-only logs keyed by (task_id,
sample_idx), calibration is stored once, and the summary is rebuilt from the logs. The
whole command is one MLflow run (opened by core's command path) whose inputs are the model
and the benchmark files.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from codekiln_core.config import RecipeModel
from codekiln_core.errors import ConfigError
from codekiln_eval.benchmarks.base import Benchmark, Task
from codekiln_eval.calibrate import calibrate, timeout_for
from codekiln_eval.execute import CheckJob, run_jobs, sample_rows
from codekiln_eval.generate.base import Prompt, SamplingParams
from codekiln_eval.results import KeyedLog, write_json_atomic
from codekiln_eval.scoring import score_run

if TYPE_CHECKING:
    from codekiln_core.lineage import LineageRun

Progress = Callable[[str], None]


class ExecutionSettings(RecipeModel):
    """What ``eval run`` and ``eval score`` share: the benchmark, the sandbox, the records."""

    benchmark: str = Field(..., description="registered benchmark name (`codekiln eval list`)")
    data: str | None = Field(None, description="local benchmark file or directory (else the "
                             "hub)")
    options: dict[str, str] = Field(default_factory=dict, description="benchmark options "
                                    "(--set options.KEY=VALUE)")
    ks: list[int] = Field(default_factory=lambda: [1], description="k values of pass@k: "
                          "1,10 or repeated")
    limit: int | None = Field(None, ge=1, description="evaluate only the first N tasks")
    output: Path | None = Field(None, description="run directory (default: "
                                ".codekiln/eval/BENCHMARK/MODEL)")
    workers: int = Field(2, ge=1, description="sandbox worker processes")
    sandbox: str = Field("local", description="registered sandbox name")
    calibrate: Literal["canonical", "probe", "off"] = Field(
        "canonical", description="how per-task timeouts are derived: canonical, probe or off")
    base_timeout_s: float = Field(5.0, gt=0, description="floor timeout before scaling")

    @field_validator("ks", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """``-k 1,10`` and ``--ks 1 --ks 10`` both give [1, 10]."""
        if isinstance(value, str | int):
            value = [value]
        if isinstance(value, list):
            return [part.strip() for item in value for part in str(item).split(",")
                    if part.strip()]
        return value

    @field_validator("ks")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if not value or min(value) < 1:
            raise ValueError("every k must be >= 1")
        return sorted(set(value))

    @property
    def run_dir(self) -> Path:
        assert self.output is not None, "filled in by the model validator"
        return self.output


class EvalSettings(ExecutionSettings):
    """The recipe of ``codekiln eval run``: a model, a benchmark, how to sample and run."""

    model: str = Field(..., description="HF model dir, http(s):// endpoint or "
                       "models:/NAME/VERSION")
    n: int = Field(1, ge=1, description="samples per task")
    mode: Literal["auto", "completion", "chat", "fim"] = Field(
        "auto", description="prompt style: completion (base models), chat (instruct) or fim "
        "(fill-in-the-middle: infilling benchmarks, where auto picks it)")
    temperature: float = Field(0.6, ge=0, description="sampling temperature (0 = greedy)")
    top_p: float = Field(0.8, gt=0, le=1, description="nucleus sampling mass")
    repetition_penalty: float = Field(1.05, gt=0, description="sent as an extra body field "
                                      "where supported")
    max_tokens: int = Field(512, ge=1, description="maximum new tokens per sample")
    seed: int | None = Field(0, description="sampling seed (per task for local models), so "
                             "a rerun or a resumed run draws the same samples; null: unseeded")
    served_model: str | None = Field(None, description="model id sent to an endpoint")
    engine: str = Field("auto", description="generator for a local model: auto (vllm with a "
                        "GPU where installed, else transformers: continuous batching) or a "
                        "registered name")
    concurrency: int = Field(8, ge=1, description="parallel endpoint requests")
    fim_layout: Literal["spm", "psm"] | None = Field(
        None, description="FIM order for a local model in mode fim: spm (Seed-Coder) or psm; "
        "default: the layout the model was trained in (its config.json), else spm; an "
        "endpoint lays out prompts itself")
    fim_api: Literal["completions", "infill"] = Field(
        "completions", description="FIM route of an endpoint: completions (/v1/completions "
        "with suffix) or infill (llama.cpp's /infill)")

    @model_validator(mode="after")
    def _k_and_output(self) -> EvalSettings:
        if max(self.ks) > self.n:
            raise ValueError(f"ks asks for pass@{max(self.ks)} but n is {self.n}; raise n to "
                             f"at least {max(self.ks)} or drop that k")
        if self.output is None:
            from codekiln_eval.models import model_slug

            self.output = Path(".codekiln") / "eval" / self.benchmark / model_slug(self.model)
        return self

    def sampling(self, stop: tuple[str, ...]) -> SamplingParams:
        return SamplingParams(self.temperature, self.top_p, self.repetition_penalty,
                              self.max_tokens, stop, self.seed)


def load_benchmark(settings: ExecutionSettings) -> Benchmark:
    from codekiln_core.plugins import get_plugin_manager
    from codekiln_core.registry import Registry

    cls = Registry(get_plugin_manager()).get("benchmark", settings.benchmark).obj
    return cls(data=settings.data, **settings.options)  # type: ignore[no-any-return]


def open_sandbox(settings: ExecutionSettings, max_timeout_s: float = 600.0) -> Any:
    from codekiln_core.plugins import get_plugin_manager
    from codekiln_core.registry import Registry
    from codekiln_core.sandbox import SandboxLimits

    cls = Registry(get_plugin_manager()).get("sandbox", settings.sandbox).obj
    # 4 GiB as in EvalPlus: some MBPP+ plus inputs build large results legitimately
    return cls(workers=settings.workers,
               limits=SandboxLimits(timeout_s=max_timeout_s, memory_mb=4096))


def check_config(out: Path, fingerprint: dict[str, Any]) -> None:
    """A run dir belongs to one benchmark/model/sampling setup; -n may grow on rerun."""
    path = out / "config.json"
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        diff = sorted(k for k in fingerprint if old.get(k) != fingerprint[k])
        if diff:
            raise ConfigError(f"{out}: made with different {diff[0]}={old.get(diff[0])!r} "
                              f"(now {fingerprint[diff[0]]!r}); use another --output")
    else:
        write_json_atomic(path, fingerprint)


def prompt_for(task: Task, mode: str) -> Prompt:
    if mode == "chat":
        return Prompt(task.task_id, messages=[{"role": "user", "content": task.instruction}])
    if mode == "fim":
        return Prompt(task.task_id, text=task.prompt, suffix=task.suffix or "")
    return Prompt(task.task_id, text=task.prompt)


def generate_missing(tasks: list[Task], n: int, mode: str, generator: Any,
                     params: SamplingParams, samples: KeyedLog, progress: Progress) -> int:
    """Ask for exactly the samples the log lacks, a chunk of tasks per call (every sample of
    the chunk batched together); append each chunk's samples as it arrives."""
    todo = {t.task_id: [i for i in range(n) if (t.task_id, i) not in samples] for t in tasks}
    pending = [(t, todo[t.task_id]) for t in tasks if todo[t.task_id]]
    made = 0
    step = generator.tasks_per_call(n)
    for start in range(0, len(pending), step):
        chunk = pending[start:start + step]
        texts = generator.generate([prompt_for(t, mode) for t, _ in chunk],
                                   [len(idx) for _, idx in chunk], params)
        for (task, idx), group in zip(chunk, texts, strict=True):
            samples.append({"task_id": task.task_id, "sample_idx": i, "mode": mode,
                            "output": text, "model": generator.model_name,
                            "created": time.time()} for i, text in zip(idx, group, strict=True))
            made += len(group)
        progress(f"generated {chunk[-1][0].task_id} ({made} samples)")
    return made


def execute_missing(bench: Benchmark, tasks: list[Task], n: int, samples: KeyedLog,
                    results: KeyedLog, sandbox: Any, calibration: dict[str, Any],
                    progress: Progress, batch: int = 64) -> None:
    by_id = {t.task_id: t for t in tasks}
    pending = [k for k in samples.records if k[0] in by_id and k[1] < n and k not in results]
    for start in range(0, len(pending), batch):
        jobs: list[CheckJob] = []
        extra: dict[tuple[str, int], dict[str, Any]] = {}
        for key in pending[start:start + batch]:
            task, rec = by_id[key[0]], samples.records[key]
            solution = solution_of(bench, task, rec)
            extra[key] = {"solution": solution}
            exact = bench.exact_match(task, rec["output"]) if rec["mode"] in (
                "fim", "completion") else None
            if exact is not None:
                extra[key]["exact_match"] = exact
            for name, check in bench.checks(task, solution).items():
                jobs.append(CheckJob(key, name, check, timeout_for(calibration, key[0], name)))
        results.append(sample_rows(jobs, run_jobs(sandbox, jobs), extra))
        progress(f"executed {min(start + batch, len(pending))}/{len(pending)} samples")


def solution_of(bench: Benchmark, task: Task, record: dict[str, Any]) -> str:
    """The program a sample stands for: a chat answer, a completion, or a given solution."""
    if record["mode"] == "chat":
        return bench.solution_from_chat(task, record["output"])
    if record["mode"] == "solution":  # pre-generated (eval score --samples): run as given
        return str(record["output"])
    return bench.solution_from_completion(task, record["output"])


def check_mode(mode: str, bench: Benchmark) -> None:
    """fim needs an infilling benchmark; an infilling benchmark has no chat form."""
    if mode == "fim" and not bench.infilling:
        raise ConfigError(f"--mode fim needs an infilling benchmark (humaneval-infill-..., "
                          f"humaneval-x-infill-...); {bench.name} has no suffix to fill")
    if mode == "chat" and bench.infilling:
        raise ConfigError(f"{bench.name} is an infilling benchmark: use --mode fim (or "
                          "completion, prefix only), not chat")


def resolve_mode(mode: str, generator: Any, bench: Benchmark | None = None) -> str:
    if mode != "auto":
        return mode
    if bench is not None and bench.infilling:
        return "fim"
    return "chat" if getattr(generator, "has_chat_template", True) else "completion"


def run_eval(settings: EvalSettings, run: LineageRun, *, generator: Any = None,
             sandbox: Any = None, progress: Progress = lambda _msg: None) -> dict[str, Any]:
    """Run (or resume) one evaluation, logged to ``run``; returns its summary."""
    from codekiln_eval.models import download_registered, make_generator, parse_model

    spec = parse_model(settings.model)  # cheap checks first: no data fetch for a bad --model
    bench = load_benchmark(settings)
    check_mode(settings.mode, bench)
    tasks = bench.tasks(settings.limit)
    if not tasks:
        raise ConfigError(f"benchmark {settings.benchmark} selected no tasks "
                          f"(options {settings.options}); widen the options")
    out = settings.run_dir
    if spec.kind == "registered" and generator is None:
        spec = download_registered(spec, Path(".codekiln") / "models")
    owned = generator is None
    generator = generator or make_generator(spec, settings.served_model, settings.concurrency,
                                            settings.fim_layout, settings.fim_api, settings.engine)
    try:
        mode = resolve_mode(settings.mode, generator, bench)
        params = settings.sampling(bench.stop if mode in ("completion", "fim") else ())
        fingerprint = {"benchmark": settings.benchmark, "model": settings.model,
                       "options": settings.options, "mode": mode,
                       "sampling": {k: v for k, v in params.to_dict().items()}}
        extra: dict[str, Any] = {"mode": mode, "model": settings.model}
        if mode == "fim":  # the layout is part of what was measured
            extra["fim"] = fingerprint["fim"] = dict(generator.fim)
        check_config(out, fingerprint)
        samples = KeyedLog(out / "samples.jsonl")
        generate_missing(tasks, settings.n, mode, generator, params, samples, progress)
    finally:
        if owned:
            generator.close()
    return finish(settings, settings.n, bench, tasks, samples, out, sandbox, progress, run,
                  extra)


def finish(settings: ExecutionSettings, n: int, bench: Benchmark, tasks: list[Task],
           samples: KeyedLog, out: Path, sandbox: Any, progress: Progress, run: LineageRun,
           extra: dict[str, Any]) -> dict[str, Any]:
    """Execute what is not yet executed, score, write summary.json, record metrics + files."""
    summary = execute_and_score(settings, n, bench, tasks, samples, out, sandbox, progress)
    summary.update(extra, mlflow_run_id=run.run_id)
    write_json_atomic(out / "summary.json", summary)
    from codekiln_eval.report import save_plot

    save_plot([summary], out / "passk.png")  # the bars, beside the numbers
    if run.run_id:
        # MLflow metric names allow no "@": pass@1 is logged as pass_at_1
        metrics = {k.replace("@", "_at_"): v for k, v in summary["pass_at_k"].items()
                   if v is not None}
        if summary.get("exact_match") is not None:
            metrics["exact_match"] = summary["exact_match"]
        run.log_metrics(metrics)
        run.log_artifact(out, artifact_path="eval")
    return summary


def execute_and_score(settings: ExecutionSettings, n: int, bench: Benchmark,
                      tasks: list[Task], samples: KeyedLog, out: Path, sandbox: Any,
                      progress: Progress) -> dict[str, Any]:
    owned = sandbox is None
    sandbox = sandbox or open_sandbox(settings)
    try:
        cal_path = out / "calibration.json"
        calibration = json.loads(cal_path.read_text()) if cal_path.exists() else None
        if calibration is None or not set(t.task_id for t in tasks) <= set(
                calibration.get("tasks", [])):
            calibration = calibrate(bench, tasks, sandbox, settings.calibrate,
                                    settings.base_timeout_s)
            calibration["tasks"] = [t.task_id for t in tasks]
            write_json_atomic(cal_path, calibration)
        results = KeyedLog(out / "results.jsonl")
        execute_missing(bench, tasks, n, samples, results, sandbox, calibration, progress)
    finally:
        if owned:
            sandbox.close()
    return score_run(bench, tasks, n, settings.ks, results, calibration, out)


def eval_inputs(settings: EvalSettings) -> list[Any]:
    """The model (linked to the run that made it) and the benchmark's files."""
    from codekiln_eval.models import model_input, parse_model

    return [model_input(parse_model(settings.model)),
            *lineage_inputs_of_benchmark(load_benchmark(settings))]


def lineage_inputs_of_benchmark(bench: Benchmark) -> list[Any]:
    from codekiln_core.lineage import InputRef

    return [InputRef.from_path(p, name=f"benchmark.{bench.name}") for p in bench.source_files()]
