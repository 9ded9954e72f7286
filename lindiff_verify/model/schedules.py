r"""DDPM noise schedules (paper §2, eq.1).

Indexing convention (the paper's): diffusion steps are t = 1, ..., T with T = ``num_train_timesteps``.
Arrays are 0-based, so ``betas[t - 1]`` is β_t and ``alphas_cumprod[t - 1]`` is ᾱ_t = Π_{s≤t}(1 − β_s).
ᾱ_0 = 1 (clean data) is ``alphas_cumprod_prev[0]``. This matches diffusers, whose ``alphas_cumprod[k]``
is our ᾱ_{k+1}. Forward process: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (eq.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import numpy as np

from . import validate
from .errors import InputError

__all__ = ["NoiseSchedule", "linear", "merger_goldt", "constant", "cosine", "from_betas", "make_schedule", "SCHEDULES",
           "PAPER_SCHEDULE"]


@dataclass(frozen=True)
class NoiseSchedule:
    """A discrete variance schedule β_1..β_T in float64, with the derived quantities diffusers uses."""

    betas: np.ndarray
    name: str = "custom"
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        b = validate.probability_open("betas", self.betas)
        if b.ndim != 1 or b.size == 0:
            raise InputError("betas", f"has shape {b.shape}", "a non-empty 1-d array of β_t, t = 1..T")
        b = b.copy()
        b.setflags(write=False)
        object.__setattr__(self, "betas", b)

    @property
    def num_train_timesteps(self) -> int:
        return int(self.betas.size)

    T = num_train_timesteps

    @property
    def alphas(self) -> np.ndarray:
        """α_t = 1 − β_t."""
        return 1.0 - self.betas

    @property
    def alphas_cumprod(self) -> np.ndarray:
        """ᾱ_t = Π_{s≤t} α_s for t = 1..T (computed as exp Σ log1p(−β) for accuracy)."""
        return np.exp(np.cumsum(np.log1p(-self.betas)))

    @property
    def alphas_cumprod_prev(self) -> np.ndarray:
        """ᾱ_{t−1} for t = 1..T, with ᾱ_0 = 1."""
        return np.concatenate([[1.0], self.alphas_cumprod[:-1]])

    @property
    def sqrt_alphas_cumprod(self) -> np.ndarray:
        """a_t = √ᾱ_t."""
        return np.sqrt(self.alphas_cumprod)

    @property
    def sqrt_one_minus_alphas_cumprod(self) -> np.ndarray:
        """s_t = √(1 − ᾱ_t), computed as √(−expm1(Σ log α)) to keep small-t accuracy."""
        return np.sqrt(-np.expm1(np.cumsum(np.log1p(-self.betas))))

    @property
    def one_minus_alphas_cumprod(self) -> np.ndarray:
        return -np.expm1(np.cumsum(np.log1p(-self.betas)))

    @property
    def posterior_variance(self) -> np.ndarray:
        """β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t)  (β̃_1 = 0)."""
        omp = self.one_minus_alphas_cumprod
        omp_prev = np.concatenate([[0.0], omp[:-1]])
        return self.betas * omp_prev / omp

    def timestep(self, t: int) -> int:
        """Validate a 1-based timestep and return it."""
        t = validate.positive_int("t", t)
        if t > self.num_train_timesteps:
            raise InputError("t", f"is {t}", f"1 <= t <= num_train_timesteps = {self.num_train_timesteps}")
        return t

    def mp_betas(self) -> list:
        """β_t as mpmath numbers (the float64 values taken exactly)."""
        return [mpmath.mpf(float(b)) for b in self.betas]

    def mp_alphas_cumprod(self) -> list:
        """ᾱ_t in mpmath at the current working precision, from the exact float64 betas."""
        out, acc = [], mpmath.mpf(1)
        for b in self.mp_betas():
            acc *= 1 - b
            out.append(acc)
        return out

    def describe(self) -> str:
        p = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}({p})" if p else self.name


def linear(num_train_timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 2e-2) -> NoiseSchedule:
    """Linear DDPM schedule (Ho et al. 2020): β_t from ``beta_start`` (t = 1) to ``beta_end`` (t = T).

    Not the paper's schedule: that is :func:`merger_goldt` (β_max = 1e-2)."""
    T = validate.positive_int("num_train_timesteps", num_train_timesteps)
    validate.probability_open("beta_start", beta_start)
    validate.probability_open("beta_end", beta_end)
    betas = np.linspace(beta_start, beta_end, T, dtype=np.float64)
    return NoiseSchedule(betas, "linear", {"num_train_timesteps": T, "beta_start": beta_start, "beta_end": beta_end})


def merger_goldt(num_train_timesteps: int = 1000) -> NoiseSchedule:
    r"""The authors' schedule (Merger & Goldt, docs/mathematics.md §F.1): β_t = 1e-4 + (1e-2 − 1e-4)·t/T, t = 1..T.

    β_max = 1e-2 (half of Ho et al.'s 2e-2), so ᾱ_T ≈ 6.3e-3 at T = 1000 (Ho et al.: 4.0e-5) and ᾱ_50 ≈ 0.9825.
    Note β_1 = 1e-4 + 9.9e-3/T (the formula is evaluated at t = 1, not at t = 0 as ``linear`` does).
    """
    T = validate.positive_int("num_train_timesteps", num_train_timesteps)
    t = np.arange(1, T + 1, dtype=np.float64)
    betas = 1e-4 + (1e-2 - 1e-4) * t / T
    return NoiseSchedule(betas, "merger_goldt", {"num_train_timesteps": T})


def constant(beta: float = 1e-2, num_train_timesteps: int = 1000) -> NoiseSchedule:
    """Constant schedule β_t = β (appendix C.3.1)."""
    T = validate.positive_int("num_train_timesteps", num_train_timesteps)
    validate.probability_open("beta", beta)
    return NoiseSchedule(np.full(T, float(beta)), "constant", {"num_train_timesteps": T, "beta": beta})


def cosine(num_train_timesteps: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> NoiseSchedule:
    """Cosine schedule (Nichol & Dhariwal 2021): ᾱ(t) ∝ cos²((t/T + s)/(1 + s)·π/2), β clipped at ``max_beta``."""
    T = validate.positive_int("num_train_timesteps", num_train_timesteps)
    validate.positive("s", s)
    validate.probability_open("max_beta", max_beta)
    f = lambda u: np.cos((u + s) / (1 + s) * np.pi / 2) ** 2  # noqa: E731
    t = np.arange(T + 1, dtype=np.float64) / T
    betas = np.minimum(1 - f(t[1:]) / f(t[:-1]), max_beta)
    return NoiseSchedule(betas, "cosine", {"num_train_timesteps": T, "s": s, "max_beta": max_beta})


def from_betas(betas, name: str = "custom") -> NoiseSchedule:
    """Any explicit array of betas in (0, 1)."""
    return NoiseSchedule(np.asarray(betas, dtype=np.float64), name, {"num_train_timesteps": int(np.size(betas))})


SCHEDULES = {"linear": linear, "merger_goldt": merger_goldt, "constant": constant, "cosine": cosine}

#: The name of the schedule every number labelled "the paper's" uses (docs/mathematics.md §F.1).
PAPER_SCHEDULE = "merger_goldt"


def make_schedule(name: str = "linear", **kwargs) -> NoiseSchedule:
    """Build a schedule by name: ``linear`` (Ho et al.), ``merger_goldt`` (the paper's), ``constant`` or ``cosine``."""
    validate.choice("schedule", name, tuple(SCHEDULES))
    return SCHEDULES[name](**kwargs)
