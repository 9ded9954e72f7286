"""Hypothesis properties of the Wishart engine and the exact finite-N references."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lindiff_verify.theory import finite_n as fn
from lindiff_verify.simulation import wishart as w

sizes = st.tuples(st.integers(1, 30), st.integers(2, 40))


@given(sizes, st.sampled_from(w.METHODS), st.booleans(), st.integers(0, 2**32 - 1))
@settings(deadline=None)
def test_white_eigenvalues_are_sorted_nonnegative_with_rank_k(dn, method, est, seed):
    d, n = dn
    ev = w.white_wishart_eigenvalues(d, n, rng=np.random.default_rng(seed), batch=2, method=method,
                                     estimated_mean=est)
    k = min(d, n - 1 if est else n)
    assert ev.shape == (2, d)
    assert np.all(np.diff(ev, axis=1) >= -1e-12 * (1 + ev.max()))
    assert np.all(ev >= -1e-12 * (1 + ev.max()))
    # exactly k nonzero eigenvalues. The fast paths pad exact zeros; the dense draw's zeros are rounding:
    # forming C = XᵀX/N (n products per entry) and eigvalsh (backward stable, d·eps·‖C‖ by Weyl) move an
    # eigenvalue by at most ~(d + n)·eps·λ_max. A genuine eigenvalue of a square Wishart can be tiny
    # (P(λ_min < t·λ_max) ~ N·√t), so the threshold is that rounding bound, not a round number.
    zero = (d + n) * np.finfo(np.float64).eps * ev.max(axis=1, keepdims=True)
    assert np.sum(ev > zero, axis=1).tolist() == [k, k]


@given(st.lists(st.floats(0.05, 20.0), min_size=1, max_size=8), st.integers(2, 12), st.booleans(),
       st.integers(0, 2**32 - 1))
@settings(deadline=None)
def test_sample_covariance_is_symmetric_psd(spec, n, est, seed):
    c = w.sample_covariance(spec, n, rng=np.random.default_rng(seed), batch=2, estimated_mean=est)
    assert np.allclose(c, np.swapaxes(c, 1, 2))
    assert np.all(np.linalg.eigvalsh(c) >= -1e-10 * max(spec))


@given(st.integers(1, 60), st.integers(0, 200), st.booleans())
def test_expected_kl_positive_and_decreasing_in_n(d, extra, est):
    n = d + 3 + extra
    a = fn.expected_kl(d, n, estimated_mean=est)
    b = fn.expected_kl(d, n + 1, estimated_mean=est)
    assert 0 < b < a
    assert fn.expected_kl(d, n, estimated_mean=True) > fn.expected_kl(d, n, estimated_mean=False)


@given(st.floats(1e-4, 0.999))
def test_proportional_limit_functions_positive(a):
    assert fn.F(a) > 0 and fn.G_est(a) > fn.G_known(a)
