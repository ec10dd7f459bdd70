"""``codekiln curate samples commits|repos``."""

from codekiln_core.cli.contract import Group

GROUP = Group("curate.samples", "Training samples from whole repositories: commit samples and "
              "repo-level strings (docs/samples.md).")
