"""Benchmark scripts read the bundled benchmark copies, so they run on any clone, offline.

A script that reads ``../shared`` only works inside the original development checkout.
"""

from __future__ import annotations

import runpy
from pathlib import Path

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
