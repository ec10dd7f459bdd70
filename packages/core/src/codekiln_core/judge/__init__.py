"""The judge: whether an answer passes its tests, decided the same way everywhere.

``Judge(sandbox).run([Submission(language, answer, tests)])`` -> ``[Judgement]``. Standard
library only at import time (the sandbox's workers import the Python harness from here).
See docs/judge.md for what it defends against and how.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.lazy import lazy_getattr

if TYPE_CHECKING:
    from codekiln_core.judge.judge import Judge, decide
    from codekiln_core.judge.output import outputs_match
    from codekiln_core.judge.programs import Program, assemble
    from codekiln_core.judge.submission import WRONG_ANSWER, Judgement, Submission

_HOMES = {
    "Judge": "judge",
    "Judgement": "submission",
    "Program": "programs",
    "Submission": "submission",
    "WRONG_ANSWER": "submission",
    "assemble": "programs",
    "decide": "judge",
    "outputs_match": "output",
}

__all__ = ["WRONG_ANSWER", "Judge", "Judgement", "Program", "Submission", "assemble", "decide",
           "outputs_match"]

__getattr__ = lazy_getattr(__name__, {name: f"{__name__}.{home}" for name, home in _HOMES.items()},
                           globals())
