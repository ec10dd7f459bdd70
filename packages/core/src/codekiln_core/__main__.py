"""``python -m codekiln_core`` is the same as the ``codekiln`` console script."""

from codekiln_core.cli.app import run

run()
