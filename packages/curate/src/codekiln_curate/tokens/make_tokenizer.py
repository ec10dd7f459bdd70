"""Make the tokenizer directory a shards run reads: train a byte-level BPE on a dataset, or
adopt an existing tokenizer (adding the FIM and SEP tokens it lacks); record it in the
command's run as output ``tokenizer``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from codekiln_core.bpe import hf_tokenizer, train_byte_level_bpe
from codekiln_core.chat import write_chat_template
from codekiln_curate.tokens.dataset import iter_texts, open_dataset
from codekiln_curate.tokens.recipes import TokenizerAdoptRecipe, TokenizerTrainRecipe
from codekiln_curate.tokens.tokenizer import (
    add_missing_specials,
    load_tokenizer,
    tokenizer_hash,
)

if TYPE_CHECKING:
    from codekiln_core.lineage.run import LineageRun


@dataclass
class TokenizerResult:
    out: Path
    vocab_size: int
    sha256: str
    added_tokens: tuple[str, ...] = ()


def check_chat_template(name: str | None) -> None:
    """An unknown template name fails before any work."""
    if name is not None:
        from codekiln_core.chat import chat_template

        chat_template(name)


def train_tokenizer_dir(recipe: TokenizerTrainRecipe, run: LineageRun) -> TokenizerResult:
    """Train on the recipe's dataset and save a Hugging Face directory in its output."""
    check_chat_template(recipe.chat_template)
    dataset = open_dataset(recipe.dataset)
    tokenizer = train_byte_level_bpe(iter_texts(dataset), recipe.vocab_size,
                                     min_frequency=recipe.min_frequency, key="--vocab-size")
    recipe.output.mkdir(parents=True, exist_ok=True)
    hf_tokenizer(tokenizer).save_pretrained(str(recipe.output))
    if recipe.chat_template is not None:
        write_chat_template(recipe.output, recipe.chat_template)
    digest = tokenizer_hash(recipe.output)
    run.log_metrics({"vocab_size": tokenizer.get_vocab_size()})
    run.log_params({"tokenizer_sha256": digest})
    run.log_output(recipe.output, name="tokenizer")
    return TokenizerResult(recipe.output, tokenizer.get_vocab_size(), digest)


def adopt_tokenizer_dir(recipe: TokenizerAdoptRecipe, run: LineageRun) -> TokenizerResult:
    """Copy the source tokenizer into the output, adding the FIM/SEP tokens it lacks."""
    import shutil

    check_chat_template(recipe.chat_template)
    tokenizer = load_tokenizer(recipe.source)
    out = recipe.output
    shutil.copytree(recipe.source, out, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".codekiln-run.json"))
    added = add_missing_specials(tokenizer)
    tokenizer.save(str(out / "tokenizer.json"))
    if recipe.chat_template is not None:
        write_chat_template(out, recipe.chat_template)
    digest = tokenizer_hash(out)
    run.log_metrics({"vocab_size": tokenizer.get_vocab_size()})
    run.log_params({"added_tokens": ",".join(added) or "none", "tokenizer_sha256": digest})
    run.log_output(out, name="tokenizer")
    return TokenizerResult(out, tokenizer.get_vocab_size(), digest, tuple(added))
