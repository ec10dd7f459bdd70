"""``codekiln curate shards DATASET... --tokenizer DIR --output DIR``: tokenize, FIM and
pack datasets into memory-mappable shards; ``--resume`` continues after the last finished
shard."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.cli.contract import Command, Outcome
from codekiln_core.cli.invoke import Invocation
from codekiln_curate.tokens.recipes import ShardsRecipe

if TYPE_CHECKING:
    from collections.abc import Iterator

    from codekiln_core.lineage import InputRef


def shards(invocation: Invocation[ShardsRecipe]) -> Outcome:
    """Write OUTPUT/shard-*.bin (uint32 tokens), shard-*.idx (document starts), manifest."""
    from codekiln_curate.tokens.shards import pack_shards

    result = pack_shards(invocation.recipe, invocation.run)
    manifest = result.manifest
    lines = [f"shards: {result.out}  {len(manifest['shards'])} files  "
             f"{manifest['total_tokens']} tokens  {manifest['total_sequences']} sequences  "
             f"{manifest['total_documents']} documents ({manifest['fim_documents']} FIM)"]
    if result.resumed_shards:
        lines.append(f"resumed after {result.resumed_shards} finished shards")
    return Outcome(metrics={"tokens": manifest["total_tokens"],
                            "sequences": manifest["total_sequences"],
                            "documents": manifest["total_documents"],
                            "fim_documents": manifest["fim_documents"]}, lines=lines)


def datasets_and_tokenizer(recipe: ShardsRecipe) -> Iterator[InputRef]:
    from codekiln_curate.tokens.shards import shard_inputs

    return shard_inputs(recipe)


COMMAND = Command(
    name="curate.shards", recipe=ShardsRecipe, work=shards,
    help="Write OUTPUT/shard-*.bin (uint32 tokens), shard-*.idx (document starts) and "
         "manifest.json from DATASET... (PATH or NAME=PATH).",
    inputs="datasets", step="shards", key_metrics=("tokens", "sequences", "fim_documents"),
    lineage_inputs=datasets_and_tokenizer)
