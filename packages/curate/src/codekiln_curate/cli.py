"""``codekiln curate``: the command group of codekiln-curate (kept light for ``--help``).

Each command lives in its own module under ``codekiln_curate.commands`` (see docs/core.md,
"Commands"); this file only builds the group and mounts them.
"""

from __future__ import annotations

from codekiln_core.cli.commands import command_group, mount_modules

curate_app = command_group(
    "Curate raw code into deduplicated, syntax-checked, decontaminated training data.")
mount_modules(curate_app, "codekiln_curate.commands")
