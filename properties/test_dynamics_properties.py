"""Properties of the learning dynamics (appendix B): non-monotone test loss for N < d, rates of eq.10."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lindiff_verify.theory import dynamics


@settings(max_examples=20, deadline=None)
@given(d=st.integers(20, 60), frac=st.floats(0.2, 0.7), abar=st.floats(0.6, 0.99), seed=st.integers(0, 2**32 - 1))
def test_test_loss_falls_then_rises_for_N_below_d(d, frac, abar, seed):
    N = max(2, int(frac * d))
    X = np.random.default_rng(seed).standard_normal((N, d))
    lam = np.clip(np.linalg.eigvalsh(X.T @ X / N), 0, None)
    ts, lmin, lend = dynamics.early_stopping_time(lam, abar, 0.0)
    l0 = dynamics.test_loss(lam, abar, 0.0, 0.0)
    assert lmin < l0 and lmin < lend  # falls from τ = 0, then rises: early stopping beats full training
    assert 0 < ts < np.inf


@given(lam=st.lists(st.floats(0, 10), min_size=1, max_size=5).map(np.array), abar=st.floats(0.01, 0.99),
       c=st.floats(0, 2))
def test_rates_equal_eq10_denominators(lam, abar, c):
    np.testing.assert_allclose(dynamics.rates(lam, abar, c * abar), abar * (lam + c) + 1 - abar, rtol=1e-12)
