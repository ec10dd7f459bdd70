"""From per-sample results to per-task rows, the summary, and EvalPlus-shaped results."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from pathlib import Path
from typing import Any

from codekiln_eval.benchmarks.base import Benchmark, Task
from codekiln_eval.calibrate import timeout_for
from codekiln_eval.passk import pass_at_k, summarize
from codekiln_eval.results import SCHEMA_VERSION, KeyedLog, write_json_atomic, write_jsonl_atomic

#: Benchmarks whose results are also exported in EvalPlus's eval_results.json shape.
EVALPLUS_DATASETS = {"humaneval-plus": "humaneval", "mbpp-plus": "mbpp"}


def task_rows(tasks: list[Task], n: int, ks: list[int], results: KeyedLog,
              calibration: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for task in tasks:
        done = [results.records[(task.task_id, i)] for i in range(n)
                if (task.task_id, i) in results]
        c = sum(1 for r in done if r["passed"])
        checks = sorted({name for r in done for name in r["checks"]})
        exact = [bool(r["exact_match"]) for r in done if "exact_match" in r]
        rows.append({
            "task_id": task.task_id, "n": len(done), "correct": c,
            "exact_match": sum(exact) / len(exact) if exact else None,
            "pass_at_k": {f"pass@{k}": pass_at_k(len(done), c, k) if len(done) >= k else None
                          for k in ks},
            "check_passes": {name: sum(1 for r in done if r["checks"].get(name, {}).get("passed"))
                             for name in checks},
            "timeouts_s": {name: timeout_for(calibration, task.task_id, name)
                           for name in checks},
        })
    return rows


def score_run(bench: Benchmark, tasks: list[Task], n: int, ks: list[int], results: KeyedLog,
              calibration: dict[str, Any], out: Path) -> dict[str, Any]:
    rows = task_rows(tasks, n, ks, results, calibration)
    write_jsonl_atomic(out / "tasks.jsonl", rows)
    complete = [r for r in rows if r["n"] == n]
    verdicts: Counter[str] = Counter()
    for task in tasks:
        for i in range(n):
            rec = results.records.get((task.task_id, i))
            for check in (rec or {}).get("checks", {}).values():
                verdicts[check["verdict"]] += 1
    summary: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "benchmark": bench.name,
        "license": bench.license,
        "training_allowed": bench.training_allowed,
        "n": n, "ks": ks,
        "num_tasks": len(tasks),
        "num_tasks_complete": len(complete),
        "pass_at_k": summarize([(r["n"], r["correct"]) for r in complete], ks),
        "check_verdicts": dict(sorted(verdicts.items())),
        "calibration": {k: v for k, v in calibration.items() if k not in ("timeouts", "tasks")},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    exact = [r["exact_match"] for r in complete if r["exact_match"] is not None]
    if exact:  # infilling: the share of samples that wrote the reference middle
        summary["exact_match"] = sum(exact) / len(exact)
    if "plus" in {name for r in rows for name in r["check_passes"]}:
        summary["base_pass_at_k"] = summarize(
            [(r["n"], r["check_passes"].get("base", 0)) for r in complete], ks)
    if bench.name in EVALPLUS_DATASETS:
        write_json_atomic(out / "eval_results.json", evalplus_results(bench, tasks, n, results))
    return summary


def _status(check: dict[str, Any] | None) -> str | None:
    if check is None:
        return None
    return "pass" if check["passed"] else ("timeout" if check["verdict"] == "timeout" else "fail")


def evalplus_results(bench: Benchmark, tasks: list[Task], n: int,
                     results: KeyedLog) -> dict[str, Any]:
    """The ``eval_results.json`` EvalPlus writes: {date, hash, eval: {task_id: [...]}}.

    ``plus_status`` follows EvalPlus: a sample is plus-correct when base and plus both pass.
    Failing inputs are not itemized (our plus check runs all inputs in one program), so
    ``*_fail_tests`` stay empty lists.
    """
    ids = ",".join(t.task_id for t in tasks)
    out: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "hash": hashlib.md5(f"{bench.name}:{ids}".encode(), usedforsecurity=False).hexdigest(),
        "eval": {},
    }
    for task in tasks:
        entries = []
        for i in range(n):
            rec = results.records.get((task.task_id, i))
            if rec is None:
                continue
            plus = _status(rec["checks"].get("plus"))
            base = _status(rec["checks"].get("base")) or plus
            entries.append({
                "task_id": task.task_id, "solution": rec.get("solution", ""),
                "base_status": base, "plus_status": plus,
                "base_fail_tests": [], "plus_fail_tests": [],
            })
        out["eval"][task.task_id] = entries
    return out
