"""Benchmark scripts read the bundled benchmark copies, so they run on any clone, offline.

A script that reads ``../shared`` only works inside the original development checkout.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

import codekiln_benchmark_data

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_no_benchmark_script_reads_the_shared_checkout() -> None:
    for script in sorted(BENCHMARKS.glob("*.py")):
        text = script.read_text(encoding="utf-8")
        assert '"shared"' not in text and "../shared" not in text, script.name


def test_sandbox_throughput_loads_the_bundled_problems() -> None:
    module = runpy.run_path(str(BENCHMARKS / "sandbox_throughput.py"), run_name="bench")
    assert Path(module["DATA"]) == codekiln_benchmark_data.root()
    humaneval, mbpp = module["humaneval_problems"](), module["mbpp_problems"]()
    assert len(humaneval) == 164 and len(mbpp) == 974
    assert module["humaneval_program"](humaneval[0]).endswith(
        f"check({humaneval[0]['entry_point']})\n")


@pytest.mark.slow
def test_fim_latency_toy_mode() -> None:
    """The toy size of benchmarks/fim_latency.py: both sides served every wave, one row
    per concurrency, ratios printed."""
    module = runpy.run_path(str(BENCHMARKS / "fim_latency.py"), run_name="bench")
    lines = module["main"](["--toy"])
    rows = [line for line in lines if line.startswith("| 1 |") or line.startswith("| 2 |")]
    assert len(rows) == 2 and all("x** |" in row for row in rows)
    assert module["fim_prompts"](2)[0][1].startswith("\n")  # single-line: suffix at the newline
