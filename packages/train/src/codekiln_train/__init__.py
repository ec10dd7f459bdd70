"""codekiln-train: Pretrain code LLMs and train the quality scorer with DeepSpeed."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("codekiln-train")
except PackageNotFoundError:  # source tree without installation
    __version__ = "0.0.0"
