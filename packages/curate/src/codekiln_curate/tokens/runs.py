"""The tokenizer and shards commands as functions: do the work inside one lineage run each.

The tokenizer run lists the dataset as input; the shards run lists the datasets and the
tokenizer directory, whose markers name the runs that made them, so walking the shards run
upstream reaches the curate run and from there the raw input.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codekiln_core.chat import write_chat_template
from codekiln_core.errors import ConfigError
from codekiln_curate.tokens.dataset import Dataset, iter_texts, open_dataset
from codekiln_curate.tokens.shards import ShardResult, ShardSettings, write_shards
from codekiln_curate.tokens.tokenizer import (
    add_missing_specials,
    load_tokenizer,
    save_hf_tokenizer,
    tokenizer_hash,
    train_tokenizer,
)


@dataclass
class TokenizerResult:
    out: Path
    vocab_size: int
    sha256: str
    run_id: str | None


def _empty_output(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"output {out} exists and is not empty; pass a new --output")


def train_tokenizer_run(dataset_path: Path, vocab_size: int, out: Path, *,
                        min_frequency: int = 2, lineage: bool = True,
                        chat_template: str | None = None) -> TokenizerResult:
    """Train on ``dataset_path``, save a Hugging Face directory, log it as `tokenizer`."""
    from codekiln_core.chat import chat_template as template_named
    from codekiln_core.lineage import InputRef
    from codekiln_core.lineage.command import lineage_command

    if chat_template is not None:
        template_named(chat_template)  # unknown name: fail before any work
    dataset = open_dataset(dataset_path)
    _empty_output(out)
    inputs = [InputRef.from_path(dataset_path)] if lineage else []
    config = {"dataset": str(dataset_path), "vocab_size": vocab_size,
              "min_frequency": min_frequency}
    with lineage_command("curate.tokenizer", config=config, inputs=inputs,
                         enabled=lineage) as run:
        tokenizer = train_tokenizer(iter_texts(dataset), vocab_size, min_frequency=min_frequency)
        save_hf_tokenizer(tokenizer, out)
        if chat_template is not None:
            write_chat_template(out, chat_template)
        digest = tokenizer_hash(out)
        if run.enabled:
            run.log_metrics({"vocab_size": tokenizer.get_vocab_size()})
            run.log_params({"tokenizer_sha256": digest})
            run.log_output(out, name="tokenizer")
    return TokenizerResult(out, tokenizer.get_vocab_size(), digest, run.run_id)


def adopt_tokenizer_run(source: Path, out: Path, *, lineage: bool = True,
                        chat_template: str | None = None) -> TokenizerResult:
    """Copy an existing tokenizer directory, adding the FIM/SEP tokens it lacks."""
    import shutil

    from codekiln_core.chat import chat_template as template_named
    from codekiln_core.lineage import InputRef
    from codekiln_core.lineage.command import lineage_command

    if chat_template is not None:
        template_named(chat_template)
    tokenizer = load_tokenizer(source)
    _empty_output(out)
    inputs = [InputRef.from_path(source)] if lineage else []
    with lineage_command("curate.tokenizer", config={"adopt": str(source)}, inputs=inputs,
                         enabled=lineage) as run:
        shutil.copytree(source, out, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".codekiln-run.json"))
        added = add_missing_specials(tokenizer)
        tokenizer.save(str(out / "tokenizer.json"))
        if chat_template is not None:
            write_chat_template(out, chat_template)
        if run.enabled:
            run.log_params({"added_tokens": ",".join(added) or "none"})
            run.log_output(out, name="tokenizer")
    return TokenizerResult(out, tokenizer.get_vocab_size(), tokenizer_hash(out), run.run_id)


def parse_dataset_arg(value: str) -> Dataset:
    """``PATH`` or ``NAME=PATH`` (the name keys --mix and the manifest's per-source counts)."""
    name, sep, path = value.partition("=")
    if sep and not Path(value).exists():
        return open_dataset(path, name=name)
    return open_dataset(value)


def shards_run(datasets: list[Dataset], tokenizer_dir: Path, out: Path,
               settings: ShardSettings, *, lineage: bool = True) -> tuple[ShardResult, str | None]:
    """Write (or resume) the shards of ``datasets`` and log them as output `shards`."""
    from codekiln_core.fsio import check_writable
    from codekiln_core.lineage import InputRef
    from codekiln_core.lineage.command import lineage_command

    check_writable(out)

    inputs = ([InputRef.from_path(d.root, name=d.name) for d in datasets]
              + [InputRef.from_path(tokenizer_dir, name="tokenizer")]) if lineage else []
    config = {"datasets": [str(d.root) for d in datasets], "tokenizer": str(tokenizer_dir),
              "seq_len": settings.seq_len, "sequences_per_shard": settings.sequences_per_shard,
              "fim_rate": settings.fim.rate, "fim_mode": settings.fim.mode,
              "seed": settings.fim.seed, "mix": settings.mix}
    with lineage_command("curate.shards", config=config, inputs=inputs, enabled=lineage) as run:
        result = write_shards(datasets, tokenizer_dir, out, settings)
        if run.enabled:
            manifest = result.manifest
            run.log_metrics({"tokens": manifest["total_tokens"],
                             "sequences": manifest["total_sequences"],
                             "documents": manifest["total_documents"],
                             "fim_documents": manifest["fim_documents"]})
            run.log_artifact(out / "manifest.json")
            run.log_output(out, name="shards")
    return result, run.run_id
