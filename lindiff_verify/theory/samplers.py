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

With the optimal affine denoiser of eq.8, ε(x, t) = s (x − a m)/v per eigen-direction of C, where
v(t) = ᾱ(t)(λ + c) + 1 − ᾱ(t). Each step is then affine per direction, x' = A x + B + N z, so the samples are
Gaussian and their mean/variance obey mean' = A mean + B, var' = A² var + N²: :func:`exact_moments`
computes this exact law in O(K·d) after one eigendecomposition. :func:`continuous_moments` gives the
continuous-time limit (appendix C.7–C.9), :func:`ddpm_variance_bias` the closed discretisation bias D_T.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from array_api_compat import array_namespace

from ..model import validate
from ..model.errors import InputError
from ..model.vp import TimeGrid, make_grid

__all__ = [
    "SAMPLERS",
    "STOCHASTIC",
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


def _coeffs(grid: TimeGrid, k: int):
    ab, abp = float(grid.alphabar[k]), float(grid.alphabar[k - 1])
    om, omp = float(grid.one_minus_alphabar[k]), float(grid.one_minus_alphabar[k - 1])
    return ab, abp, om, omp


def _ddpm(grid, k, x, eps, z, posterior=False):
    ab, abp, om, omp = _coeffs(grid, k)
    beta = 1.0 - ab / abp
    s = om**0.5
    var = beta * omp / om if posterior else beta
    out = (x - (beta / s) * eps(x, k)) / (1.0 - beta) ** 0.5
    return out if z is None else out + var**0.5 * z


def _ddim(grid, k, x, eps, z):
    ab, abp, om, omp = _coeffs(grid, k)
    e = eps(x, k)
    return abp**0.5 * (x - om**0.5 * e) / ab**0.5 + omp**0.5 * e


def _score(grid, k, x, eps):
    return -eps(x, k) / float(grid.one_minus_alphabar[k]) ** 0.5


def _euler_maruyama(grid, k, x, eps, z):
    h = float(grid.t[k] - grid.t[k - 1])
    b = float(grid.beta_rate[k])
    out = x + h * (0.5 * b * x + b * _score(grid, k, x, eps))
    return out if z is None else out + (b * h) ** 0.5 * z


def _exponential_integrator(grid, k, x, eps, z):
    ab, abp, om, omp = _coeffs(grid, k)
    r, rp = (om / ab) ** 0.5, (omp / abp) ** 0.5
    out = abp**0.5 * (x / ab**0.5 - 2.0 * (r - rp) * eps(x, k))
    return out if z is None else out + (abp / ab - 1.0) ** 0.5 * z


def _ode_drift(grid, k, x, eps):
    b = float(grid.beta_rate[k])
    return 0.5 * b * x + 0.5 * b * _score(grid, k, x, eps)


def _euler(grid, k, x, eps, z):
    return x + float(grid.t[k] - grid.t[k - 1]) * _ode_drift(grid, k, x, eps)


def _heun(grid, k, x, eps, z):
    h = float(grid.t[k] - grid.t[k - 1])
    d1 = _ode_drift(grid, k, x, eps)
    xe = x + h * d1
    if float(grid.one_minus_alphabar[k - 1]) <= 0.0:  # t_{k-1} = 0: Euler step (score undefined there)
        return xe
    return x + 0.5 * h * (d1 + _ode_drift(grid, k - 1, xe, eps))


#: name -> step(grid, k, x, eps, z) returning x_{k−1}; z is standard normal noise (None: no noise)
SAMPLERS: dict[str, Callable] = {
    "ddpm": _ddpm,
    "ddpm_posterior": lambda g, k, x, e, z: _ddpm(g, k, x, e, z, posterior=True),
    "ddim": _ddim,
    "euler_maruyama": _euler_maruyama,
    "exponential_integrator": _exponential_integrator,
    "euler": _euler,
    "heun": _heun,
}
#: samplers that draw noise z at each step
STOCHASTIC = frozenset({"ddpm", "ddpm_posterior", "euler_maruyama", "exponential_integrator"})
#: the continuous-time process each sampler discretises
CONTINUOUS_KIND = {"ddpm": "sde", "ddpm_posterior": "sde", "euler_maruyama": "sde",
                   "exponential_integrator": "sde", "ddim": "ode", "euler": "ode", "heun": "ode"}


def sampler_step(name: str) -> Callable:
    """The step function of a sampler by name (InputError ``sampler`` for unknown names)."""
    validate.choice("sampler", name, tuple(SAMPLERS))
    return SAMPLERS[name]


def step(name: str, grid: TimeGrid, k: int, x, eps: Callable, z=None):
    """One step of sampler ``name`` from grid point k to k−1; ``eps(x, k)`` is the denoiser."""
    return sampler_step(name)(grid, k, x, eps, z)


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


def exact_moments(sampler: str, eigvals, schedule, *, c: float = 0.0, mean_components=None, num_steps=None,
                  t_stop=0, start_mean=0.0, start_var=1.0, final_noise: bool = True):
    """Exact mean and variance of the samples per eigen-direction (the law of the discrete sampler).

    ``schedule``: a NoiseSchedule (all T steps, stop at integer ``t_stop`` ∈ [0, T)), a VPSchedule (with
    ``num_steps``, stop at t_ε = ``t_stop`` ∈ [0, 1)) or a TimeGrid. Start law N(start_mean, start_var)
    (default N(0, 1), eq.3). ``final_noise=False`` adds no noise at the last step (k = 1), as DDPM
    implementations do (z = 0 at t = 1). Returns (mean, var) as NumPy arrays of the spectrum's shape.
    """
    if not isinstance(final_noise, bool):
        raise InputError("final_noise", f"is {final_noise!r}", "True or False")
    step_fn = sampler_step(sampler)
    lam, c, m = _spectrum_and_mean(eigvals, c, mean_components)
    grid = make_grid(schedule, num_steps=num_steps, t_stop=t_stop)
    mu, var = _start(lam, start_mean, start_var)
    eps = eigen_denoiser(grid, lam, m, c)
    d = lam.size
    # one evaluation on stacked rows: x = 0, x = 1 (no noise) and x = 0 with z = 1 gives B, A and N per direction
    X = np.zeros((3, d))
    X[1] = 1.0
    Z = np.zeros((3, d))
    Z[2] = 1.0
    noisy = sampler in STOCHASTIC
    for k in range(grid.num_steps, 0, -1):
        Y = step_fn(grid, k, X, eps, Z if noisy else None)
        B = Y[0]
        A = Y[1] - B
        mu = A * mu + B
        var = A * A * var
        if noisy and (final_noise or k > 1):
            N = Y[2] - B
            var = var + N * N
    return mu, var


def exact_law(sampler: str, eigvals, schedule, **kw) -> GaussianLaw:
    """The exact Gaussian law of the samples in C's eigenbasis (see :func:`exact_moments`)."""
    return GaussianLaw(*exact_moments(sampler, eigvals, schedule, **kw))


def ddpm_moments(eigvals, schedule, *, c: float = 0.0, mean_components=None, variance: str = "beta", t_stop: int = 0,
                 start_mean=0.0, start_var=1.0, final_noise: bool = True):
    """MATH.md §C recursion for the DDPM sampler on a discrete schedule, written out (reference form):
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
    vT = aT * lc + 1.0 - aT
    vt = at * lc + 1.0 - at
    if kind == "sde":
        P = np.sqrt(aT) * vt / (vT * np.sqrt(at))
        return np.sqrt(at) * m + P * (mu - np.sqrt(aT) * m), vt + P * P * (var - vT)
    Q = np.sqrt(vt / vT)
    return np.sqrt(at) * m + Q * (mu - np.sqrt(aT) * m), Q * Q * var


def ddpm_variance_bias(eigvals, schedule, *, c: float = 0.0, variance: str = "beta"):
    """Closed discretisation bias D_T of the DDPM sample variance (MATH.md §C; start N(0, 1), stop at t = 0):
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
