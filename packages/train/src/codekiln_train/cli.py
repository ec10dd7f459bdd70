"""``codekiln train``: the command group of codekiln-train (kept light for ``--help``).

Each command lives in its own module under ``codekiln_train.commands`` (see docs/core.md,
"Commands"); this file only builds the group and mounts them.
"""

from __future__ import annotations

from codekiln_core.cli.commands import command_group, mount_modules

train_app = command_group(
    "Train code LLMs: pretraining on DeepSpeed, HF export, and the quality scorer.")
mount_modules(train_app, "codekiln_train.commands")
