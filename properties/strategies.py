"""Shared Hypothesis strategies (arguments validated eagerly, keyword-only).

* :func:`spectra` — 1-d float64 arrays of eigenvalues (optionally of one named kind);
* :func:`schedules` — :class:`lindiff_verify.model.schedules.NoiseSchedule` objects (linear / constant / cosine);
* :func:`alphabars` — ᾱ values in (0, 1) away from the ends by ``margin``;
* :func:`n_samples` — training-set sizes N (≥ 2 with an estimated mean);
* :func:`regularisation` — c ≥ 0 (γ_t = c ᾱ_t), optionally including exactly 0;
* :func:`eigenvalues` — eigenvalue arrays drawn uniformly in [lo, hi] (0 allowed: singular C);
* :func:`short_schedules` — constant or linear DDPM schedules with few steps and ᾱ_T not too small.

The one home of the property tests' strategies; strategies for a derivation check's parameters are inferred
from its declared domains (:mod:`lindiff_verify.verification.domains`).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from lindiff_verify.model import schedules as _schedules
from lindiff_verify.model import spectra as _spectra
from lindiff_verify.model.errors import InputError

__all__ = ["spectra", "schedules", "alphabars", "n_samples", "regularisation", "eigenvalues", "short_schedules",
           "KINDS"]

KINDS = ("white", "power_law", "two_point", "spiked", "random")


def _int_range(name, lo, hi, minimum):
    if not isinstance(lo, int) or not isinstance(hi, int) or lo < minimum or hi < lo:
        raise InputError(name, f"is ({lo!r}, {hi!r})", f"integers {minimum} <= min <= max")


def spectra(*, min_dim: int = 1, max_dim: int = 16, kind: str | None = None, min_value: float = 1e-3,
            max_value: float = 1e2, allow_zero: bool = False):
    """Spectra of dimension min_dim..max_dim, values in [min_value, max_value] (or 0 when ``allow_zero``)."""
    _int_range("min_dim/max_dim", min_dim, max_dim, 1)
    if kind is not None and kind not in KINDS:
        raise InputError("kind", f"is {kind!r}", "None or one of " + ", ".join(KINDS))
    if not (0 < min_value <= max_value < np.inf):
        raise InputError("min_value/max_value", f"are ({min_value!r}, {max_value!r})", "0 < min_value <= max_value < inf")
    dims = st.integers(min_dim, max_dim)
    vals = st.floats(min_value, max_value, allow_nan=False)

    def build(k):
        if k == "white":
            return st.builds(lambda dd, s: _spectra.white(dd, s), dims, vals)
        if k == "power_law":
            return st.builds(lambda dd, e: np.clip(_spectra.power_law(dd, e, max_value), min_value, max_value),
                             dims, st.floats(0.0, 2.0))
        if k == "two_point":
            return st.builds(lambda dd, lo, hi, f: _spectra.two_point(dd, min(lo, hi), max(lo, hi), f),
                             dims, vals, vals, st.floats(0.0, 1.0))
        if k == "spiked":
            return dims.flatmap(lambda dd: st.builds(
                lambda sp_, bulk: _spectra.spiked(dd, sp_, bulk),
                st.lists(vals, max_size=min(dd, 3)), vals))
        elem = st.one_of(vals, st.just(0.0)) if allow_zero else vals
        return dims.flatmap(lambda dd: st.lists(elem, min_size=dd, max_size=dd).map(
            lambda v: np.sort(np.array(v, dtype=np.float64))[::-1].copy()))

    if kind is not None:
        return build(kind)
    return st.sampled_from(KINDS).flatmap(build)


def schedules(*, min_steps: int = 1, max_steps: int = 200, kinds=("linear", "constant", "cosine")):
    """NoiseSchedule objects with num_train_timesteps in [min_steps, max_steps]."""
    _int_range("min_steps/max_steps", min_steps, max_steps, 1)
    kinds = tuple(kinds)
    bad = [k for k in kinds if k not in _schedules.SCHEDULES]
    if not kinds or bad:
        raise InputError("kinds", f"is {kinds!r}", "a non-empty subset of " + ", ".join(_schedules.SCHEDULES))
    T = st.integers(min_steps, max_steps)
    beta = st.floats(1e-5, 0.2)

    def build(k):
        if k == "linear":
            return st.builds(lambda t, b0, b1: _schedules.linear(t, min(b0, b1), max(b0, b1)), T, beta, beta)
        if k == "constant":
            return st.builds(lambda t, b: _schedules.constant(b, t), T, beta)
        return st.builds(lambda t: _schedules.cosine(t), T)

    return st.sampled_from(kinds).flatmap(build)


def alphabars(*, margin: float = 1e-3):
    """ᾱ in [margin, 1 − margin]."""
    if not (0 < margin < 0.5):
        raise InputError("margin", f"is {margin!r}", "0 < margin < 0.5")
    return st.floats(margin, 1 - margin, allow_nan=False)


def n_samples(*, estimated_mean: bool = True, max_n: int = 64):
    """Training-set sizes: 2..max_n (estimated mean) or 1..max_n (known mean)."""
    lo = 2 if estimated_mean else 1
    _int_range("max_n", lo, max_n, lo)
    return st.integers(lo, max_n)


def regularisation(*, max_c: float = 10.0, allow_zero: bool = True):
    """c ≥ 0 for γ_t = c ᾱ_t (0 included unless ``allow_zero`` is False)."""
    if not (max_c > 0 and np.isfinite(max_c)):
        raise InputError("max_c", f"is {max_c!r}", "a finite number > 0")
    pos = st.floats(1e-4, max_c, allow_nan=False)
    return st.one_of(st.just(0.0), pos) if allow_zero else pos


def eigenvalues(*, min_size: int = 1, max_size: int = 4, lo: float = 0.0, hi: float = 8.0):
    """Eigenvalue arrays of ``min_size``..``max_size`` entries in [lo, hi]."""
    _int_range("min_size/max_size", min_size, max_size, 1)
    if not 0 <= lo < hi:
        raise InputError("lo/hi", f"is ({lo!r}, {hi!r})", "0 <= lo < hi")
    return st.lists(st.floats(lo, hi, allow_nan=False, allow_infinity=False), min_size=min_size,
                    max_size=max_size).map(np.array)


def short_schedules(*, max_T: int = 40):
    """Constant or linear DDPM schedules with 5..max_T steps and ᾱ_T not too small."""
    _int_range("max_T", 5, max_T, 5)
    const = st.builds(lambda b, T: _schedules.constant(b, T), st.floats(0.005, 0.08), st.integers(5, max_T))
    lin = st.builds(lambda T, b0, b1: _schedules.linear(num_train_timesteps=T, beta_start=b0, beta_end=b1),
                    st.integers(5, max_T), st.floats(1e-3, 0.02), st.floats(0.02, 0.1))
    return st.one_of(const, lin)
