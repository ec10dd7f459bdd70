"""``format``: does the answer have the shape the task asks for (seed-coder.md §8 format reward)?

1.0 when the answer holds a closed fenced code block and, with ``require_think``, one
balanced ``<think>...</think>`` block before it; else 0.0. It runs no code, so it never
returns None.
"""

from __future__ import annotations

from collections.abc import Sequence

from codekiln_posttrain.rewards.base import Sample
from codekiln_posttrain.rewards.extract import answer_part, code_blocks


class FormatReward:
    def __init__(self, require_think: bool = False) -> None:
        self.require_think = require_think

    def well_formed(self, completion: str) -> bool:
        if self.require_think:
            opens, closes = completion.count("<think>"), completion.count("</think>")
            if opens != 1 or closes != 1 or completion.find("<think>") > completion.find(
                    "</think>"):
                return False
        return bool(code_blocks(answer_part(completion)))

    def score(self, samples: Sequence[Sample]) -> list[float | None]:
        return [1.0 if self.well_formed(s.completion) else 0.0 for s in samples]
