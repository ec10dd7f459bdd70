"""``codekiln posttrain data`` commands: the datasets SFT, DPO and GRPO train on."""

from codekiln_core.cli.contract import Group

GROUP = Group("posttrain.data", "Build post-training data: instructions, imports, DPO pairs, "
              "verl datasets.")
