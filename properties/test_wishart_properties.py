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


# ---------------------------------------------------------------- O(d) resolvent statistics of tridiagonals

_bidiagonal_entry = st.one_of(st.just(0.0), st.floats(1e-9, 1e-3), st.floats(1e-3, 10.0))


@st.composite
def _psd_tridiagonals(draw):
    """T = Bᵀ B for bidiagonal B (the Laguerre form; PSD by construction): exact zeros and tiny pivots make
    singular and near-singular T."""
    m, batch = draw(st.integers(1, 40)), draw(st.integers(1, 3))
    a = np.array(draw(st.lists(st.lists(_bidiagonal_entry, min_size=m, max_size=m), min_size=batch, max_size=batch)))
    b = np.array(draw(st.lists(st.lists(_bidiagonal_entry, min_size=m - 1, max_size=m - 1), min_size=batch,
                               max_size=batch))).reshape(batch, m - 1)
    diag = a**2
    diag[:, :-1] += b**2
    return diag, a[:, 1:] * b


def _dense(diag, off):
    t = np.zeros(diag.shape + (diag.shape[1],))
    i = np.arange(diag.shape[1])
    t[:, i, i] = diag
    t[:, i[:-1], i[1:]] = off
    t[:, i[1:], i[:-1]] = off
    return t


@settings(deadline=None, max_examples=60)
@given(_psd_tridiagonals(), st.lists(st.floats(1e-6, 50.0), min_size=1, max_size=4))
def test_tridiagonal_resolvent_statistics_equal_the_eigenvalue_path(tri, z):
    diag, off = tri
    z = np.array(z)
    got = w.tridiagonal_resolvent_statistics(diag, off, z)
    lam = np.linalg.eigvalsh(_dense(diag, off))[:, :, None]  # (batch, m, 1)
    lam = np.clip(lam, 0.0, None)  # T is PSD: eigvalsh's O(eps‖T‖) negative values are rounding
    r = 1.0 / (lam + z)
    m = diag.shape[1]
    # error model: both paths are backward stable, eigenvalues carry absolute errors ≤ m·eps·‖T‖, so each term has
    # relative error ≤ m·eps·‖T‖/(λ + z) (the condition of T + z); factor 16 for the few operations per term
    norm = np.abs(_dense(diag, off)).sum(axis=-1).max(axis=-1)[:, None, None]
    cond = (norm + lam + z) / (lam + z)
    rel = 16 * m * np.finfo(float).eps * cond
    ref1, ref2, refld = r.sum(1), (r * r).sum(1), np.log(lam + z).sum(1)
    assert np.all(np.abs(got.trace_inv - ref1) <= (rel * r).sum(1))
    assert np.all(np.abs(got.trace_inv2 - ref2) <= 2 * (rel * r * r).sum(1))
    assert np.all(np.abs(got.logdet - refld) <= rel.sum(1) + 16 * m * np.finfo(float).eps * np.abs(np.log(lam + z)).sum(1))


@settings(deadline=None, max_examples=30)
@given(st.integers(1, 60), st.integers(1, 120), st.booleans(), st.integers(0, 2**32 - 1))
def test_white_wishart_resolvent_statistics_equal_the_eigenvalues_of_the_same_draw(d, n, est, seed):
    if est and n < 2:
        n = 2
    z = np.array([1e-4, 0.05, 1.0, 7.0])
    st_ = w.white_wishart_resolvent_statistics(d, n, z, rng=np.random.default_rng(seed), batch=2, estimated_mean=est)
    ev = w.white_wishart_eigenvalues(d, n, rng=np.random.default_rng(seed), batch=2, estimated_mean=est)
    r = 1.0 / (ev[:, :, None] + z)
    cond = (ev.max() + z) / z  # worst case over the spectrum (eigenvalues of C ≥ 0)
    rel = 16 * d * np.finfo(float).eps * cond
    np.testing.assert_allclose(st_.trace_inv, r.sum(1), rtol=0, atol=float(np.max(rel * r.sum(1))))
    np.testing.assert_allclose(st_.trace_inv2, (r * r).sum(1), rtol=0, atol=float(np.max(2 * rel * (r * r).sum(1))))
    ld = np.log(ev[:, :, None] + z)
    np.testing.assert_allclose(st_.logdet, ld.sum(1), rtol=0,
                               atol=float(np.max(d * rel + 16 * d * np.finfo(float).eps * np.abs(ld).sum(1))))
