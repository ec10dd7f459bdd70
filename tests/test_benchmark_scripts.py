"""Every script in benchmarks/ runs: its ``--toy`` mode, both sides, as a real subprocess.

A benchmark that imports a moved module or calls a changed API fails here, not at the next
measurement. (That no script reads a checkout outside the repository is tests/test_docs.py's
check.)
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
RATIO = re.compile(r"^ratio (?P<what>.+): (?P<value>\S+)x$", re.MULTILINE)

#: script -> ratio lines its toy run prints.
TOY_RATIOS = {
    "curate_throughput": 1,
    "fim_latency": 2,
    "neardedup_quality": 4,
    "plots_cost": 1,
    "posttrain_reward_throughput": 2,
    "posttrain_step_time": 2,
    "pretrain_gpu_1b": 1,
    "pretrain_throughput": 1,
    "sandbox_throughput": 6,
    "scorer_inference": 1,
    "serve_throughput": 2,
    "tokenize_pack": 1,
}
#: toy runs of ~8 s of CPU or more (bytecode cached); the others take 2-6 s
SLOW = {"curate_throughput", "fim_latency", "posttrain_step_time", "pretrain_gpu_1b",
        "pretrain_throughput", "scorer_inference", "serve_throughput"}


def scripts() -> list[str]:
    return sorted(p.stem for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_"))


def test_every_script_has_a_toy_run() -> None:
    assert scripts() == sorted(TOY_RATIOS)


@pytest.mark.parametrize("script", [
    pytest.param(name, marks=[pytest.mark.slow] if name in SLOW else [])
    for name in sorted(TOY_RATIOS)])
def test_toy_run_prints_its_ratios(script: str, tmp_path: Path) -> None:
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
           "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.setdefault("OMP_NUM_THREADS", "1")
    done = subprocess.run([sys.executable, str(BENCHMARKS / f"{script}.py"), "--toy"],
                          cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)  # a hang fails the test instead of the whole run
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    ratios = {m["what"]: float(m["value"]) for m in RATIO.finditer(done.stdout)}
    assert len(ratios) == TOY_RATIOS[script], done.stdout[-4000:]
    assert all(math.isfinite(v) and v > 0 for v in ratios.values()), ratios
    assert list(tmp_path.iterdir()) == [], "a toy run left files in its working directory"
