"""codekiln-eval: Evaluate code models on executable benchmarks with sandboxed pass@k."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("codekiln-eval")
except PackageNotFoundError:  # source tree without installation
    __version__ = "0.0.0"
