"""The console every command prints its closing table on.

rich folds a table to 80 columns whenever stdout is not a terminal, so the summary of a run
piped into a log file (every pipeline step, every CI job) came out as cells cut into
fragments. Piped output gets a wide console instead; a terminal, or ``COLUMNS``, keeps its
own width.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

#: Width of a table written to a file or pipe: room for a dozen columns without folding.
PIPED_WIDTH = 160


def table_console() -> Console:
    """A stdout console for summary tables: the terminal's width, or PIPED_WIDTH when piped."""
    from rich.console import Console

    console = Console()
    if console.is_terminal or os.environ.get("COLUMNS", "").isdigit():
        return console
    return Console(width=PIPED_WIDTH)
