"""Import existing SFT sets into ``messages`` rows.

Formats: ``messages`` (already ours), ``alpaca`` (instruction/input/output), ``sharegpt``
(conversations of from/value), ``prompt-response``, and ``mbpp`` (text/code/test_list,
train and prompt splits only: the test split and HumanEval are never training data).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from codekiln_benchmark_data import MBPP_SPLITS
from codekiln_core.config import RecipeModel
from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from codekiln_core.lineage import InputRef, LineageRun

Format = Literal["messages", "alpaca", "sharegpt", "prompt-response", "mbpp"]


class ImportConfig(RecipeModel):
    """The recipe of ``codekiln posttrain data import``."""

    source: str = Field(description="existing SFT set (.jsonl/.json/.parquet file or "
                        "directory), or bundled:mbpp for the bundled MBPP file")
    output: Path = Field(description="the SFT rows: a .jsonl or .parquet file")
    format: Format = Field("messages", description="the source's row format")
    mbpp_split: list[str] | None = Field(
        None, description="format mbpp: the MBPP splits to import: train, prompt, "
        "validation (never test: it is the benchmark; default: train)")

    @field_validator("mbpp_split", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("mbpp_split")
    @classmethod
    def _trainable(cls, value: list[str] | None) -> list[str] | None:
        try:
            return check_mbpp_splits(value) if value is not None else None
        except ConfigError as err:
            raise ValueError(str(err)) from None

    @model_validator(mode="after")
    def _splits_need_mbpp(self) -> ImportConfig:
        if self.mbpp_split and self.format != "mbpp":
            raise ConfigError(f"mbpp_split {self.mbpp_split}: applies to format mbpp only "
                              f"(format is {self.format})")
        return self


_SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant",
                   "assistant": "assistant", "system": "system"}


def _alpaca(row: dict[str, Any]) -> dict[str, Any]:
    prompt = row["instruction"] + (f"\n\n{row['input']}" if row.get("input") else "")
    return {"messages": [{"role": "user", "content": prompt},
                         {"role": "assistant", "content": row["output"]}]}


def _sharegpt(row: dict[str, Any]) -> dict[str, Any]:
    turns = []
    for turn in row["conversations"]:
        role = _SHAREGPT_ROLES.get(turn.get("from", ""))
        if role is None:
            raise ConfigError(f"sharegpt turn has from={turn.get('from')!r}; expected one of "
                              f"{', '.join(_SHAREGPT_ROLES)}")
        turns.append({"role": role, "content": turn["value"]})
    return {"messages": turns}


def _prompt_response(row: dict[str, Any]) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": row["prompt"]},
                         {"role": "assistant", "content": row["response"]}]}


def _mbpp(row: dict[str, Any]) -> dict[str, Any]:
    tests = list(row["test_list"])
    prompt = f"{row['text']}\nYour code should pass these tests:\n" + "\n".join(tests)
    return {"messages": [{"role": "user", "content": prompt},
                         {"role": "assistant",
                          "content": f"```python\n{row['code'].strip()}\n```"}],
            "tests": tests, "language": "python", "id": f"mbpp-{row['task_id']}"}


_CONVERT: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "messages": lambda row: row, "alpaca": _alpaca, "sharegpt": _sharegpt,
    "prompt-response": _prompt_response, "mbpp": _mbpp}


def check_mbpp_splits(splits: list[str]) -> list[str]:
    """``splits`` when each may be trained on; else a one-line error (test is the benchmark)."""
    bad = [s for s in splits if s not in ("train", "prompt", "validation")]
    if bad:
        raise ConfigError(f"MBPP split {bad[0]!r} may not be trained on; use train, prompt "
                          "or validation (the test split is the benchmark)")
    return splits


def mbpp_split_rows(rows: list[dict[str, Any]], splits: list[str]) -> list[dict[str, Any]]:
    """MBPP records of the allowed ``splits`` (by task id)."""
    allowed = {i for s in check_mbpp_splits(splits) for i in MBPP_SPLITS[s]}
    return [r for r in rows if int(r["task_id"]) in allowed]


def convert(rows: list[dict[str, Any]], fmt: Format, where: str) -> list[dict[str, Any]]:
    out = []
    for number, row in enumerate(rows):
        try:
            converted = _CONVERT[fmt](row)
        except KeyError as exc:
            raise ConfigError(f"{where} row {number}: format {fmt} needs column {exc}; "
                              f"columns are {sorted(row)}") from exc
        extra = {k: v for k, v in row.items() if k in ("id", "tests", "language")}
        out.append({**extra, **converted, "source": row.get("source", fmt)})
    return out


def bundled_source(source: str | Path) -> Path:
    """``bundled:NAME`` -> that file of codekiln-benchmark-data (``bundled:mbpp``); else as is."""
    text = str(source)
    if not text.startswith("bundled:"):
        return Path(source)
    import codekiln_benchmark_data

    try:
        return codekiln_benchmark_data.path(text.removeprefix("bundled:"))
    except codekiln_benchmark_data.UnknownBenchmarkFile as err:
        raise ConfigError(f"source {text!r}: {err}") from None


def import_inputs(config: ImportConfig) -> list[InputRef]:
    """The source, resolved (a bundled file is a real path too), as the run's input."""
    from codekiln_core.lineage import InputRef

    source = bundled_source(config.source)
    if not source.exists():
        raise ConfigError(f"source {config.source}: no such file or directory")
    return [InputRef.from_path(source, name="sft-source")]


def import_sft_set(config: ImportConfig, run: LineageRun) -> dict[str, int]:
    """Convert the source to validated ``messages`` rows in ``config.output``."""
    from codekiln_posttrain.chat.datasets import check_row, read_source_rows, write_rows

    source = bundled_source(config.source)
    raw = read_source_rows(source)
    if config.format == "mbpp":
        raw = mbpp_split_rows(raw, list(config.mbpp_split or ["train"]))
    rows = [check_row(r, "sft", f"{source} row {i}")
            for i, r in enumerate(convert(raw, config.format, str(source)))]
    write_rows(config.output, rows)
    run.log_metrics({"rows": len(rows)})
    run.log_output(config.output, name="sft-data")
    return {"read": len(raw), "rows": len(rows)}
