"""codekiln-filter-example: the template plugin, shaped exactly as a third party would ship it.

It registers one curation filter, ``no-secrets``, through the ``codekiln_register_stages``
hook. The whole plugin is this module, the filter class in ``filters.py``, and one entry
point in pyproject.toml.
"""

from __future__ import annotations

from codekiln_core import Register, hookimpl
from codekiln_filter_example.filters import NoSecretsFilter, NoSecretsOptions

__all__ = ["NoSecretsFilter", "NoSecretsOptions", "codekiln_register_stages"]


@hookimpl
def codekiln_register_stages(register: Register) -> None:
    register(
        NoSecretsFilter.name,
        NoSecretsFilter,
        description="drop files that embed credentials (private keys, cloud and API tokens)",
    )
