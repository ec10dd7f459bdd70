"""``codekiln lineage``: walk a model or run back to its raw inputs; compare; the UI."""

from codekiln_core.cli.contract import Group

GROUP = Group("lineage", "Trace models and datasets back to their raw inputs (MLflow).")
