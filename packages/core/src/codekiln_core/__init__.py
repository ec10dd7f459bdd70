"""codekiln core: the contracts every codekiln package and plugin builds on.

Importing this package is cheap on purpose: no torch, transformers, mlflow, ray or deepspeed.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("codekiln-core")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["__version__"]
