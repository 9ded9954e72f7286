"""A weighted spectrum is the same law as its eigenvalues repeated: every public function that takes
``multiplicities`` gives, for (σ_j, m_j), what it gives for the spectrum with σ_j written out m_j times.

The two evaluations add the same d terms in a different grouping (and, for the solvers, stop at the same
relative residual), so they agree to a few float64 roundings per term: rtol = 64·d·eps (or 10^(4−dps) at mpmath
precision dps). Distinct multiplicities make a dropped or misapplied weight change the answer at O(1).
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lindiff_verify.theory import next_order, real_gaussian, replica, stieltjes

EPS = np.finfo(float).eps


@st.composite
def weighted(draw):
    """(distinct eigenvalues, multiplicities 1..4 not all equal, N, z)."""
    k = draw(st.integers(2, 5))
    sig = np.array(sorted(draw(st.lists(st.floats(0.05, 5.0), min_size=k, max_size=k, unique=True))))
    mult = np.array(draw(st.lists(st.integers(1, 4), min_size=k, max_size=k).filter(lambda m: len(set(m)) > 1)))
    n = draw(st.integers(2, 40))
    z = draw(st.floats(0.05, 5.0))
    return sig, mult, n, z


def _as_array(v):
    if hasattr(v, "__dataclass_fields__"):
        return np.concatenate([np.ravel(np.asarray(getattr(v, f), dtype=complex)) for f in v.__dataclass_fields__
                               if np.asarray(getattr(v, f)).dtype.kind in "fc"])
    if isinstance(v, dict):
        return np.concatenate([np.ravel(np.asarray(v[k], dtype=complex)) for k in sorted(v)])
    if isinstance(v, tuple):
        return np.concatenate([np.ravel(np.asarray(x, dtype=complex)) for x in v])
    return np.ravel(np.asarray(v, dtype=complex))


def _per_direction(x, mult):
    """A per-direction result of a weighted spectrum, written out like its repeated eigenvalues."""
    return x if mult is None else np.repeat(x, mult)


# name → f(spectrum, n, z, multiplicities)
FLOAT64 = {
    "stieltjes.solve_kappa": lambda s, n, z, m: stieltjes.solve_kappa(z, s, n, multiplicities=m),
    "stieltjes.solve_zeta": lambda s, n, z, m: stieltjes.solve_zeta(z, s, n, multiplicities=m),
    "stieltjes.stieltjes": lambda s, n, z, m: stieltjes.stieltjes(-z, s, n, multiplicities=m),
    "stieltjes.point_mass_at_zero": lambda s, n, z, m: stieltjes.point_mass_at_zero(s, n, multiplicities=m),
    "stieltjes.spectral_density": lambda s, n, z, m: stieltjes.spectral_density(
        np.array([0.5 * z, z, 2 * z]), s, n, multiplicities=m, eta=1e-3),
    "replica.averaged_test_loss (c > 0)": lambda s, n, z, m: replica.averaged_test_loss(z, s, n, c=0.3, multiplicities=m),
    "replica.averaged_train_loss (c > 0, estimated mean)": lambda s, n, z, m: replica.averaged_train_loss(
        z, s, n, c=0.3, estimated_mean=True, multiplicities=m),
    "replica.averaged_residual_loss": lambda s, n, z, m: replica.averaged_residual_loss(z, s, n, multiplicities=m),
    "replica.averaged_alignment (c > 0)": lambda s, n, z, m: replica.averaged_alignment(z, s, n, c=0.3, multiplicities=m),
    "replica.averaged_logdet": lambda s, n, z, m: replica.averaged_logdet(z, s, n, multiplicities=m),
    "replica.averaged_kl (estimated mean)": lambda s, n, z, m: replica.averaged_kl(z, s, n, estimated_mean=True,
                                                                                   multiplicities=m),
    "real_gaussian.corrected_resolvent (per direction)": lambda s, n, z, m: _per_direction(
        real_gaussian.corrected_resolvent(z, s, n, multiplicities=m).r, m),
    "real_gaussian.corrected_traces": lambda s, n, z, m: real_gaussian.corrected_traces(z, s, n, multiplicities=m),
    "next_order.test_loss (c > 0)": lambda s, n, z, m: next_order.test_loss(z, s, n, c=0.3, multiplicities=m),
    "next_order.train_loss": lambda s, n, z, m: next_order.train_loss(z, s, n, multiplicities=m),
    "next_order.gap (estimated mean)": lambda s, n, z, m: next_order.gap(z, s, n, estimated_mean=True, multiplicities=m),
    "next_order.alignment": lambda s, n, z, m: next_order.alignment(z, s, n, multiplicities=m),
    "next_order.logdet": lambda s, n, z, m: next_order.logdet(z, s, n, multiplicities=m),
    "next_order.kl": lambda s, n, z, m: next_order.kl(z, s, n, multiplicities=m),
}
MP = {
    "stieltjes.solve_kappa_mp": lambda s, n, z, m: stieltjes.solve_kappa_mp(z, s, n, dps=30, multiplicities=m),
    "stieltjes.stieltjes_mp": lambda s, n, z, m: stieltjes.stieltjes_mp(-z, s, n, dps=30, multiplicities=m),
}


def _repeated(sig, mult):
    return np.repeat(sig, mult)


@pytest.mark.parametrize("name", list(FLOAT64))
@given(weighted())
def test_weights_are_repetitions(name, case):
    sig, mult, n, z = case
    f = FLOAT64[name]
    w, r = _as_array(f(sig, n, z, mult)), _as_array(f(_repeated(sig, mult), n, z, None))
    d = int(mult.sum())
    np.testing.assert_allclose(w, r, rtol=64 * d * EPS, atol=64 * d * EPS * (1 + np.max(np.abs(r))), err_msg=name)


@pytest.mark.parametrize("name", list(MP))
@given(weighted())
def test_weights_are_repetitions_at_mpmath_precision(name, case):
    sig, mult, n, z = case
    f = MP[name]
    w, r = f(sig, n, z, mult), f(_repeated(sig, mult), n, z, None)
    w, r = (mpmath.mpmathify(x) for x in (w, r))
    assert abs(w - r) <= mpmath.mpf(10) ** (4 - 30) * (1 + abs(r)), name
