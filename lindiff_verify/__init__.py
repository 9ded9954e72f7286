"""lindiff-verify: symbolic-numeric verification of the theory of linear diffusion models.

Paper: C. Merger and S. Goldt, "Generalization Dynamics of Linear Diffusion Models",
arXiv:2505.24769v1. Derivations live in ``derivations/`` and are discovered automatically.
"""

from .errors import ConvergenceError, InputError

__version__ = "0.1.0"
PAPER = "arXiv:2505.24769v1"

__all__ = ["InputError", "ConvergenceError", "__version__", "PAPER"]
