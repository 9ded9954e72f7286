"""The package's version and the paper it verifies (the bottom of the import graph)."""

__version__ = "0.1.0"
#: The paper whose results the built-in derivations encode.
PAPER = "arXiv:2505.24769v1"
