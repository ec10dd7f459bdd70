"""``codekiln curate tokenizer train|adopt``."""

from codekiln_core.cli.contract import Group

GROUP = Group("curate.tokenizer", "Train a byte-level BPE tokenizer on a curated dataset, or "
              "adopt an existing one.")
