"""lindiff-verify: symbolic-numeric verification of the theory of linear diffusion models.

Paper: C. Merger and S. Goldt, "Generalization Dynamics of Linear Diffusion Models",
arXiv:2505.24769. Derivations live in ``derivations/`` and are discovered automatically.

The package is organised by role, each layer importing only the ones below it:

* :mod:`lindiff_verify.model` — the model and its data: schedules, spectra, data, validation, errors, backend;
* :mod:`lindiff_verify.theory` — closed forms and solvers: denoiser, dynamics, samplers, Gaussian measures,
  finite-N references, Stieltjes / Marchenko–Pastur, replica equivalents, next-order corrections;
* :mod:`lindiff_verify.simulation` — Monte Carlo engines: sampler trajectories, Wishart draws;
* :mod:`lindiff_verify.verification` — registry, check kinds, tolerances, context, runner, pytest support;
* :mod:`lindiff_verify.report` — the HTML / JSON agreement report; :mod:`lindiff_verify.cli` — the command line.
"""

from ._meta import PAPER, __version__
from .model.errors import ConvergenceError, InputError

__all__ = ["InputError", "ConvergenceError", "__version__", "PAPER"]
