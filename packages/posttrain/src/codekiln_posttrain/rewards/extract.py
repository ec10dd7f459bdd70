"""Pull the program out of a model's answer: the last fenced code block, else the text."""

from __future__ import annotations

import re

_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[ \t]*\n(.*?)```", re.DOTALL)
_THINK_END = "</think>"


def answer_part(completion: str) -> str:
    """The text after a reasoning block (``<think>...</think>``), else all of it."""
    end = completion.rfind(_THINK_END)
    return completion[end + len(_THINK_END):] if end >= 0 else completion


def code_blocks(text: str) -> list[tuple[str, str]]:
    """``(language, code)`` of every closed fenced block, in order."""
    return [(m.group(1).lower(), m.group(2)) for m in _FENCE.finditer(text)]


def extract_code(completion: str) -> str:
    """The program to run: the last fenced block of the answer, or the answer itself."""
    answer = answer_part(completion)
    blocks = code_blocks(answer)
    return blocks[-1][1] if blocks else answer
