"""Make the tokenizer directory a shards run reads: train a byte-level BPE on a dataset, or
adopt an existing tokenizer (a model's own, with FIM sentinels added when it has none);
record it in the command's run as output ``tokenizer``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from codekiln_core.bpe import hf_tokenizer, train_byte_level_bpe
from codekiln_core.chat import write_chat_template
from codekiln_curate.tokens.dataset import iter_texts, open_dataset
from codekiln_curate.tokens.recipes import TokenizerAdoptRecipe, TokenizerTrainRecipe
from codekiln_curate.tokens.tokenizer import (
    add_missing_fim_tokens,
    load_tokenizer,
    tokenizer_hash,
)

if TYPE_CHECKING:
    from codekiln_core.lineage.refs import InputRef
    from codekiln_core.lineage.run import LineageRun

#: What a tokenizer directory may hold (copied as they are; ``tokenizer.json`` is rewritten).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "chat_template.jinja", "chat_template.json", "added_tokens.json",
                   "vocab.json", "merges.txt", "tokenizer.model")


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
    """The source's tokenizer files (a tokenizer directory, or the tokenizer of a model:
    directory, GGUF, hub id or registered version) copied into the output, with Seed-Coder's
    FIM sentinels appended when it has none of its own."""
    import shutil

    check_chat_template(recipe.chat_template)
    source = tokenizer_source(recipe.source)
    tokenizer = load_tokenizer(source)
    out = recipe.output
    out.mkdir(parents=True, exist_ok=True)
    for name in TOKENIZER_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, out / name)
    added = add_missing_fim_tokens(tokenizer)
    tokenizer.save(str(out / "tokenizer.json"))
    if recipe.chat_template is not None:
        write_chat_template(out, recipe.chat_template)
    digest = tokenizer_hash(out)
    run.log_metrics({"vocab_size": tokenizer.get_vocab_size()})
    run.log_params({"added_tokens": ",".join(added) or "none", "tokenizer_sha256": digest})
    run.log_output(out, name="tokenizer")
    return TokenizerResult(out, tokenizer.get_vocab_size(), digest, tuple(added))


def tokenizer_source(source: str) -> Path:
    """A directory with ``tokenizer.json`` as it is; any other model reference through
    ``codekiln_core.start_model`` (a GGUF is converted once, a hub id fetched)."""
    from codekiln_core.start_model import parse_start_model, start_model_dir

    path = Path(source)
    if path.is_dir() and (path / "tokenizer.json").is_file():
        return path
    return start_model_dir(parse_start_model(source, key="source"))


def adopt_inputs(recipe: TokenizerAdoptRecipe) -> list[InputRef]:
    """The source as a lineage input: a local path digested, a hub id with its commit."""
    from codekiln_core.lineage.refs import InputRef
    from codekiln_core.start_model import parse_start_model, start_model_input

    path = Path(recipe.source)
    if path.is_dir() and (path / "tokenizer.json").is_file():
        return [InputRef.from_path(path, name="source")]
    return [start_model_input(parse_start_model(recipe.source, key="source"), name="source")]
