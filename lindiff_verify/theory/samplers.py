r"""Samplers for linear diffusion models and the exact law of their samples (paper eq.3–eq.4, appendix C).

Every sampler is one step x_k → x_{k−1} on a :class:`~lindiff_verify.model.vp.TimeGrid`, written in terms of the
noise prediction ε = ε_θ(x, t_k) (and, for Heun, ε at t_{k−1}); with ᾱ = ᾱ(t_k), ᾱ' = ᾱ(t_{k−1}),
a = √ᾱ, s = √(1 − ᾱ), β = 1 − ᾱ/ᾱ' (the DDPM β_t), b = β(t_k) the SDE rate and h = t_k − t_{k−1}:

* ``ddpm``            x' = (x − β ε / s)/√(1 − β) + σ z,  σ² = β          (eq.3–eq.4, ancestral)
* ``ddpm_posterior``  the same with σ² = β̃ = β (1 − ᾱ')/(1 − ᾱ)
* ``ddim``            x' = a' (x − s ε)/a + s' ε                            (deterministic, η = 0)
* ``euler_maruyama``  x' = x + h(½ b x + b ∇log p) + √(b h) z,  ∇log p = −ε/s   (reverse SDE)
* ``exponential_integrator``  x' = a'[x/a − 2(r − r') ε] + √(ᾱ'/ᾱ − 1) z,  r = s/a  (reverse SDE, linear
  part exact, ε frozen over the step)
* ``euler`` / ``heun``  probability-flow ODE dx/dt = −½ b x − ½ b ∇log p  (Heun: last step is Euler when
  t_{k−1} = 0, where the score of a degenerate direction is not defined)

Each sampler is ONE :class:`Sampler` record in :data:`SAMPLERS` holding two independent implementations:

* ``mc_step(grid, k, x, eps, z)`` — the definition above with any denoiser callable ``eps(x, k)`` (eigen-basis or
  the matrix denoiser in the original basis); the Monte Carlo engine runs it;
* ``law_step(steps)`` — the same step solved by hand as scalar coefficients per step (:class:`StepLaw`) of x, of
  u = ε/s and of z. With the optimal affine denoiser of eq.8, ε(x, t) = s (x − a m)/v, v(t) = ᾱ(t)(λ + c) + 1 − ᾱ(t),
  so u = (x − a m)/v is affine per eigen-direction and each step is x' = A x + B + N z: the samples stay Gaussian,
  mean' = A mean + B, var' = A² var + N². :func:`exact_moments` runs this recursion in O(K·d) (in the centred
  variable x − a m, :func:`centred_steps`), at or below the cost of the same loop written out by hand.

The two share no step code, so a wrong noise variance or time index in either shows up as a disagreement between
the Monte Carlo and the exact law; :func:`register` also compares them step by step on probe grids at import, so
a sampler missing a part, or whose two implementations disagree, fails at import. To add a sampler: write both
steps and register one record. :func:`continuous_moments` gives the
continuous-time limit (appendix C.7–C.9), :func:`ddpm_variance_bias` the closed discretisation bias D_T.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from array_api_compat import array_namespace

from ..model import validate
from ..model.backend import to_numpy
from ..model.errors import InputError
from ..model.vp import TimeGrid, make_grid

__all__ = [
    "Sampler",
    "GridSteps",
    "StepLaw",
    "centred_steps",
    "SAMPLERS",
    "consistency_error",
    "register",
    "get_sampler",
    "step",
    "GaussianLaw",
    "eigen_denoiser",
    "exact_moments",
    "exact_law",
    "ddpm_moments",
    "continuous_moments",
    "ddpm_variance_bias",
    "kl_divergence",
    "wasserstein2",
]


# ====================================================================================================
# Monte Carlo steps: the samplers' definitions with any denoiser eps(x, k)
# ====================================================================================================


def _coeffs(grid: TimeGrid, k: int):
    ab, abp = float(grid.alphabar[k]), float(grid.alphabar[k - 1])
    om, omp = float(grid.one_minus_alphabar[k]), float(grid.one_minus_alphabar[k - 1])
    return ab, abp, om, omp


def _mc_ddpm(grid, k, x, eps, z, posterior=False):
    ab, abp, om, omp = _coeffs(grid, k)
    beta = 1.0 - ab / abp
    s = om**0.5
    var = beta * omp / om if posterior else beta
    out = (x - (beta / s) * eps(x, k)) / (1.0 - beta) ** 0.5
    return out if z is None else out + var**0.5 * z


def _mc_ddpm_posterior(grid, k, x, eps, z):
    return _mc_ddpm(grid, k, x, eps, z, posterior=True)


def _mc_ddim(grid, k, x, eps, z):
    ab, abp, om, omp = _coeffs(grid, k)
    e = eps(x, k)
    return abp**0.5 * (x - om**0.5 * e) / ab**0.5 + omp**0.5 * e


def _score(grid, k, x, eps):
    return -eps(x, k) / float(grid.one_minus_alphabar[k]) ** 0.5


def _mc_euler_maruyama(grid, k, x, eps, z):
    h = float(grid.t[k] - grid.t[k - 1])
    b = float(grid.beta_rate[k])
    out = x + h * (0.5 * b * x + b * _score(grid, k, x, eps))
    return out if z is None else out + (b * h) ** 0.5 * z


def _mc_exponential_integrator(grid, k, x, eps, z):
    ab, abp, om, omp = _coeffs(grid, k)
    r, rp = (om / ab) ** 0.5, (omp / abp) ** 0.5
    out = abp**0.5 * (x / ab**0.5 - 2.0 * (r - rp) * eps(x, k))
    return out if z is None else out + (abp / ab - 1.0) ** 0.5 * z


def _ode_drift(grid, k, x, eps):
    b = float(grid.beta_rate[k])
    return 0.5 * b * x + 0.5 * b * _score(grid, k, x, eps)


def _mc_euler(grid, k, x, eps, z):
    return x + float(grid.t[k] - grid.t[k - 1]) * _ode_drift(grid, k, x, eps)


def _mc_heun(grid, k, x, eps, z):
    h = float(grid.t[k] - grid.t[k - 1])
    d1 = _ode_drift(grid, k, x, eps)
    xe = x + h * d1
    if float(grid.one_minus_alphabar[k - 1]) <= 0.0:  # t_{k-1} = 0: Euler step (score undefined there)
        return xe
    return x + 0.5 * h * (d1 + _ode_drift(grid, k - 1, xe, eps))


# ====================================================================================================
# Exact-law steps: each sampler's step as scalar coefficients of x, the score and the noise
# ====================================================================================================


@dataclass(frozen=True)
class GridSteps:
    """All steps k = K, ..., 1 of a grid in sampling order (row i is step k = K − i), as (K, 1) NumPy columns.

    ``ab``/``abp`` = ᾱ(t_k)/ᾱ(t_{k−1}), ``om``/``omp`` = 1 − ᾱ, ``a``/``ap`` = √ᾱ, ``s``/``sp`` = √(1 − ᾱ),
    ``rate``/``rate_prev`` = β(t_k)/β(t_{k−1}), ``h`` = t_k − t_{k−1}; ``end_regular``: 1 − ᾱ(t_{k−1}) > 0
    (False only for a step ending at ᾱ = 1, t = 0, where the score of a degenerate direction is undefined)."""

    ab: np.ndarray
    abp: np.ndarray
    om: np.ndarray
    omp: np.ndarray
    rate: np.ndarray
    rate_prev: np.ndarray
    h: np.ndarray
    end_regular: np.ndarray

    @classmethod
    def of(cls, grid: TimeGrid) -> "GridSteps":
        k = np.arange(grid.num_steps, 0, -1)
        col = lambda a, idx: np.ascontiguousarray(np.asarray(a, dtype=float)[idx, None])  # noqa: E731
        return cls(col(grid.alphabar, k), col(grid.alphabar, k - 1), col(grid.one_minus_alphabar, k),
                   col(grid.one_minus_alphabar, k - 1), col(grid.beta_rate, k), col(grid.beta_rate, k - 1),
                   col(grid.t, k) - col(grid.t, k - 1), col(grid.one_minus_alphabar, k - 1) > 0.0)

    @property
    def a(self):
        return np.sqrt(self.ab)

    @property
    def ap(self):
        return np.sqrt(self.abp)

    @property
    def s(self):
        return np.sqrt(self.om)

    @property
    def sp(self):
        return np.sqrt(self.omp)


@dataclass(frozen=True)
class StepLaw:
    r"""One step per direction in terms of x, the score-like u(x, t) = (x − a m)/v = ε/s of the eq.8 denoiser, and z:

    one stage:   x' = P x + Q u(x, t_k) + σ z,            σ² = ``noise_var`` (None: deterministic)
    two stages:  x̃ = P1 x + Q1 u(x, t_k),  x' = P x + Q u(x, t_k) + R x̃ + Q2 u(x̃, t_{k−1})   (``stage`` = (P1, Q1, R, Q2))

    Each coefficient is a (K, 1) column (one row per step, sampling order). With u affine per direction the step is
    x' = A x + B + σ z, which :func:`exact_moments` evaluates."""

    P: np.ndarray
    Q: np.ndarray
    noise_var: np.ndarray | None = None
    stage: tuple | None = None


def _law_ddpm(g: GridSteps, posterior=False):
    # x' = (x − β ε/s)/√(1 − β) + σ z,  ε/s = u
    beta = 1.0 - g.ab / g.abp
    r = 1.0 / np.sqrt(1.0 - beta)
    return StepLaw(r, -beta * r, beta * g.omp / g.om if posterior else beta)


def _law_ddpm_posterior(g):
    return _law_ddpm(g, posterior=True)


def _law_ddim(g: GridSteps):
    # x' = (a'/a) x + (s' − a' s/a) ε,  ε = s u
    ratio = np.sqrt(g.abp / g.ab)
    return StepLaw(ratio, (g.sp - ratio * g.s) * g.s)


def _law_euler_maruyama(g: GridSteps):
    # x' = x + h(½ b x − b u) + √(b h) z   (∇log p = −u)
    hb = g.h * g.rate
    return StepLaw(1.0 + 0.5 * hb, -hb, hb)


def _law_exponential_integrator(g: GridSteps):
    # x' = a'[x/a − 2(r − r') s u] + √(ᾱ'/ᾱ − 1) z,  r = s/a
    r, rp = np.sqrt(g.om / g.ab), np.sqrt(g.omp / g.abp)
    return StepLaw(g.ap / g.a, -2.0 * g.ap * (r - rp) * g.s, g.abp / g.ab - 1.0)


def _law_euler(g: GridSteps):
    # x' = x + h f(x, t_k),  f = ½ b x − ½ b u
    hb = 0.5 * g.h * g.rate
    return StepLaw(1.0 + hb, -hb)


def _law_heun(g: GridSteps):
    # x̃ = x + h f_k(x);  x' = x + ½h(f_k(x) + f_{k−1}(x̃)),  f_j(y) = ½ b_j y − ½ b_j u(y, t_j);
    # a step ending at ᾱ = 1 is Euler (R = Q2 = 0)
    hb, hbp = 0.5 * g.h * g.rate, 0.5 * g.h * g.rate_prev
    reg = g.end_regular.astype(float)
    half = 1.0 - 0.5 * reg  # ½ for a Heun step, 1 for the closing Euler step
    return StepLaw(1.0 + half * hb, -half * hb, None, (1.0 + hb, -hb, 0.5 * hbp * reg, -0.5 * hbp * reg))


# ====================================================================================================
# The records
# ====================================================================================================


@dataclass(frozen=True)
class Sampler:
    """One sampler: its name, whether it draws noise, its two independent implementations, its order.

    ``mc_step(grid, k, x, eps, z)`` → x_{k−1} (the definition with any denoiser; z: standard normal noise of x's
    shape, None for a deterministic sampler). ``law_step(steps: GridSteps)`` → :class:`StepLaw`, the step's
    scalar coefficients of x, of the score-like u = ε/s and of z, per step (solved by hand from the definition). ``order``: convergence order of the law in the step size (1, Heun 2);
    ``process``: the continuous-time process it discretises (``"sde"`` reverse SDE, ``"ode"`` probability flow).
    Every field is required: a record missing a part cannot be built."""

    name: str
    stochastic: bool
    law_step: Callable
    mc_step: Callable
    order: int
    process: str

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"Sampler name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.stochastic, bool):
            raise TypeError(f"Sampler {self.name!r}: stochastic must be True or False, got {self.stochastic!r}")
        for part in ("law_step", "mc_step"):
            if not callable(getattr(self, part)):
                raise TypeError(f"Sampler {self.name!r}: {part} must be callable, got {getattr(self, part)!r}")
        if isinstance(self.order, bool) or not isinstance(self.order, int) or self.order < 1:
            raise TypeError(f"Sampler {self.name!r}: order must be an integer >= 1, got {self.order!r}")
        if self.process not in ("sde", "ode"):
            raise TypeError(f"Sampler {self.name!r}: process must be 'sde' or 'ode', got {self.process!r}")


#: name -> Sampler, filled by :func:`register`
SAMPLERS: dict[str, Sampler] = {}


def _probe_grids():
    from ..model import schedules
    from ..model.vp import VPSchedule, discrete_grid, vp_grid

    # a discrete grid ending at ᾱ = 1 (t = 0) and a VP grid stopping at t_ε > 0
    return (discrete_grid(schedules.linear(num_train_timesteps=4, beta_start=0.05, beta_end=0.3)),
            vp_grid(VPSchedule(0.5, 8.0), 3, 0.2))


def consistency_error(rec: Sampler) -> str | None:
    """Where ``rec``'s two implementations disagree on probe grids (None if they agree to float64 rounding).

    Per step k, the Monte Carlo step applied to x = 0, x = 1 (no noise) and to x = 0 with z = 1 gives B, A + B
    and B + N per direction; the law step must give the same A, B, N² (N² = None iff not stochastic), within
    1e-12 relative (a few float64 operations per step)."""
    lc = np.array([[0.0, 0.4, 2.5]])
    m = np.array([[1.0, -0.5, 2.0]])
    for grid in _probe_grids():
        K = grid.num_steps
        # the law's affine map on x: x' = A x + B + N z with B = (δ + a_{k−1} − A a_k) m
        A, B, N2 = [], [], []
        for k, (Ak, dk, n2) in zip(range(K, 0, -1), centred_steps(rec, grid, lc[0])):
            A.append(Ak)
            B.append(((0.0 if dk is None else dk) + grid.alphabar[k - 1] ** 0.5 - Ak * grid.alphabar[k] ** 0.5) * m[0])
            N2.append(n2)
        if any((n is not None) != rec.stochastic for n in N2):
            return f"law_step returns {'no' if N2[0] is None else 'a'} noise variance but stochastic={rec.stochastic}"
        eps = eigen_denoiser(grid, lc[0], m[0])
        X = np.zeros((3, lc.size))
        X[1] = 1.0
        Z = np.zeros((3, lc.size))
        Z[2] = 1.0
        for row, k in enumerate(range(K, 0, -1)):
            Y = rec.mc_step(grid, k, X, eps, Z if rec.stochastic else None)
            n2 = 0.0 if N2[row] is None else N2[row]
            for what, mc, law in (("A", Y[1] - Y[0], A[row]), ("B", Y[0], B[row]), ("N²", (Y[2] - Y[0]) ** 2, n2)):
                if not np.allclose(mc, law, rtol=1e-12, atol=1e-12):
                    return (f"{what} differs at step k = {k} of a {grid.kind} grid: Monte Carlo step {np.round(mc, 15)}, "
                            f"law step {np.round(law, 15)}")
            if not rec.stochastic:
                Yz = rec.mc_step(grid, k, X, eps, Z)
                if not np.array_equal(Yz, Y):
                    return f"mc_step uses its noise z although stochastic=False (step k = {k})"
    return None


def register(rec: Sampler) -> Sampler:
    """Add ``rec`` to :data:`SAMPLERS` after checking that its law and Monte Carlo steps agree (ValueError if not)."""
    if not isinstance(rec, Sampler):
        raise TypeError(f"register expects a Sampler record, got {type(rec).__name__}")
    err = consistency_error(rec)
    if err is not None:
        raise ValueError(f"sampler {rec.name!r}: {err}")
    SAMPLERS[rec.name] = rec
    return rec


def get_sampler(name: str) -> Sampler:
    """The record of a sampler by name (InputError ``sampler`` for unknown names)."""
    validate.choice("sampler", name, tuple(SAMPLERS))
    return SAMPLERS[name]


def step(name: str, grid: TimeGrid, k: int, x, eps: Callable, z=None):
    """One Monte Carlo step of sampler ``name`` from grid point k to k−1; ``eps(x, k)`` is the denoiser."""
    return get_sampler(name).mc_step(grid, k, x, eps, z)


@dataclass(frozen=True)
class GaussianLaw:
    """A Gaussian with independent coordinates in C's eigenbasis: N(mean, diag(var))."""

    mean: np.ndarray
    var: np.ndarray

    def kl_from(self, target_mean, target_var) -> float:
        """eq.11: D_KL(target ‖ self)."""
        return kl_divergence(target_mean, target_var, self.mean, self.var)

    def w2_to(self, target_mean, target_var) -> float:
        return wasserstein2(self.mean, self.var, target_mean, target_var)


def kl_divergence(mean0, var0, mean1, var1) -> float:
    """eq.11 for diagonal Gaussians: D_KL(N(mean0, var0) ‖ N(mean1, var1)) (via :mod:`lindiff_verify.theory.gaussian`)."""
    from .gaussian import kl_gaussian_diag

    return float(kl_gaussian_diag(np.asarray(mean0, float), np.asarray(var0, float), np.asarray(mean1, float),
                                  np.asarray(var1, float)))


def wasserstein2(mean0, var0, mean1, var1) -> float:
    """W2 distance between diagonal Gaussians (via :mod:`lindiff_verify.theory.gaussian`)."""
    from .gaussian import w2_gaussian_diag

    return float(w2_gaussian_diag(np.asarray(mean0, float), np.asarray(var0, float), np.asarray(mean1, float),
                                  np.asarray(var1, float)))


def _spectrum_and_mean(eigvals, c, mean_components):
    lam = validate.spectrum("eigvals", eigvals)
    c = validate.nonnegative("c", c)
    if mean_components is None:
        m = np.zeros_like(lam)
    else:
        m = validate.finite_array("mean_components", mean_components)
        m = np.broadcast_to(m, lam.shape).astype(float) if m.ndim == 0 else m
        if m.shape != lam.shape:
            raise InputError("mean_components", f"has shape {m.shape}", f"shape {lam.shape} (one per eigenvalue)")
    return lam, c, m


def eigen_denoiser(grid: TimeGrid, eigvals, mean_components=None, c: float = 0.0):
    """The optimal affine denoiser of eq.8 per eigen-direction: ε(x, k) = s_k (x − a_k m)/v_k."""
    lam, c, m = _spectrum_and_mean(eigvals, c, mean_components)
    lc = lam + c

    def eps(x, k):
        ab, om = float(grid.alphabar[k]), float(grid.one_minus_alphabar[k])
        xp = array_namespace(x)
        v = xp.asarray(ab * lc + om, dtype=x.dtype)
        mm = xp.asarray(m, dtype=x.dtype)
        return om**0.5 * (x - ab**0.5 * mm) / v

    return eps


def _start(lam, start_mean, start_var):
    mu = np.broadcast_to(validate.finite_array("start_mean", start_mean), lam.shape).astype(float)
    var = np.broadcast_to(validate.finite_array("start_var", start_var), lam.shape).astype(float)
    if np.any(var < 0):
        raise InputError("start_var", "has a negative entry", "variances >= 0")
    return mu.copy(), var.copy()


def _is_zero(delta: float, scale: float) -> bool:
    """δ at rounding level (|δ| ≤ 8 ε·scale): mathematically zero where a m is the step's fixed point
    (ddpm, ddim, exponential integrator), so the pass over d that would add it is skipped."""
    return abs(delta) <= 8.0 * np.finfo(float).eps * scale


def centred_steps(rec: Sampler, grid: TimeGrid, lc):
    """Yield (A, δ, N²) per step k = K, ..., 1: the step per direction in centred form, y = x − a(t) m,

        y_{k−1} = A y_k + δ m + N z,

    from the record's :class:`StepLaw` with u = y/v, v = ᾱ λ' + 1 − ᾱ (λ' = ``lc``, a 1-D array of any namespace).
    One stage: A = P + Q/v_k, δ = P a_k − a_{k−1}. Two stages: x̃ − a_{k−1} m = Ã y + e m with Ã = P1 + Q1/v_k,
    e = P1 a_k − a_{k−1}; A = P + Q/v_k + Z Ã, Z = R + Q2/v_{k−1}, δ = P a_k + R P1 a_k − a_{k−1} + Q2 e/v_{k−1}.
    A is an array over directions; δ a float, an array, or None (zero); N² a float or None (deterministic).
    Each 1/v at a grid point is computed once (the end point of a step is the start of the next)."""
    g = GridSteps.of(grid)
    law = rec.law_step(g)
    K = g.h.shape[0]
    col = lambda x: np.broadcast_to(np.asarray(x, dtype=float), (K, 1))[:, 0].tolist()  # noqa: E731
    ab, om, abp, omp, a, ap = (col(x) for x in (g.ab, g.om, g.abp, g.omp, g.a, g.ap))
    P, Q = col(law.P), col(law.Q)
    N2 = None if law.noise_var is None else col(law.noise_var)
    two = law.stage is not None
    if two:
        P1, Q1, R, Q2 = (col(x) for x in law.stage)
    U_next = None  # 1/v at the start point of the coming step, when the previous step computed it
    for i in range(K):
        n2 = None if N2 is None else N2[i]
        if not two or (R[i] == 0.0 and Q2[i] == 0.0):
            if U_next is None:
                A = Q[i] / (lc * ab[i] + om[i])
                A += P[i]
            else:
                A = Q[i] * U_next
                A += P[i]
            U_next = None
            delta = P[i] * a[i] - ap[i]
            yield A, (None if _is_zero(delta, ap[i]) else delta), n2
            continue
        U = U_next if U_next is not None else 1.0 / (lc * ab[i] + om[i])
        Up = 1.0 / (lc * abp[i] + omp[i])
        At = Q1[i] * U
        At += P1[i]
        Z = Q2[i] * Up
        Z += R[i]
        A = Q[i] * U
        A += P[i]
        A += Z * At
        e = P1[i] * a[i] - ap[i]
        d0 = P[i] * a[i] + R[i] * P1[i] * a[i] - ap[i]
        delta = (Q2[i] * e) * Up
        delta += d0
        U_next = Up
        yield A, delta, n2


def exact_moments(sampler: str, eigvals, schedule, *, c: float = 0.0, mean_components=None, num_steps=None,
                  t_stop=0, start_mean=0.0, start_var=1.0, xp=None, final_noise: bool = True):
    """Exact mean and variance of the samples per eigen-direction (the law of the discrete sampler).

    ``schedule``: a NoiseSchedule (all T steps, stop at integer ``t_stop`` ∈ [0, T)), a VPSchedule (with
    ``num_steps``, stop at t_ε = ``t_stop`` ∈ [0, 1)) or a TimeGrid. Start law N(start_mean, start_var)
    (default N(0, 1), eq.3). ``xp``: the array namespace to compute in (NumPy by default; CuPy,
    array-api-strict). Returns (mean, var) as NumPy arrays of the spectrum's shape.
    ``final_noise=False`` adds no noise at the last step (k = 1), as DDPM implementations do (z = 0 at t = 1).

    Runs the record's law step in centred form (:func:`centred_steps`): with y = mean − a m,
    y ← A y + δ m, var ← A² var + N², and mean = y + a m at the end.
    """
    if not isinstance(final_noise, bool):
        raise InputError("final_noise", f"is {final_noise!r}", "True or False")
    rec = get_sampler(sampler)
    lam, c, m = _spectrum_and_mean(eigvals, c, mean_components)
    grid = make_grid(schedule, num_steps=num_steps, t_stop=t_stop)
    mu, var = _start(lam, start_mean, start_var)
    xp = np if xp is None else xp
    shape, d = lam.shape, lam.size
    lcx = xp.asarray((lam + c).reshape(d), dtype=xp.float64)
    mx = xp.asarray(m.reshape(d), dtype=xp.float64)
    K = grid.num_steps
    y = xp.asarray((mu - np.sqrt(grid.alphabar[K]) * m).reshape(d), dtype=xp.float64, copy=True)  # in place below
    var = xp.asarray(var.reshape(d), dtype=xp.float64, copy=True)
    for i, (A, delta, n2) in enumerate(centred_steps(rec, grid, lcx)):
        y *= A
        if delta is not None:
            y += delta * mx
        var *= A
        var *= A
        if n2 is not None and (final_noise or i < K - 1):  # step i = K − k: the last one is k = 1
            var += n2
    mean = y + float(np.sqrt(grid.alphabar[0])) * mx
    return to_numpy(mean).reshape(shape), to_numpy(var).reshape(shape)


def exact_law(sampler: str, eigvals, schedule, **kw) -> GaussianLaw:
    """The exact Gaussian law of the samples in C's eigenbasis (see :func:`exact_moments`)."""
    return GaussianLaw(*exact_moments(sampler, eigvals, schedule, **kw))


def ddpm_moments(eigvals, schedule, *, c: float = 0.0, mean_components=None, variance: str = "beta", t_stop: int = 0,
                 start_mean=0.0, start_var=1.0, final_noise: bool = True):
    """docs/mathematics.md §C recursion for the DDPM sampler on a discrete schedule, written out (reference form):
    A_t = (1 − β_t/v_t)/√(1 − β_t), B_t = β_t a_t m/(v_t √(1 − β_t)); mean ← A mean + B, var ← A² var + σ_t².
    ``variance``: "beta" (σ_t² = β_t) or "beta_tilde" (σ_t² = β̃_t); ``final_noise=False``: σ = 0 at the last step."""
    validate.choice("variance", variance, ("beta", "beta_tilde"))
    if not isinstance(final_noise, bool):
        raise InputError("final_noise", f"is {final_noise!r}", "True or False")
    lam, c, m = _spectrum_and_mean(eigvals, c, mean_components)
    t_last = int(make_grid(schedule, t_stop=t_stop).t[0]) + 1
    grid = make_grid(schedule, t_stop=t_stop)
    T = schedule.num_train_timesteps
    betas = schedule.betas
    ab = schedule.alphas_cumprod
    sig2 = betas if variance == "beta" else schedule.posterior_variance
    mu, var = _start(lam, start_mean, start_var)
    lc = lam + c
    for t in range(T, int(grid.t[0]), -1):
        b, a2 = betas[t - 1], ab[t - 1]
        v = a2 * lc + 1.0 - a2
        A = (1.0 - b / v) / np.sqrt(1.0 - b)
        mu = A * mu + b * np.sqrt(a2) * m / (v * np.sqrt(1.0 - b))
        var = A * A * var + (sig2[t - 1] if final_noise or t > t_last else 0.0)
    return mu, var


def continuous_moments(eigvals, alphabar_start, alphabar_end=1.0, *, kind: str = "sde", c: float = 0.0,
                       mean_components=None, start_mean=0.0, start_var=1.0):
    """Continuous-time law (appendix C.7–C.9) from time T (ᾱ_T = ``alphabar_start``) to t (``alphabar_end``).

    With v = ᾱ(λ + c) + 1 − ᾱ, the reverse SDE transports x − a m by P = a_T v_t/(v_T a_t) and var − v by P²;
    the probability-flow ODE scales x − a m by Q = √(v_t/v_T) (so var_t = Q² var_T). Depends on the schedule
    only through the two ᾱ values.
    """
    validate.choice("kind", kind, ("sde", "ode"))
    lam, c, m = _spectrum_and_mean(eigvals, c, mean_components)
    aT = validate.probability_open("alphabar_start", alphabar_start)
    at = float(alphabar_end)
    if not (0.0 < at <= 1.0 and at >= float(aT)):
        raise InputError("alphabar_end", f"is {alphabar_end!r}", "alphabar_start <= alphabar_end <= 1")
    mu, var = _start(lam, start_mean, start_var)
    lc = lam + c
    # v = (1 − ᾱ) + ᾱ λ': 1 − ᾱ first, so that at ᾱ = 1 v is λ' exactly (not (λ' + 1) − 1, which loses a small λ')
    vT = (1.0 - aT) + aT * lc
    vt = (1.0 - at) + at * lc
    if kind == "sde":
        P = np.sqrt(aT / at) * (vt / vT)
        return np.sqrt(at) * m + P * (mu - np.sqrt(aT) * m), vt + P * P * (var - vT)
    Q2 = vt / vT
    return np.sqrt(at) * m + np.sqrt(Q2) * (mu - np.sqrt(aT) * m), Q2 * var


def ddpm_variance_bias(eigvals, schedule, *, c: float = 0.0, variance: str = "beta"):
    """Closed discretisation bias D_T of the DDPM sample variance (docs/mathematics.md §C; start N(0, 1), stop at t = 0):
    discrete variance = C.9 variance + D_T, with ᾱ_0 = 1, v_0 = λ + c,
    σ² = β:   D_T = +λ'²(1 − λ') Σ_t β_t² ᾱ_{t−1}²/(v_{t−1}² v_t),
    σ² = β̃:  D_T = −λ'³ Σ_t β_t² ᾱ_{t−1}²/(v_{t−1}² v_t (1 − ᾱ_t)),   λ' = λ + c."""
    validate.choice("variance", variance, ("beta", "beta_tilde"))
    lam, c, _ = _spectrum_and_mean(eigvals, c, None)
    lc = lam[:, None] + c
    ab = schedule.alphas_cumprod[None, :]
    abp = schedule.alphas_cumprod_prev[None, :]
    b = schedule.betas[None, :]
    v = ab * lc + schedule.one_minus_alphas_cumprod[None, :]
    vp = abp * lc + (1.0 - abp)
    # r_t = λ' ᾱ_{t−1}/v_{t−1}; r_1 = 1 exactly (v_0 = λ'), which keeps the λ' → 0 limit finite
    r = np.empty_like(v)
    r[:, 0] = 1.0
    r[:, 1:] = lc * abp[:, 1:] / vp[:, 1:]
    terms = r**2 * b**2 / v
    if variance == "beta":
        return (1.0 - lc[:, 0]) * terms.sum(axis=1)
    return -lc[:, 0] * (terms / schedule.one_minus_alphas_cumprod[None, :]).sum(axis=1)


for _rec in (
    Sampler("ddpm", True, _law_ddpm, _mc_ddpm, 1, "sde"),
    Sampler("ddpm_posterior", True, _law_ddpm_posterior, _mc_ddpm_posterior, 1, "sde"),
    Sampler("ddim", False, _law_ddim, _mc_ddim, 1, "ode"),
    Sampler("euler_maruyama", True, _law_euler_maruyama, _mc_euler_maruyama, 1, "sde"),
    Sampler("exponential_integrator", True, _law_exponential_integrator, _mc_exponential_integrator, 1, "sde"),
    Sampler("euler", False, _law_euler, _mc_euler, 1, "ode"),
    Sampler("heun", False, _law_heun, _mc_heun, 2, "ode"),
):
    register(_rec)
del _rec
