"""codekiln-curate's plugin: the ``codekiln curate`` commands and the curation stages.

First-party stages are registered through the same hook a third-party plugin uses; the
imports live inside the hooks so ``codekiln --help`` does not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekiln_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from codekiln_core.hookspecs import Register


@hookimpl
def codekiln_register_commands(register: Register) -> None:
    from codekiln_core.cli.modules import register_modules

    register_modules(register, "codekiln_curate.commands")


@hookimpl
def codekiln_register_stages(register: Register) -> None:
    from codekiln_curate.readers import FIRST_PARTY_READERS
    from codekiln_curate.stages import FIRST_PARTY_STAGES

    for name, cls, description in [*FIRST_PARTY_STAGES, *FIRST_PARTY_READERS]:
        register(name, cls, description=description)
