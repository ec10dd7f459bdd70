"""codekiln-serve: Serve models behind an OpenAI-compatible HTTP API (transformers or vLLM)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("codekiln-serve")
except PackageNotFoundError:  # source tree without installation
    __version__ = "0.0.0"
