"""``codekiln eval`` commands, one module each, each defining ``COMMAND``."""

from codekiln_core.cli.contract import Group

GROUP = Group("eval", "Evaluate code models on executable benchmarks with sandboxed pass@k.")
