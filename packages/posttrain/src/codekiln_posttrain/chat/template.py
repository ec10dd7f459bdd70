"""Conversations to token ids with a mask of the tokens the model learns from.

The text comes from the tokenizer's own ``chat_template`` (the Seed-Coder one, written into
the tokenizer directory by ``codekiln_core.chat.write_chat_template``), so training formats
exactly as transformers, vLLM and our server do at inference. Which tokens are the
assistant's is found by character offsets: the template is rendered up to each assistant
turn with and without the turn, and every token whose span starts inside that turn's text
(its content and end-of-sentence token) is a loss token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codekiln_core.errors import ConfigError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


@dataclass(frozen=True)
class Encoded:
    """One conversation: token ids and, per token, whether it is trained on."""

    input_ids: list[int]
    loss_mask: list[bool]

    def __len__(self) -> int:
        return len(self.input_ids)


def render(tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, str]], *,
           add_generation_prompt: bool = False) -> str:
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError(
            f"tokenizer {getattr(tokenizer, 'name_or_path', '')!r} has no chat_template; "
            "run `codekiln curate tokenizer adopt DIR -o OUT --chat-template seed-coder`")
    text = tokenizer.apply_chat_template(messages, tokenize=False,
                                         add_generation_prompt=add_generation_prompt)
    return str(text)


def assistant_spans(tokenizer: PreTrainedTokenizerBase,
                    messages: list[dict[str, str]]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character span of each assistant turn."""
    spans = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        start = len(render(tokenizer, messages[:index], add_generation_prompt=True))
        end = len(render(tokenizer, messages[: index + 1]))
        spans.append((start, end))
    return render(tokenizer, messages), spans


def encode_conversation(tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, str]],
                        *, max_length: int | None = None) -> Encoded:
    """Token ids of the rendered conversation; loss only on assistant turns."""
    text, spans = assistant_spans(tokenizer, messages)
    encoded: Any = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(encoded["input_ids"])
    mask = [any(lo <= start < hi for lo, hi in spans) for start, _ in encoded["offset_mapping"]]
    if max_length is not None:
        ids, mask = ids[:max_length], mask[:max_length]
    return Encoded(ids, mask)


def encode_prompt(tokenizer: PreTrainedTokenizerBase, prompt: list[dict[str, str]]) -> list[int]:
    """Token ids of a prompt ending in the assistant generation header."""
    text = render(tokenizer, prompt, add_generation_prompt=True)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def encode_completion(tokenizer: PreTrainedTokenizerBase, completion: str) -> list[int]:
    """Token ids of an assistant answer as the template closes it (stripped, then EOS)."""
    ids = list(tokenizer(completion.strip(), add_special_tokens=False)["input_ids"])
    eos = tokenizer.eos_token_id
    return ids + ([int(eos)] if eos is not None else [])
