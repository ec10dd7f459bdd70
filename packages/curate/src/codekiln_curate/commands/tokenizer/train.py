"""``codekiln curate tokenizer train DATASET --output DIR``: a byte-level BPE with the
Seed-Coder specials (BOS=0, PAD=1, EOS=2), saved as a Hugging Face directory."""

from __future__ import annotations

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_curate.tokens.recipes import TokenizerTrainRecipe


def train_tokenizer(invocation: Invocation[TokenizerTrainRecipe]) -> Outcome:
    from codekiln_curate.tokens.make_tokenizer import train_tokenizer_dir

    result = train_tokenizer_dir(invocation.recipe, invocation.run)
    return Outcome(metrics={"vocab_size": result.vocab_size},
                   lines=[f"tokenizer: {result.out}  vocab {result.vocab_size}  "
                          f"sha256 {result.sha256}"])


COMMAND = Command(
    name="curate.tokenizer.train", recipe=TokenizerTrainRecipe, work=train_tokenizer,
    help="Train on DATASET and save a Hugging Face tokenizer directory (BOS=0, PAD=1, EOS=2).",
    inputs="dataset", resumable=False, step="tokenizer", key_metrics=("vocab_size",))
