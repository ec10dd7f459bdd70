"""codekiln-core's own commands, one per module: ``run``, ``serve-check``, ``plugins``,
``lineage`` (registered by :mod:`codekiln_core.builtin` like any plugin's)."""
