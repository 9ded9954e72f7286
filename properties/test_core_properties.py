"""Hypothesis properties of the core library (denoiser, gaussian, spectra)."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lindiff_verify.theory import denoiser, gaussian
from lindiff_verify.model import spectra
from lindiff_verify.theory.denoiser import LinearDenoiser
from properties.strategies import alphabars, regularisation, schedules
from properties.strategies import spectra as spectra_st


def _rotated(spec, seed):
    U = np.linalg.qr(np.random.default_rng(seed).standard_normal((spec.size, spec.size)))[0]
    return U @ np.diag(spec) @ U.T


@given(spectra_st(max_dim=8, allow_zero=True), schedules(max_steps=30), regularisation(), st.integers(0, 2**16))
def test_residual_loss_bounds(spec, sch, c, seed):
    """Each eq.9 summand ᾱλ/(ᾱλ + 1 − ᾱ) ∈ [0, 1), so 0 ≤ L_t ≤ d; train loss ≤ d."""
    den = LinearDenoiser.fit(_rotated(spec, seed), None, sch, c=c)
    L = den.train_loss()
    assert np.all(L >= -1e-12) and np.all(L <= spec.size * (1 + 1e-12))


@given(spectra_st(max_dim=6), alphabars(margin=0.01), regularisation(max_c=3.0), st.integers(0, 2**16))
def test_eq8_is_the_minimum_of_eq6(spec, ab, c, seed):
    """Any perturbation of (W*, b*) increases the eq.6 objective (penalty included) by ≥ 0."""
    rng = np.random.default_rng(seed)
    C = _rotated(spec, seed)
    m = rng.standard_normal(spec.size)
    W, b = denoiser.optimal_denoiser(C, m, ab, c * ab)
    L0 = float(denoiser.training_loss(W, b, C, m, ab, c * ab))
    dW, db = rng.standard_normal(W.shape) * 1e-2, rng.standard_normal(b.shape) * 1e-2
    L1 = float(denoiser.training_loss(W + dW, b + db, C, m, ab, c * ab))
    assert L1 >= L0 - 1e-10 * max(1.0, abs(L0))


@given(spectra_st(max_dim=6), spectra_st(min_dim=6, max_dim=6), alphabars(), regularisation(), st.integers(0, 2**16))
def test_gap_nonnegative_when_population_matches(spec, _, ab, c, seed):
    """With Σ0 = C and μ0 = m the gap vanishes; with Σ0 ⪰ C (added variance) it is ≥ 0."""
    C = _rotated(spec, seed)
    m = np.random.default_rng(seed).standard_normal(spec.size)
    den = LinearDenoiser.fit(C, m, np.array([ab]), c=c)
    assert abs(float(den.gap(m, C)[0])) < 1e-10 * spec.size * max(1.0, spec.max())
    assert float(den.gap(m + 0.1, C + 0.5 * np.eye(spec.size))[0]) >= 0


@given(spectra_st(max_dim=5), spectra_st(min_dim=5, max_dim=5), st.integers(0, 2**16))
def test_kl_nonnegative_and_zero_iff_equal(s0, s1, seed):
    d = s0.size
    S0, S1 = _rotated(s0, seed), _rotated(s1[:d], seed + 1)
    rng = np.random.default_rng(seed)
    m0, m1 = rng.standard_normal((2, d))
    kl = gaussian.kl_gaussian(m0, S0, m1, S1)
    assert kl >= -1e-9 * d
    assert abs(gaussian.kl_gaussian(m0, S0, m0, S0)) < 1e-9 * d * max(1.0, s0.max() / s0.min())


@given(spectra_st(max_dim=5), spectra_st(min_dim=5, max_dim=5), st.integers(0, 2**16))
def test_w2_symmetric_and_triangle(s0, s1, seed):
    d = s0.size
    S0, S1 = _rotated(s0, seed), _rotated(s1[:d], seed + 1)
    rng = np.random.default_rng(seed)
    m0, m1 = rng.standard_normal((2, d))
    a, b = gaussian.w2_gaussian(m0, S0, m1, S1), gaussian.w2_gaussian(m1, S1, m0, S0)
    scale = 1e-6 * (1 + math.sqrt(s0.sum() + s1[:d].sum()))
    assert abs(a - b) <= scale
    mid = gaussian.w2_gaussian(m0, S0, np.zeros(d), np.eye(d)) + gaussian.w2_gaussian(np.zeros(d), np.eye(d), m1, S1)
    assert a <= mid + scale


@given(st.integers(1, 40), st.floats(0, 3), st.floats(0.01, 10))
def test_power_law_monotone_and_scaled(d, k, scale):
    s = spectra.power_law(d, k, scale)
    assert s[0] == scale and np.all(np.diff(s) <= 0) and np.all(s > 0)


@settings(max_examples=10)
@given(spectra_st(max_dim=6), schedules(max_steps=20), st.integers(0, 2**16))
def test_regularisation_shrinks_weights_and_raises_train_loss(spec, sch, seed):
    """Adding c > 0 shrinks every per-direction weight w_ti (eq.8), so the train loss at the optimum grows."""
    C = _rotated(spec, seed)
    a, b = LinearDenoiser.fit(C, None, sch), LinearDenoiser.fit(C, None, sch, c=1.0)
    assert np.all(b.coefficients() <= a.coefficients() * (1 + 1e-12))
    assert np.all(b.train_loss() >= a.train_loss() - 1e-10)
