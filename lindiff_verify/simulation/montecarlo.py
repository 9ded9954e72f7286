r"""Monte Carlo engine: many sampler trajectories at once, streamed in batches with running moments.

* The same code runs on NumPy, CuPy or array-api-strict: the namespace comes from the inputs
  (``xp`` argument or the arrays passed); only array-API functions are used inside the loop.
* Reproducible and independent across batches: one ``numpy.random.SeedSequence`` is spawned once per batch.
* Memory bounded: at most ``batch_size`` trajectories live at a time; moments are merged with Chan et al.'s
  parallel update of (count, mean, M2) (:class:`~lindiff_verify.simulation.moments.RunningMoments`), never the samples.
* Steps: each sampler record's ``mc_step`` (:mod:`lindiff_verify.theory.samplers`), the sampler's definition
  applied to any denoiser: independent of the exact-law recursion it is checked against.
* Denoisers: :func:`eigen_denoiser` (samplers module, per eigen-direction of C) or :class:`MatrixDenoiser`
  (the optimal affine denoiser of eq.8 in the ORIGINAL basis, W_t = U diag(s/v) Uᵀ, b_t = −a_t W_t m).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from array_api_compat import array_namespace

from ..model import validate
from ..model.backend import noise_source
from ..model.errors import InputError
from ..model.vp import TimeGrid, make_grid
from ..theory.samplers import get_sampler
from .moments import RunningMoments

__all__ = ["RunningMoments", "MatrixDenoiser", "MCResult", "sample_batch", "monte_carlo_moments"]


class MatrixDenoiser:
    """eq.8 in the original basis: ε(x, t) = W_t (x − a_t m), W_t = s_t (ᾱ_t (C + cI) + (1 − ᾱ_t) I)^{-1}.

    Built from the empirical covariance ``C`` (d×d) and mean ``m``; applied through C's eigenvectors
    (one eigendecomposition, O(d²) per step and trajectory)."""

    def __init__(self, grid: TimeGrid, C, m, c: float = 0.0, xp=None):
        C = validate.finite_array("C", C, ndim=2)
        if C.shape[0] != C.shape[1]:
            raise InputError("C", f"has shape {C.shape}", "a square covariance matrix")
        m = validate.finite_array("m", m, shape=(C.shape[0],))
        self.c = validate.nonnegative("c", c)
        lam, U = np.linalg.eigh(0.5 * (C + C.T))
        # eigh's backward error is ≤ a few d·eps·‖C‖: only negatives below that are rounding of a covariance
        floor = -16 * C.shape[0] * np.finfo(float).eps * max(float(np.max(np.abs(lam), initial=0.0)), 1e-300)
        if lam.size and float(lam[0]) < floor:
            raise InputError("C", f"has the eigenvalue {float(lam[0]):.3g}",
                             "a covariance matrix: symmetric with eigenvalues ≥ 0 (to rounding)")
        self.eigvals = np.clip(lam, 0.0, None)  # the rounding negatives
        self.grid = grid
        self._np = (U, m)
        self.set_namespace(xp or np)

    def set_namespace(self, xp):
        U, m = self._np
        self.xp = xp
        self.U = xp.asarray(U)
        self.m = xp.asarray(m)
        return self

    def __call__(self, x, k):
        ab, om = float(self.grid.alphabar[k]), float(self.grid.one_minus_alphabar[k])
        xp = self.xp
        g = xp.asarray(om**0.5 / (ab * (self.eigvals + self.c) + om))
        y = ((x - ab**0.5 * self.m) @ self.U) * g
        return y @ self.U.T


def sample_batch(sampler: str, grid: TimeGrid, denoiser, x_T, rng):
    """Run all steps of ``sampler`` on the batch ``x_T`` (shape (n, d)); returns x at the grid's first point.

    Each step is the record's ``mc_step`` (the sampler's definition, applied with ``denoiser``; it shares no code
    with the exact law). Noise comes from ``rng`` (a NumPy Generator; on CuPy a device generator seeded from it)."""
    rec = get_sampler(sampler)
    xp = array_namespace(x_T)
    draw = noise_source(rng, xp) if rec.stochastic else None
    x = x_T
    for k in range(grid.num_steps, 0, -1):
        x = rec.mc_step(grid, k, x, denoiser, None if draw is None else draw(tuple(x.shape)))
    return x


@dataclass
class MCResult:
    """Monte Carlo moments of the samples and their standard errors (the samples are Gaussian, so
    SE(var_i) = var_i √(2/(n−1)) and SE(cov_ij) = √((cov_ii cov_jj + cov_ij²)/(n−1)))."""

    n: int
    mean: np.ndarray
    cov: np.ndarray  # variances (diagonal) or full covariance
    full: bool

    @property
    def var(self):
        return np.diag(self.cov) if self.full else self.cov

    @property
    def se_mean(self):
        return np.sqrt(self.var / self.n)

    @property
    def se_cov(self):
        if self.full:
            v = np.diag(self.cov)
            return np.sqrt((np.outer(v, v) + self.cov**2) / (self.n - 1))
        return self.cov * np.sqrt(2.0 / (self.n - 1))

    @property
    def se_var(self):
        return np.diag(self.se_cov) if self.full else self.se_cov


def monte_carlo_moments(sampler: str, schedule, denoiser, d: int, n_paths: int, *, seed, batch_size: int = 65536,
                        xp=None, num_steps=None, t_stop=0, start_mean=0.0, start_var=1.0, full_cov: bool = False,
                        grid: TimeGrid | None = None) -> MCResult:
    """Sample ``n_paths`` trajectories of ``sampler`` in batches and return their running moments.

    ``seed``: an int or a ``numpy.random.SeedSequence``; batch i uses ``SeedSequence.spawn`` child i
    (for the start draw and the step noise), so results do not depend on anything but (seed, batch_size).
    ``denoiser(x, k)``: the ε-prediction (eigen or matrix). ``xp``: array namespace (NumPy by default).
    """
    get_sampler(sampler)
    d = validate.positive_int("d", d)
    n_paths = validate.positive_int("n_paths", n_paths, minimum=2)
    batch_size = validate.positive_int("batch_size", batch_size)
    grid = grid if grid is not None else make_grid(schedule, num_steps=num_steps, t_stop=t_stop)
    xp = xp or np
    if hasattr(denoiser, "set_namespace"):
        denoiser.set_namespace(xp)
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(validate.positive_int("seed", seed, minimum=0))
    n_batches = -(-n_paths // batch_size)
    mu0 = xp.asarray(np.broadcast_to(np.asarray(start_mean, float), (d,)).copy())
    sd0 = xp.asarray(np.sqrt(np.broadcast_to(np.asarray(start_var, float), (d,))).copy())
    acc = RunningMoments(full=full_cov)
    for i, child in enumerate(ss.spawn(n_batches)):
        nb = min(batch_size, n_paths - i * batch_size)
        rng = np.random.default_rng(child)
        x = mu0 + sd0 * noise_source(rng, xp)((nb, d))
        acc.update(sample_batch(sampler, grid, denoiser, x, rng))
    return MCResult(acc.n, acc.mean, acc.cov, full_cov)
