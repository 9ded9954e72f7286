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

import sys as _sys

from ._meta import PAPER, __version__
from .model.errors import ConvergenceError, InputError

__all__ = ["InputError", "ConvergenceError", "__version__", "PAPER", "check"]


def check(derivation_id: str, *, seed: int = 0, fidelity: str = "quick", backend: str = "numpy", derivations=(),
          figures: bool = True):
    """Run one derivation by id and return its agreement record (a dict; in a notebook it shows as the
    report card): ``lindiff_verify.check("eq.13", seed=0)``. Imports the heavy layers on first use."""
    from .report.notebook import check as _check

    return _check(derivation_id, seed=seed, fidelity=fidelity, backend=backend, derivations=derivations,
                  figures=figures)


def _notebook_display():
    """Under IPython, a Derivation shows as its report card (registered by name: nothing heavy is imported)."""
    ipython = _sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is None or not hasattr(shell, "display_formatter"):
        return

    def card(d):
        from .report.notebook import derivation_card

        return derivation_card(d)

    shell.display_formatter.formatters["text/html"].for_type_by_name(
        "lindiff_verify.verification.registry", "Derivation", card)


_notebook_display()
