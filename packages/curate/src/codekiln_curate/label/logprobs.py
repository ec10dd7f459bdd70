"""Rating by next-token distribution: the teacher's probability of each digit after the rubric.

Small models rarely follow ``Rating: [[X]]``, but their distribution over the next token does
rate (SmolLM2-135M separates stdlib modules from junk this way; see docs/labeling.md). The
score is the expected digit.

The scale is 0-9, rescaled to 0-10: ``score = 10/9 * sum(d * p(d))``. Most tokenizers of
small code models (SmolLM2, Qwen, DeepSeek) split numbers into single digits, so ``10`` is
two tokens and one next-token distribution cannot weigh it against ``9``. Asking for one
digit keeps a single forward pass per file, works the same for local models and for
endpoints returning ``top_logprobs``, and loses nothing: the expected value is continuous.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from codekiln_curate.label.prompt import RATING_PROMPT, display_language

PROMPT_VERSION = "seed-rubric-v1-digits"
DIGITS = tuple(str(d) for d in range(10))
#: Appended after the chat template's assistant header (local models), so the very next
#: token is the rating.
ANSWER_PREFIX = "Rating: "

_GENERATE_INSTRUCTION = """Write a short explanation of your judgement first. Then, on the \
last line, give an overall score from 1 to 10 (or 0 under the zero-score policy) in exactly \
this form:
Rating: [[X]]"""
_DIGIT_INSTRUCTION = """Give an overall score as one digit from 1 (poor) to 9 (excellent), \
or 0 under the zero-score policy. Reply with the digit only, in this form:
Rating: X"""
DIGIT_PROMPT = RATING_PROMPT.replace(_GENERATE_INSTRUCTION, _DIGIT_INSTRUCTION)
assert DIGIT_PROMPT != RATING_PROMPT, "the rubric's answer instruction moved; update it here"


def build_digit_prompt(language: str, content: str) -> str:
    return (DIGIT_PROMPT.replace("{LANGUAGE}", display_language(language))
            .replace("{CONTENT}", content))


def expected_rating(masses: Sequence[float]) -> float | None:
    """0-10 score from the probability mass of digits 0-9; None when no digit has any."""
    total = float(sum(masses))
    if len(masses) != 10 or total <= 0 or not math.isfinite(total):
        return None
    mean_digit = sum(d * m for d, m in enumerate(masses)) / total
    return 10.0 * mean_digit / 9.0


def encode_masses(masses: Sequence[float]) -> str:
    """The cached 'answer' of a logprobs request: the ten digit masses, in text."""
    return "digits:" + ",".join(f"{m:.6g}" for m in masses)


def parse_masses(answer: str) -> list[float] | None:
    if not answer.startswith("digits:"):
        return None
    try:
        masses = [float(x) for x in answer.removeprefix("digits:").split(",")]
    except ValueError:
        return None
    return masses if len(masses) == 10 else None


def parse_digit_answer(answer: str) -> tuple[float | None, str]:
    """(score 0-10 or None, explanation naming the distribution) of a cached answer."""
    masses = parse_masses(answer)
    score = expected_rating(masses) if masses is not None else None
    if masses is None or score is None:
        return None, answer
    total = sum(masses)
    shares = " ".join(f"{d}:{m / total:.2f}" for d, m in enumerate(masses))
    return round(score, 4), f"expected digit from logprobs (digit mass {total:.3f}; {shares})"


def masses_from_top_logprobs(entries: Iterable[Mapping[str, Any]]) -> list[float]:
    """Sum ``exp(logprob)`` per digit over an OpenAI ``top_logprobs`` list (' 7' counts as 7)."""
    masses = [0.0] * 10
    for entry in entries:
        token = str(entry.get("token", "")).strip()
        if token in DIGITS:
            masses[int(token)] += math.exp(float(entry.get("logprob", -math.inf)))
    return masses


def digit_token_ids(tokenizer: Any) -> list[list[int]]:
    """Per digit, the single-token spellings the tokenizer has for it (``7`` and `` 7``)."""
    ids: list[list[int]] = []
    for digit in DIGITS:
        found: list[int] = []
        for text in (digit, " " + digit):
            encoded = tokenizer.encode(text, add_special_tokens=False)
            if len(encoded) == 1 and encoded[0] not in found:
                found.append(int(encoded[0]))
        if not found:
            raise ValueError(f"the tokenizer has no single token for {digit!r}; logprobs "
                             "mode needs digits 0-9 as tokens (use mode generate)")
        ids.append(found)
    return ids
