"""The installed package's version: a leaf module (no fwgraph imports), so any module can read it at import time."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fwgraph")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
