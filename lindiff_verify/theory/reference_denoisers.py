r"""Reference denoisers for §5 of the paper (docs/mathematics.md §F.10), behind one protocol.

A *denoiser* is any callable ``eps(x, t)``: ``x`` an (n, d) array of noised inputs x_t = a_t x_0 + s_t ε,
``t`` a 1-based DDPM timestep (1..T of the schedule), returning the (n, d) noise prediction. Three references:

* :func:`linear_denoiser` — eq.8 fitted to a training set: ε(x, t) = W_t (x − a_t m),
  W_t = s_t (ᾱ_t C + (1 − ᾱ_t + γ_t) I)^{-1}, γ_t = c ᾱ_t;
* :func:`population_denoiser` — the population optimum for Gaussian p0 = N(μ0, Σ0): eq.8 with C = Σ0, m = μ0,
  γ = 0. Over *all* functions it is the minimiser of the test loss (the posterior mean of a Gaussian is affine);
* :class:`EmpiricalOptimalDenoiser` — the unconstrained minimiser of the training loss over N points, the
  posterior mean under the empirical distribution: ε(x, t) = (x − a_t Σ_μ w_μ x^μ)/s_t with
  w_μ = softmax_μ(−‖x − a_t x^μ‖²/(2 s_t²)) (log-sum-exp form, stable at small t). Its samples collapse onto
  training points (memorisation).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from array_api_compat import array_namespace

from ..model import validate
from ..model.errors import InputError
from ..model.schedules import NoiseSchedule
from .denoiser import LinearDenoiser

__all__ = ["Denoiser", "AffineDenoiser", "linear_denoiser", "population_denoiser", "EmpiricalOptimalDenoiser",
           "check_inputs"]


@runtime_checkable
class Denoiser(Protocol):
    """``eps(x, t) -> ε̂``: (n, d) inputs at 1-based timestep t, (n, d) noise prediction."""

    def __call__(self, x, t: int): ...


def _schedule(schedule) -> NoiseSchedule:
    if not isinstance(schedule, NoiseSchedule):
        raise InputError("schedule", f"is {type(schedule).__name__}", "a NoiseSchedule (discrete DDPM timesteps)")
    return schedule


def check_inputs(x, t: int, d: int, T: int):
    """Validate a denoiser call: ``x`` of shape (n, d), ``t`` an integer in 1..T; returns the 0-based index."""
    if getattr(x, "ndim", None) != 2 or int(x.shape[1]) != d:
        raise InputError("x", f"has shape {tuple(getattr(x, 'shape', ()))}", f"a 2-d array (n, {d})")
    if isinstance(t, bool) or not float(t).is_integer() or not 1 <= int(t) <= T:
        raise InputError("t", f"is {t!r}", f"an integer timestep 1 <= t <= T = {T}")
    return int(t) - 1


class AffineDenoiser:
    """ε(x, t) = W_t (x − a_t m) with W_t = U diag(w_t) Uᵀ (eq.8), from a :class:`LinearDenoiser`."""

    def __init__(self, model: LinearDenoiser, schedule: NoiseSchedule, label: str = "linear"):
        self.model = model
        self.schedule = _schedule(schedule)
        if model.num_train_timesteps != schedule.num_train_timesteps:
            raise InputError("schedule", f"has T = {schedule.num_train_timesteps}",
                             f"the linear model's T = {model.num_train_timesteps}")
        self.label = label
        self._w = np.asarray(model.coefficients())
        self._U = np.asarray(model.eigenvectors)
        self._m = np.asarray(model.mean)
        self._a = schedule.sqrt_alphas_cumprod

    @property
    def d(self) -> int:
        return self.model.d

    @property
    def eigenvectors(self):
        return self._U

    def W(self, t: int):
        """Dense W_t (d×d)."""
        return np.asarray(self.model.W(t))

    def b(self, t: int):
        """Dense b_t = −a_t W_t m (d,)."""
        return np.asarray(self.model.b(t))

    def __call__(self, x, t: int):
        i = check_inputs(x, t, self.d, self.schedule.num_train_timesteps)
        xp = array_namespace(x)
        U, w, m = (xp.asarray(v, dtype=x.dtype) for v in (self._U, self._w[i], self._m))
        return (((x - float(self._a[i]) * m) @ U) * w) @ U.T


def linear_denoiser(x_train, schedule, *, c: float = 0.0, estimated_mean: bool = True) -> AffineDenoiser:
    """eq.8 fitted to the rows of ``x_train`` (γ_t = c·ᾱ_t)."""
    x = validate.finite_array("x_train", x_train, ndim=2)
    return AffineDenoiser(LinearDenoiser.from_data(x, _schedule(schedule), estimated_mean=estimated_mean, c=c),
                          schedule, label=f"linear (eq.8, c={c:g})")


def population_denoiser(mu0, Sigma0, schedule) -> AffineDenoiser:
    """The population optimum for p0 = N(μ0, Σ0): eq.8 with C = Σ0, m = μ0, γ = 0."""
    S = validate.finite_array("Sigma0", Sigma0, ndim=2)
    mu = validate.finite_array("mu0", mu0, shape=(S.shape[0],))
    return AffineDenoiser(LinearDenoiser.fit(S, mu, _schedule(schedule)), schedule, label="population optimum")


class EmpiricalOptimalDenoiser:
    """The posterior mean under the empirical distribution (the exact minimiser of the training loss, §F.10).

    ε(x, t) = (x − a_t x̂(x, t))/s_t,  x̂ = Σ_μ w_μ x^μ,  log w_μ = −‖x − a_t x^μ‖²/(2 s_t²) − logsumexp(·).
    Inputs are processed in chunks of ``chunk`` rows (memory O(chunk·N)).
    """

    label = "empirical optimum (memorising)"

    def __init__(self, x_train, schedule, chunk: int = 4096):
        self.x_train = validate.finite_array("x_train", x_train, ndim=2)
        if self.x_train.shape[0] < 1:
            raise InputError("x_train", "has no rows", "at least one training point")
        self.schedule = _schedule(schedule)
        self.chunk = validate.positive_int("chunk", chunk)
        self._sq = np.sum(self.x_train**2, axis=1)

    @property
    def d(self) -> int:
        return int(self.x_train.shape[1])

    def log_weights(self, x, t: int):
        """log w_μ(x) for each row of x, shape (n, N) (normalised: logsumexp over μ is 0)."""
        i = check_inputs(x, t, self.d, self.schedule.num_train_timesteps)
        xp = array_namespace(x)
        X, sq = xp.asarray(self.x_train, dtype=x.dtype), xp.asarray(self._sq, dtype=x.dtype)
        a, s2 = float(self.schedule.sqrt_alphas_cumprod[i]), float(self.schedule.one_minus_alphas_cumprod[i])
        # ‖x − a x^μ‖² up to the μ-independent ‖x‖², which the normalisation removes
        logits = (2.0 * a * (x @ X.T) - a * a * sq[None, :]) / (2.0 * s2)
        top = xp.max(logits, axis=1, keepdims=True)
        return logits - (top + xp.log(xp.sum(xp.exp(logits - top), axis=1, keepdims=True)))

    def denoised(self, x, t: int):
        """x̂(x, t) = E[x_0 | x_t = x] under the empirical distribution, shape (n, d)."""
        xp = array_namespace(x)
        X = xp.asarray(self.x_train, dtype=x.dtype)
        if int(x.shape[0]) == 0:
            return xp.zeros((0, self.d), dtype=x.dtype)
        n = int(x.shape[0])
        parts = [xp.exp(self.log_weights(x[j:min(j + self.chunk, n), ...], t)) @ X for j in range(0, n, self.chunk)]
        return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)

    def __call__(self, x, t: int):
        i = check_inputs(x, t, self.d, self.schedule.num_train_timesteps)
        a, s = float(self.schedule.sqrt_alphas_cumprod[i]), float(self.schedule.sqrt_one_minus_alphas_cumprod[i])
        return (x - a * self.denoised(x, t)) / s
