"""``codekiln curate tokenizer adopt SOURCE --output DIR``: an existing tokenizer (a
model's own) for shards, with FIM sentinels added when it has none."""

from __future__ import annotations

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_curate.tokens.make_tokenizer import adopt_inputs
from codekiln_curate.tokens.recipes import TokenizerAdoptRecipe


def adopt_tokenizer(invocation: Invocation[TokenizerAdoptRecipe]) -> Outcome:
    from codekiln_curate.tokens.make_tokenizer import adopt_tokenizer_dir

    result = adopt_tokenizer_dir(invocation.recipe, invocation.run)
    added = ", ".join(result.added_tokens) or "none"
    return Outcome(metrics={"vocab_size": result.vocab_size},
                   lines=[f"tokenizer: {result.out}  vocab {result.vocab_size}  "
                          f"sha256 {result.sha256}  added: {added}"])


COMMAND = Command(
    name="curate.tokenizer.adopt", recipe=TokenizerAdoptRecipe, work=adopt_tokenizer,
    help="Copy the tokenizer of SOURCE (a tokenizer or model directory, .gguf, pkg:NAME, hub "
         "id or models:/ URI), adding FIM tokens when it has none, so shards can use it.",
    inputs="source", resumable=False, key_metrics=("vocab_size",),
    lineage_inputs=adopt_inputs)
