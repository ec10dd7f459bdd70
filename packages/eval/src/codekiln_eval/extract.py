"""Getting runnable code out of model answers.

Chat models wrap code in Markdown fences, often several (an example call, the solution, a
test); the block that defines the entry point in the requested language is the answer.
Base models ramble past the function; stop sequences cut them off.
"""

from __future__ import annotations

import re

from codekiln_core.languages import fence_tags

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:^[ \t]*\1[ \t]*$|\Z)",
                    re.MULTILINE | re.DOTALL)

def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language tag, code) for each fenced block; an unclosed last fence runs to the end."""
    return [(m.group(2).lower(), m.group(3)) for m in _FENCE.finditer(text)]


def defines(code: str, language: str, entry_point: str) -> bool:
    """Whether ``code`` defines ``entry_point`` (a cheap textual test per language)."""
    name = re.escape(entry_point)
    if language == "python":
        return re.search(rf"^\s*(async\s+)?(def|class)\s+{name}\b", code, re.MULTILINE) is not None
    if language == "bash":
        return re.search(rf"^\s*(function\s+)?{name}\s*\(\s*\)", code, re.MULTILINE) is not None
    return re.search(rf"\b{name}\s*\(", code) is not None


def extract_code(answer: str, language: str, entry_point: str | None = None) -> str:
    """The code in a chat answer: prefer blocks tagged with ``language`` that define the entry.

    Order of preference: a same-language block defining the entry point, any block defining
    it, the longest same-language block, the longest block, and finally the whole answer.
    """
    blocks = fenced_blocks(answer)
    if not blocks:
        return answer
    tags = fence_tags(language)
    same = [code for tag, code in blocks if tag in tags or tag == ""]
    if entry_point:
        for pool in (same, [code for _, code in blocks]):
            hits = [code for code in pool if defines(code, language, entry_point)]
            if hits:
                return max(hits, key=len)
    pool = same or [code for _, code in blocks]
    return max(pool, key=len)


def truncate_at_stops(text: str, stops: tuple[str, ...] | list[str]) -> str:
    """``text`` up to the earliest stop sequence (servers do not always honour ``stop``)."""
    cut = len(text)
    for stop in stops:
        if stop:
            pos = text.find(stop)
            if pos != -1:
                cut = min(cut, pos)
    return text[:cut]


def python_imports(prompt: str) -> str:
    """The top-level import lines of a prompt, which chat answers tend to leave out."""
    lines = [ln for ln in prompt.splitlines() if re.match(r"^(import|from)\s+\w", ln)]
    return "\n".join(lines) + "\n" if lines else ""
