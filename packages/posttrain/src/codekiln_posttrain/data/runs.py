"""The data commands as functions, each one lineage run: inputs logged, output marked."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from codekiln_core.errors import ConfigError
from codekiln_posttrain.data.from_code import FromCodeConfig
from codekiln_posttrain.data.instruct import InstructConfig
from codekiln_posttrain.data.pairs import PairsConfig


def _fresh(out: Path, resume: bool) -> None:
    if out.exists() and any(out.iterdir()) and not resume:
        raise ConfigError(f"output {out} exists and is not empty; pass --resume to continue "
                          "it or a new --output")


def instruct_run(seeds: Path, out: Path, config: InstructConfig, *, lineage: bool = True,
                 resume: bool = False, chat: Any = None, sandbox: Any = None
                 ) -> dict[str, int]:
    """Synthesise SFT rows from the best seeds; returns the summary counts."""
    from codekiln_core.lineage import InputRef, lineage_run
    from codekiln_core.sandbox import LocalSandbox, SandboxLimits
    from codekiln_posttrain.data.instruct import (
        Synthesizer,
        endpoint_chat,
        read_seed_rows,
        select_seeds,
    )
    from codekiln_posttrain.data.parts import run_in_parts

    _fresh(out, resume)
    chosen = select_seeds(read_seed_rows(seeds), config)
    if not chosen:
        raise ConfigError(f"{seeds}: no seed passes the filters (language, min_score)")
    owned = sandbox is None
    sandbox = sandbox or LocalSandbox(workers=2, limits=SandboxLimits(timeout_s=config.timeout_s))
    synth = Synthesizer(config, sandbox, chat or endpoint_chat(config))

    def work(chunk: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
        outcomes = synth.run_all(chunk)
        counts = Counter(o.reason for o in outcomes)
        counts["attempts"] = sum(o.attempts for o in outcomes)
        return [o.row for o in outcomes if o.row is not None], dict(counts)

    inputs = [InputRef.from_path(seeds, name="seeds")] if lineage else []
    try:
        with lineage_run("posttrain.data.instruct", config=config.model_dump(mode="json"),
                         inputs=inputs, enabled=lineage) as run:
            rows, counts, resumed = run_in_parts(chosen, out, config.part_size, work,
                                                 "instruct")
            summary = {"seeds": len(chosen), "kept": rows, "resumed_parts": resumed, **counts}
            run.log_metrics(summary)
            run.log_output(out, name="sft-data")
    finally:
        if owned:
            sandbox.close()
    return summary


def bundled_source(source: Path) -> Path:
    """``bundled:NAME`` -> that file of codekiln-benchmark-data (``bundled:mbpp``); else as is."""
    text = str(source)
    if not text.startswith("bundled:"):
        return source
    import codekiln_benchmark_data

    try:
        return codekiln_benchmark_data.path(text.removeprefix("bundled:"))
    except codekiln_benchmark_data.UnknownBenchmarkFile as err:
        raise ConfigError(f"source {text!r}: {err}") from None


def import_run(source: Path, out: Path, fmt: str, *, mbpp_splits: list[str] | None = None,
               lineage: bool = True) -> dict[str, int]:
    """Convert an existing SFT set to ``messages`` rows (validated) in ``out``."""
    from codekiln_core.lineage import InputRef, lineage_run
    from codekiln_posttrain.chat.datasets import _check_row, write_rows
    from codekiln_posttrain.data.importing import convert, mbpp_split_rows
    from codekiln_posttrain.data.instruct import read_seed_rows

    source = bundled_source(source)
    raw = read_seed_rows(source)
    if fmt == "mbpp":
        raw = mbpp_split_rows(raw, mbpp_splits or ["train"])
    elif mbpp_splits:
        raise ConfigError("--mbpp-split applies to --format mbpp only")
    rows = [_check_row(r, "sft", f"{source} row {i}") for i, r in
            enumerate(convert(raw, fmt, str(source)))]  # type: ignore[arg-type]
    inputs = [InputRef.from_path(source, name="sft-source")] if lineage else []
    with lineage_run("posttrain.data.import", config={"format": fmt, "source": str(source)},
                     inputs=inputs, enabled=lineage) as run:
        write_rows(out, rows)
        run.log_metrics({"rows": len(rows)})
        run.log_output(out, name="sft-data")
    return {"read": len(raw), "rows": len(rows)}


def from_code_run(curated: Path, out: Path, config: FromCodeConfig, *,
                  lineage: bool = True) -> dict[str, int]:
    """SFT rows made from the documented functions of a curated dataset, no teacher."""
    from codekiln_core.lineage import InputRef, lineage_run
    from codekiln_posttrain.chat.datasets import _check_row, write_rows
    from codekiln_posttrain.data.from_code import from_code_rows
    from codekiln_posttrain.data.instruct import read_seed_rows

    source = read_seed_rows(curated)
    rows = [_check_row(r, "sft", f"{curated} function {i}")
            for i, r in enumerate(from_code_rows(source, config))]
    if not rows:
        raise ConfigError(f"{curated}: no documented Python function fits the limits "
                          "(min_doc_chars, min_body_lines, max_lines); loosen them with --set")
    inputs = [InputRef.from_path(curated, name="curated")] if lineage else []
    with lineage_run("posttrain.data.from-code", config=config.model_dump(mode="json"),
                     inputs=inputs, enabled=lineage) as run:
        write_rows(out, rows)
        run.log_metrics({"files": len(source), "rows": len(rows)})
        run.log_output(out, name="sft-data")
    return {"files": len(source), "rows": len(rows)}


def pairs_run(prompts: Path, out: Path, config: PairsConfig, sampler: Any, *,
              lineage: bool = True, sandbox: Any = None, model_ref: str | None = None
              ) -> dict[str, int]:
    """On-policy preference pairs for the RL rows in ``prompts``."""
    from codekiln_core.lineage import InputRef, lineage_run
    from codekiln_posttrain.chat.datasets import read_rows, write_rows
    from codekiln_posttrain.data.pairs import PairCounts, build_pairs
    from codekiln_posttrain.rewards.code_tests import CodeTestsReward

    rows = read_rows(prompts, "rl")
    judge = CodeTestsReward("binary", sandbox=sandbox, timeout_s=config.timeout_s)
    inputs = []
    if lineage:
        inputs.append(InputRef.from_path(prompts, name="prompts"))
        if model_ref and Path(model_ref).is_dir():
            inputs.append(InputRef.from_path(model_ref, name="policy-model"))
    total = PairCounts()
    pairs: list[dict[str, Any]] = []
    try:
        with lineage_run("posttrain.data.pairs", config=config.model_dump(mode="json"),
                         inputs=inputs, enabled=lineage) as run:
            for start in range(0, len(rows), config.prompts_per_batch):
                found, counts = build_pairs(rows[start:start + config.prompts_per_batch],
                                            sampler, judge, config)
                pairs.extend(found)
                for key, value in counts.as_dict().items():
                    setattr(total, key, getattr(total, key) + value)
            if not pairs:
                raise ConfigError(f"{prompts}: no prompt had both a passing and a failing "
                                  "answer; sample more (--samples) or use other prompts")
            write_rows(out, pairs)
            run.log_metrics(total.as_dict())
            run.log_output(out, name="dpo-pairs")
    finally:
        judge.close()
    return total.as_dict()
