"""``codekiln train`` commands, one module each, each defining ``COMMAND``."""

from codekiln_core.cli.contract import Group

GROUP = Group("train", "Train code LLMs: pretraining on DeepSpeed, HF export, and the quality "
              "scorer.")
