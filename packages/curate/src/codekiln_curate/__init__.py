"""codekiln-curate: raw code into deduplicated, syntax-checked, decontaminated data."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("codekiln-curate")
except PackageNotFoundError:  # source tree without installation
    __version__ = "0.0.0"
