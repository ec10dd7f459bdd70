"""codekiln-posttrain: Post-train with SFT, DPO and GRPO, rewarded by sandboxed code execution."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("codekiln-posttrain")
except PackageNotFoundError:  # source tree without installation
    __version__ = "0.0.0"
