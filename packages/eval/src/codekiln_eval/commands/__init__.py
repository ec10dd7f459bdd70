"""``codekiln eval`` sub-commands, one module each, each with ``register(app)``."""
