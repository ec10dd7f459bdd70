"""Import existing SFT sets into ``messages`` rows.

Formats: ``messages`` (already ours), ``alpaca`` (instruction/input/output), ``sharegpt``
(conversations of from/value), ``prompt-response``, and ``mbpp`` (text/code/test_list,
train and prompt splits only: the test split and HumanEval are never training data).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from codekiln_benchmark_data import MBPP_SPLITS
from codekiln_core.errors import ConfigError

Format = Literal["messages", "alpaca", "sharegpt", "prompt-response", "mbpp"]
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


def mbpp_split_rows(rows: list[dict[str, Any]], splits: list[str]) -> list[dict[str, Any]]:
    """MBPP records of the allowed ``splits`` (by task id)."""
    bad = [s for s in splits if s not in ("train", "prompt", "validation")]
    if bad:
        raise ConfigError(f"MBPP split {bad[0]!r} may not be trained on; use train, prompt "
                          "or validation (the test split is the benchmark)")
    allowed = {i for s in splits for i in MBPP_SPLITS[s]}
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
