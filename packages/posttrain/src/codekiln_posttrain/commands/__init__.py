"""``codekiln posttrain`` commands, one module each, each defining ``COMMAND``."""

from codekiln_core.cli.contract import Group

GROUP = Group("posttrain", "Post-train with SFT, DPO and GRPO, rewarded by sandboxed code "
              "execution.")
