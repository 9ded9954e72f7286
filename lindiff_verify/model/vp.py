r"""Time grids for samplers: discrete DDPM schedules and the continuous VP schedule (appendix C.1).

A sampler walks a grid t_0 < t_1 < ... < t_K from t_K down to t_0 (t_0 = the stopping time).
At each point it needs ᾱ(t_k) and the rate β(t_k) of the forward SDE dx = −½β x dt + √β dw.

* Discrete DDPM schedule (eq.1): time is counted in steps, t_k = k, ᾱ(k) = ``alphas_cumprod[k-1]``
  (ᾱ(0) = 1), β(k) = β_k per step (step length h = 1).
* Continuous VP schedule: β(t) = β_min + t(β_max − β_min), t ∈ [0, 1],
  ᾱ(t) = exp(−β_min t − ½(β_max − β_min) t²); the grid is uniform with ``num_steps`` steps on [t_ε, 1].
  The DDPM linear schedule with T steps is the VP schedule with β_min = T·beta_start, β_max = T·beta_end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import validate
from .errors import InputError
from .schedules import NoiseSchedule

__all__ = ["VPSchedule", "TimeGrid", "discrete_grid", "vp_grid", "make_grid", "discretise_vp", "DISCRETISATIONS",
           "BETA_CONVENTIONS"]


@dataclass(frozen=True)
class VPSchedule:
    """Continuous variance-preserving schedule with linear β(t) (Song et al. 2021), t ∈ [0, 1]."""

    beta_min: float = 0.1
    beta_max: float = 20.0

    def __post_init__(self):
        validate.positive("beta_min", self.beta_min)
        validate.positive("beta_max", self.beta_max)

    def beta(self, t):
        return self.beta_min + np.asarray(t, dtype=float) * (self.beta_max - self.beta_min)

    def log_alphabar(self, t):
        t = np.asarray(t, dtype=float)
        return -(self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t**2)

    def alphabar(self, t):
        return np.exp(self.log_alphabar(t))

    @property
    def T(self) -> float:
        return 1.0


@dataclass(frozen=True)
class TimeGrid:
    """Grid points t (ascending, K+1 of them), ᾱ(t), 1 − ᾱ(t) and the rate β(t) at each point."""

    t: np.ndarray
    alphabar: np.ndarray
    one_minus_alphabar: np.ndarray
    beta_rate: np.ndarray
    kind: str

    @property
    def num_steps(self) -> int:
        return int(self.t.size - 1)


def discrete_grid(schedule: NoiseSchedule, t_stop: int = 0) -> TimeGrid:
    """All T steps of a DDPM schedule from t = T down to ``t_stop`` (an integer in [0, T))."""
    if not isinstance(schedule, NoiseSchedule):
        raise InputError("schedule", f"is {type(schedule).__name__}", "a NoiseSchedule or VPSchedule")
    T = schedule.num_train_timesteps
    if isinstance(t_stop, bool) or not float(t_stop).is_integer() or not 0 <= t_stop < T:
        raise InputError("t_stop", f"is {t_stop!r}", f"an integer step in [0, T) = [0, {T})")
    t_stop = int(t_stop)
    ab = np.concatenate([[1.0], schedule.alphas_cumprod])
    omab = np.concatenate([[0.0], schedule.one_minus_alphas_cumprod])
    rate = np.concatenate([[schedule.betas[0]], schedule.betas])
    t = np.arange(T + 1, dtype=float)
    sl = slice(t_stop, None)
    return TimeGrid(t[sl], ab[sl], omab[sl], rate[sl], "discrete")


def vp_grid(vp: VPSchedule, num_steps: int, t_stop: float = 0.0) -> TimeGrid:
    """Uniform grid of ``num_steps`` steps on [t_stop, 1] for a continuous VP schedule."""
    K = validate.positive_int("num_steps", num_steps)
    t_stop = validate.nonnegative("t_stop", t_stop)
    if not 0.0 <= t_stop < vp.T:
        raise InputError("t_stop", f"is {t_stop!r}", "a stopping time t_ε in [0, T) = [0, 1)")
    t = np.linspace(t_stop, 1.0, K + 1)
    la = vp.log_alphabar(t)
    return TimeGrid(t, np.exp(la), -np.expm1(la), vp.beta(t), "vp")


def make_grid(schedule, *, num_steps: int | None = None, t_stop=0) -> TimeGrid:
    """A grid from a NoiseSchedule (all its steps; ``num_steps`` must be None or T) or a VPSchedule."""
    if isinstance(schedule, TimeGrid):
        return schedule
    if isinstance(schedule, VPSchedule):
        if num_steps is None:
            raise InputError("num_steps", "is missing", "an integer >= 1 for a continuous VP schedule")
        return vp_grid(schedule, num_steps, t_stop)
    if isinstance(schedule, NoiseSchedule):
        if num_steps is not None:
            n = validate.positive_int("num_steps", num_steps)
            if n != schedule.num_train_timesteps:
                raise InputError("num_steps", f"is {n}", f"None or T = {schedule.num_train_timesteps} for a discrete schedule")
        return discrete_grid(schedule, t_stop)
    raise InputError("schedule", f"is {type(schedule).__name__}", "a NoiseSchedule, VPSchedule or TimeGrid")


# ---- Discretising a continuous VP schedule into DDPM steps (docs/fidelity.md "Discretisation") ------------------
#: How β_k of the k-th DDPM step is read off the continuous schedule, by name.
DISCRETISATIONS = ("alphabar_ratio", "rate")
#: How the continuous β(t) is written: Song et al.'s dx = −½β x dt + √β dw (ᾱ(t) = exp(−∫β)), or the halved
#: convention dx = −β x dt + √(2β) dw (ᾱ(t) = exp(−2∫β), e.g. Pierret & Galerne, ICML 2025).
BETA_CONVENTIONS = ("song", "halved")


def discretise_vp(vp: VPSchedule, num_steps: int, *, method: str = "alphabar_ratio", convention: str = "song",
                  t_stop: float = 0.0) -> NoiseSchedule:
    r"""The DDPM schedule β_1..β_K of a continuous VP schedule on the uniform grid t_k = t_stop + k·Δt.

    ``num_steps`` = K is the number of *steps*; the grid has K + 1 points t_0 = t_stop < … < t_K = 1 and
    Δt = (1 − t_stop)/K. ``vp.beta`` is read in ``convention`` ("song": ᾱ(t) = exp(−∫β); "halved":
    ᾱ(t) = exp(−2∫β), so the same numbers mean a process twice as fast). ``method``:

    * ``"alphabar_ratio"`` — β_k = 1 − ᾱ(t_k)/ᾱ(t_{k−1}): the discrete ᾱ_k equals ᾱ(t_k)/ᾱ(t_0) exactly;
    * ``"rate"`` — β_k = Δt·β_song(t_k), i.e. β_k = 2Δt·β(t_k) in the halved convention (Pierret & Galerne);
      ᾱ_k matches ᾱ(t_k) only to O(Δt).

    Returns a :class:`~lindiff_verify.model.schedules.NoiseSchedule` whose step k is grid step k.
    """
    if not isinstance(vp, VPSchedule):
        raise InputError("vp", f"is {type(vp).__name__}", "a VPSchedule")
    K = validate.positive_int("num_steps", num_steps)
    validate.choice("method", method, DISCRETISATIONS)
    validate.choice("convention", convention, BETA_CONVENTIONS)
    t_stop = validate.nonnegative("t_stop", t_stop)
    if not t_stop < vp.T:
        raise InputError("t_stop", f"is {t_stop!r}", "a stopping time in [0, 1)")
    factor = 1.0 if convention == "song" else 2.0  # β_song(t) = factor · vp.beta(t)
    t = np.linspace(t_stop, vp.T, K + 1)
    if method == "alphabar_ratio":
        log_ab = factor * vp.log_alphabar(t)
        betas = -np.expm1(np.diff(log_ab))
    else:
        betas = (t[1] - t[0]) * factor * vp.beta(t[1:])
    if np.any(betas >= 1.0):
        raise InputError("num_steps", f"is {K}", f"large enough that every β_k < 1 (max β_k = {betas.max():.3g})")
    from .schedules import from_betas

    sch = from_betas(betas, name=f"vp[{method},{convention}]")
    object.__setattr__(sch, "params", {"num_train_timesteps": K, "beta_min": vp.beta_min, "beta_max": vp.beta_max,
                                       "method": method, "convention": convention, "t_stop": t_stop})
    return sch
