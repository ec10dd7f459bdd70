"""``codekiln plugins``: what is installed, what it hooks, what it registered."""

from codekiln_core.cli.contract import Group

GROUP = Group("plugins", "Inspect installed codekiln plugins.")
