"""Reward throughput: completions scored per second by codekiln's ``code-tests`` reward vs
verl's built-in ``prime_code`` scorer, on the same MBPP completions.

Completions: each MBPP task's reference solution (a pass) and a corrupted copy whose body
returns None (a fail), as a fenced answer. Tests: MBPP's asserts for ``code-tests``; the
same asserts in prime_code's call-based form (``fn_name`` / ``inputs`` / ``outputs``, parsed
from ``assert f(args) == expected``) for verl, so both judge the same checks. Tasks whose
asserts do not parse into that form are left out for both. A third side runs the same
completions as plain programs (setup, code, asserts concatenated) through the same sandbox,
which is what the reward did before it judged through core's judge: that ratio is the
judge's overhead. Runs alternate (ours, plain, verl, ...) and the ratios are of medians.

    uv run python benchmarks/posttrain_reward_throughput.py --tasks 200 --runs 3
    uv run python benchmarks/posttrain_reward_throughput.py --toy   # 4 tasks, seconds
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _common import parse_args, print_ratio

import codekiln_benchmark_data

MBPP = codekiln_benchmark_data.root() / "mbpp"  # the bundled copy, as eval uses


def call_form(tests: list[str]) -> dict[str, Any] | None:
    """prime_code's call-based test cases from ``assert f(args) == expected`` lines."""
    name, inputs, outputs = None, [], []
    for test in tests:
        try:
            node = ast.parse(test).body[0]
        except SyntaxError:
            return None
        if not (isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare)
                and isinstance(node.test.ops[0], ast.Eq)
                and isinstance(node.test.left, ast.Call)
                and isinstance(node.test.left.func, ast.Name)):
            return None
        call = node.test.left
        try:
            args = [ast.literal_eval(a) for a in call.args]
            expected = ast.literal_eval(node.test.comparators[0])
        except ValueError:
            return None
        if call.keywords or (name and call.func.id != name):
            return None
        name = call.func.id
        try:  # prime_code reads each test's arguments as JSON lines, the output as JSON
            inputs.append("\n".join(json.dumps(a) for a in args))
            outputs.append(json.dumps(expected))
        except TypeError:
            return None
    return {"fn_name": name, "inputs": inputs, "outputs": outputs} if name else None


def workload(tasks: int) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (MBPP / "mbpp.jsonl").open()]
    items = []
    for row in rows:
        cases = call_form(row["test_list"])
        if cases is None:
            continue
        broken = row["code"] + f"\n\ndef {cases['fn_name']}(*args, **kwargs):\n    return None\n"
        for code in (row["code"], broken):
            items.append({"completion": f"```python\n{code}\n```", "tests": row["test_list"],
                          "cases": cases, "setup": row.get("test_setup_code") or ""})
        if len(items) >= 2 * tasks:
            break
    return items


def run_ours(items: list[dict[str, Any]], workers: int) -> tuple[float, list[float]]:
    from codekiln_core.sandbox import LocalSandbox, SandboxLimits
    from codekiln_posttrain.rewards import Sample
    from codekiln_posttrain.rewards.code_tests import CodeTestsReward

    with LocalSandbox(workers=workers, limits=SandboxLimits(timeout_s=5)) as sandbox:
        reward = CodeTestsReward("binary", sandbox=sandbox, timeout_s=5)
        reward.score([Sample("", items[0]["completion"], items[0])])  # warm the workers
        start = time.perf_counter()
        scores = reward.score([Sample("", i["completion"], i) for i in items])
        elapsed = time.perf_counter() - start
    return len(items) / elapsed, [0.0 if s is None else s for s in scores]


def run_plain(items: list[dict[str, Any]], workers: int) -> tuple[float, list[float]]:
    """The completions as plain programs in the same sandbox (the reward before the judge)."""
    from codekiln_core.sandbox import LocalSandbox, RunRequest, SandboxLimits
    from codekiln_posttrain.rewards.extract import extract_code

    programs = ["\n\n".join([i["setup"], extract_code(i["completion"]),
                              "\n".join(i["tests"])]) + "\n" for i in items]
    with LocalSandbox(workers=workers, limits=SandboxLimits(timeout_s=5)) as sandbox:
        sandbox.run(RunRequest("python", programs[0]))  # warm the workers
        start = time.perf_counter()
        results = sandbox.run_many([RunRequest("python", p, timeout_s=5) for p in programs])
        elapsed = time.perf_counter() - start
    return len(items) / elapsed, [float(r.passed) for r in results]


def run_verl(items: list[dict[str, Any]], workers: int) -> tuple[float, list[float]]:
    from verl.utils.reward_score import prime_code

    def one(item: dict[str, Any]) -> float:
        # continuous=True, as verl's default_compute_score calls it (with False, a failing
        # sample raises UnboundLocalError inside prime_code in verl 0.9.1).
        score, _ = prime_code.compute_score(item["completion"], json.dumps(item["cases"]),
                                            continuous=True)
        return float(float(score) == 1.0)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:  # as verl's reward workers run it
        scores = list(pool.map(one, items))
    return len(items) / (time.perf_counter() - start), scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parse_args(parser, {"tasks": 4, "runs": 1})
    items = workload(args.tasks)
    ours_rates, verl_rates, plain_rates = [], [], []
    for run in range(args.runs):
        rate, ours = run_ours(items, args.workers)
        ours_rates.append(rate)
        rate, plain = run_plain(items, args.workers)
        plain_rates.append(rate)
        rate, theirs = run_verl(items, args.workers)
        verl_rates.append(rate)
        agree = sum(a == b for a, b in zip(ours, theirs, strict=True)) / len(items)
        print(f"run {run}: code-tests {ours_rates[-1]:.1f}/s  plain programs "
              f"{plain_rates[-1]:.1f}/s  prime_code {verl_rates[-1]:.1f}/s  pass "
              f"{sum(ours):.0f} vs {sum(plain):.0f} vs {sum(theirs):.0f} of {len(items)}, "
              f"agree with prime_code {agree:.1%}")
    ours_med, verl_med = statistics.median(ours_rates), statistics.median(verl_rates)
    plain_med = statistics.median(plain_rates)
    print(f"completions: {len(items)} ({len(items) // 2} MBPP tasks x pass/fail)")
    print(f"median code-tests {ours_med:.1f}/s, plain programs {plain_med:.1f}/s, "
          f"prime_code {verl_med:.1f}/s")
    print_ratio("completions/s, code-tests / prime_code", ours_med / verl_med)
    print_ratio("completions/s, code-tests (judge) / plain programs", ours_med / plain_med)


if __name__ == "__main__":
    main()
