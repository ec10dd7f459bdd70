"""``codekiln curate`` commands, one module each, each defining ``COMMAND`` (nested groups
are subpackages defining ``GROUP``). Modules stay light to import (``codekiln --help``
loads them): the work lives in the domain modules, imported inside the work functions."""

from codekiln_core.cli.contract import Group

GROUP = Group("curate", "Curate raw code into deduplicated, syntax-checked, decontaminated "
              "training data; label, score, tokenize and pack it.")
