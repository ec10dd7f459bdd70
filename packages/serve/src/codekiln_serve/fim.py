"""The FIM prompt of one request: the code around the cursor, its repository context, and
the token budget both must fit.

The layout is the shards' (docs/shards.md): each part tokenized on its own with special-token
text kept plain, joined with the sentinel ids, no BOS. With repository context the prefix part
is what a FIM-split repo-level sample holds before its cut (docs/samples.md): the context
files in the repo-level format, then the current file's header line, then the code before the
cursor, tokenized as one string. Context files come farthest first (the last is nearest the
cursor); whole files are dropped, farthest first, until the prompt fits the budget, so every
kept file keeps its header. Editor protocols (``truncate``) also cut the code far from the
cursor when even that does not fit, as llama.cpp and Ollama do; the OpenAI routes refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codekiln_core.fim import check_fim, encode_plain, fim_layout_ids
from codekiln_core.repo_text import file_block, file_header

#: Header path of the file being edited when the client sends context but no ``path``.
UNNAMED_FILE = "untitled"
#: Room kept for generation when a request sets no token limit (at most a quarter of the
#: context): the prompt budget must leave the model something to write.
GENERATION_RESERVE = 256
#: When the code itself must be cut, the part before the cursor keeps 3/4 of the room.
PREFIX_SHARE = 0.75


@dataclass(frozen=True)
class ContextFile:
    """One file (or excerpt) of repository context."""

    path: str
    text: str


@dataclass(frozen=True)
class FimInput:
    prefix: str
    suffix: str
    files: tuple[ContextFile, ...] = ()  # farthest first
    path: str | None = None  # the file being edited
    truncate: bool = False  # cut the code far from the cursor rather than refuse


@dataclass(frozen=True)
class FimPrompt:
    ids: list[int]
    context_files: int  # context files kept
    dropped_files: int  # context files left out for the budget
    truncated: bool  # code before or after the cursor was cut


def prompt_budget(context_length: int, max_tokens: int | None) -> int:
    """Prompt tokens a request may use: the context less what it may generate."""
    reserve = max_tokens if max_tokens is not None else min(GENERATION_RESERVE,
                                                            context_length // 4)
    return context_length - reserve


def fim_prompt(tokenizer: Any, tokens: Any, layout: str, fim: FimInput, *, budget: int,
               context_tokens: int) -> FimPrompt:
    """The prompt ids within ``budget`` tokens, with at most ``context_tokens`` of context."""
    found = check_fim(tokens, layout)
    prefix_ids = encode_plain(tokenizer, fim.prefix) if fim.prefix else []
    suffix_ids = encode_plain(tokenizer, fim.suffix) if fim.suffix else []
    header = file_header(fim.path or UNNAMED_FILE)
    header_cost = len(encode_plain(tokenizer, header)) if fim.files or fim.path else 0
    truncated = False
    if fim.truncate and len(prefix_ids) + len(suffix_ids) + 3 + header_cost > budget:
        prefix_ids, suffix_ids = _cut_around_cursor(prefix_ids, suffix_ids,
                                                    budget - 3 - header_cost)
        truncated = True
    room = min(context_tokens, budget - len(prefix_ids) - len(suffix_ids) - 3 - header_cost)
    kept = _nearest_that_fit(tokenizer, fim.files, room)
    while True:
        if not kept and fim.path is None:  # no context: a file-level prompt, no header
            ids = fim_layout_ids(found, layout, prefix_ids, suffix_ids)
            return FimPrompt(ids, 0, len(fim.files), truncated)
        context = "".join(file_block(f.path, f.text) for f in kept) + header
        if truncated:  # the cut ids cannot be re-tokenized with the context as one string
            lead = encode_plain(tokenizer, context) + prefix_ids
        else:
            lead = encode_plain(tokenizer, context + fim.prefix)
        ids = fim_layout_ids(found, layout, lead, suffix_ids)
        if not kept or len(ids) <= budget:  # merges across a boundary may cost a token more
            return FimPrompt(ids, len(kept), len(fim.files) - len(kept), truncated)
        kept = kept[1:]


def _nearest_that_fit(tokenizer: Any, files: tuple[ContextFile, ...], room: int,
                      ) -> tuple[ContextFile, ...]:
    """The longest run of files ending at the nearest one whose blocks fit in ``room``."""
    used, start = 0, len(files)
    for index in range(len(files) - 1, -1, -1):
        cost = len(encode_plain(tokenizer, file_block(files[index].path, files[index].text)))
        if used + cost > room:
            break
        used, start = used + cost, index
    return files[start:]


def _cut_around_cursor(prefix: list[int], suffix: list[int], room: int,
                       ) -> tuple[list[int], list[int]]:
    """Keep the tokens nearest the cursor: the end of the prefix, the start of the suffix."""
    room = max(0, room)
    keep_suffix = min(len(suffix), max(room - int(room * PREFIX_SHARE), room - len(prefix)))
    keep_prefix = min(len(prefix), room - keep_suffix)
    return prefix[len(prefix) - keep_prefix:], suffix[:keep_suffix]
