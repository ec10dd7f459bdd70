"""codekiln-curate: Curate raw code into deduplicated, syntax-checked, decontaminated training data."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("codekiln-curate")
except PackageNotFoundError:  # source tree without installation
    __version__ = "0.0.0"
