"""``codekiln eval``: the command group of codekiln-eval (kept light for ``--help``).

Each command lives in its own module under ``codekiln_eval.commands`` (see docs/core.md,
"Commands"); heavy modules (transformers, mlflow, matplotlib) load inside the commands.
"""

from __future__ import annotations

from codekiln_core.cli.commands import command_group, mount_modules

eval_app = command_group(
    "Evaluate code models on executable benchmarks with sandboxed pass@k.")
mount_modules(eval_app, "codekiln_eval.commands")
