"""The console every command prints its closing table on.

rich folds a table to 80 columns whenever stdout is not a terminal, and also whenever it
is told it is one (``FORCE_COLOR``, ``TTY_COMPATIBLE``) but ``TERM`` is ``dumb``, as on many
CI runners; there it even ignores ``COLUMNS``. The summary of a run piped into a log file
(every pipeline step, every CI job) came out as cells cut into fragments. So the width is
decided here, explicitly: ``COLUMNS`` first, then the real terminal's width, then a wide
default for pipes and files.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

#: Width of a table written to a file or pipe: room for a dozen columns without folding.
PIPED_WIDTH = 160
#: Height used when neither ``LINES`` nor a terminal says (tables do not page, so it is moot).
DEFAULT_HEIGHT = 25


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def _terminal_size() -> os.terminal_size | None:
    """stdout's size when it really is a terminal (not when rich is only told it is one)."""
    try:
        size = os.get_terminal_size(sys.stdout.fileno())
    except (AttributeError, ValueError, OSError):
        return None
    return size if size.columns > 0 else None


def table_console() -> Console:
    """A stdout console for summary tables: ``COLUMNS``, else the terminal's width, else
    PIPED_WIDTH. Width and height are both given, so rich never falls back to its
    dumb-terminal 80×25."""
    from rich.console import Console

    terminal = _terminal_size()
    width = _env_int("COLUMNS") or (terminal.columns if terminal else PIPED_WIDTH)
    height = _env_int("LINES") or (terminal.lines if terminal else DEFAULT_HEIGHT)
    return Console(width=width, height=height)
