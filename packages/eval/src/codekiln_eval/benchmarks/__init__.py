"""Registered benchmarks (one module per family) and the shared contract."""

from __future__ import annotations

from codekiln_eval.benchmarks.base import Benchmark, Task
from codekiln_eval.benchmarks.cruxeval import CRUXEvalInput, CRUXEvalOutput
from codekiln_eval.benchmarks.humaneval import HumanEval, HumanEvalPlus
from codekiln_eval.benchmarks.infilling import infilling_benchmarks
from codekiln_eval.benchmarks.livecodebench import LiveCodeBench
from codekiln_eval.benchmarks.mbpp import MBPP, MBPPPlus, MBPPSanitized
from codekiln_eval.benchmarks.multilingual import language_variants

DESCRIPTIONS: dict[str, str] = {
    "humaneval": "164 Python function problems (OpenAI, MIT)",
    "humaneval-plus": "HumanEval with EvalPlus v0.1.10 extra tests (Apache-2.0)",
    "mbpp": "MBPP full, test split ids 11-510 (Google, CC-BY-4.0)",
    "mbpp-sanitized": "MBPP hand-verified subset (Google, CC-BY-4.0)",
    "mbpp-plus": "MBPP+ v0.2.0, 378 problems with EvalPlus extra tests (Apache-2.0)",
    "cruxeval-o": "CRUXEval output prediction, 800 functions (Meta, MIT)",
    "cruxeval-i": "CRUXEval input prediction, 800 functions (Meta, MIT)",
    "livecodebench": "LiveCodeBench code generation, contest-date window (public tests offline)",
    "humaneval-infill-single-line": "HumanEval single-line infilling, 1033 FIM tasks "
                                    "(Bavarian et al. 2022; MIT)",
    "humaneval-infill-multi-line": "HumanEval multi-line infilling, 5815 FIM tasks (MIT)",
    "humaneval-infill-random-span": "HumanEval random-span infilling, 1640 FIM tasks; "
                                    "-O spans=1: 164 (MIT)",
    "humaneval-x-infill-java": "HumanEval-X Java single-line infilling, FIM (Apache-2.0)",
    "humaneval-x-infill-javascript": "HumanEval-X JavaScript single-line infilling, FIM "
                                     "(Apache-2.0)",
    "humaneval-x-infill-cpp": "HumanEval-X C++ single-line infilling, FIM (Apache-2.0)",
}


def all_benchmarks() -> list[type[Benchmark]]:
    made: list[type[Benchmark]] = [HumanEval, HumanEvalPlus, MBPP, MBPPSanitized, MBPPPlus,
                                   CRUXEvalOutput, CRUXEvalInput, LiveCodeBench,
                                   *language_variants()]
    return [*made, *infilling_benchmarks({cls.name: cls for cls in made})]


def describe(cls: type[Benchmark]) -> str:
    if cls.name in DESCRIPTIONS:
        return DESCRIPTIONS[cls.name]
    family = "MultiPL-E" if cls.name.startswith("multipl-e") else "HumanEval-X"
    note = "; NO TRAINING (license clause)" if not cls.training_allowed else ""
    return f"{family} HumanEval in {cls.language} ({cls.license.split(' ')[0]}{note})"


__all__ = ["Benchmark", "Task", "all_benchmarks", "describe"]
