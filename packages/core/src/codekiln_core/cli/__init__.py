"""The one ``codekiln`` console script: a root Typer app that plugins mount sub-apps on.

Importing this module is cheap: no torch, transformers, mlflow, ray or deepspeed.
"""

from __future__ import annotations

from codekiln_core.cli.app import build_app, main

__all__ = ["build_app", "main"]
