"""Specification of lindiff_verify.simulation.wishart: every fast path has the dense draw's law (MATH.md §0)."""

import numpy as np
import pytest

from lindiff_verify.simulation import wishart as w
from lindiff_verify.model.backend import cupy_available
from lindiff_verify.model.errors import InputError

Z = 4.5  # two-sided z for a handful of moment comparisons (false alarm ~1e-5 each)


def _dof(n, est):
    return n - 1 if est else n


@pytest.mark.parametrize("method", w.METHODS)
@pytest.mark.parametrize("d,n,est", [(12, 30, False), (12, 30, True), (15, 7, False), (15, 7, True)])
def test_white_methods_match_exact_wishart_moments(method, d, n, est):
    # N·C ~ W_d(k, I), k = N or N − 1: Tr W ~ χ²_{kd} ⇒ E (1/d)Tr C = k/N, Var (1/d)Tr C = 2k/(d N²);
    # E Tr W² = k d (k + d + 1) ⇒ E (1/d)Tr C² = k (k + d + 1)/N²
    draws = 3000
    ev = w.white_wishart_eigenvalues(d, n, rng=np.random.default_rng(11), batch=draws, method=method,
                                     estimated_mean=est)
    assert ev.shape == (draws, d)
    k = _dof(n, est)
    t1, t2 = ev.mean(axis=1), (ev**2).mean(axis=1)
    var_exact = 2 * k / (d * n**2)
    assert abs(t1.mean() - k / n) <= Z * np.sqrt(var_exact / draws)
    # the sample variance of a χ² linear statistic: SE of s² ≈ s²·sqrt(2/(draws−1)) (plus kurtosis, small)
    assert abs(t1.var(ddof=1) - var_exact) <= Z * var_exact * np.sqrt(3.0 / draws)
    assert abs(t2.mean() - k * (k + d + 1) / n**2) <= Z * t2.std(ddof=1) / np.sqrt(draws)


@pytest.mark.parametrize("method", ["tridiagonal", "bartlett"])
@pytest.mark.parametrize("est", [False, True])
def test_fast_paths_resolvent_statistic_matches_dense(method, est):
    # (1/d) Tr (C + z)^-1 has no simple closed form: two-sample comparison with the dense draw
    d, n, z, draws = 10, 14, 0.3, 3000
    fast = w.white_wishart_eigenvalues(d, n, rng=np.random.default_rng(1), batch=draws, method=method,
                                       estimated_mean=est)
    dense = w.white_wishart_eigenvalues(d, n, rng=np.random.default_rng(2), batch=draws, method="dense",
                                        estimated_mean=est)
    for f in (lambda e: w.resolvent_trace(e, z), lambda e: w.trace_moment(e, 2)):
        a, b = f(fast), f(dense)
        se = np.sqrt(a.var(ddof=1) / draws + b.var(ddof=1) / draws)
        assert abs(a.mean() - b.mean()) <= Z * se
        assert abs(a.var(ddof=1) / b.var(ddof=1) - 1) <= Z * 2 * np.sqrt(2 / draws) + 0.02


def test_zero_eigenvalues_when_fewer_samples_than_dimensions():
    # rank of N·C is k = min(d, N or N − 1): exactly d − k zero eigenvalues
    for est in (False, True):
        ev = w.white_wishart_eigenvalues(9, 5, rng=np.random.default_rng(0), batch=3, estimated_mean=est)
        k = _dof(5, est)
        assert np.all(ev[:, : 9 - k] == 0) and np.all(ev[:, 9 - k:] > 0)


def test_sample_covariance_mean_is_population_covariance():
    # E C = (k/N) Σ0 with Σ0 = O diag(σ) Oᵀ, for any rotation O
    rng = np.random.default_rng(3)
    d, n, draws = 4, 6, 4000
    o, _ = np.linalg.qr(rng.standard_normal((d, d)))
    sig = np.array([0.5, 1.0, 2.0, 4.0])
    for est in (False, True):
        c = w.sample_covariance(sig, n, rng=rng, batch=draws, estimated_mean=est, rotation=o)
        target = _dof(n, est) / n * (o * sig) @ o.T
        se = c.std(axis=0, ddof=1) / np.sqrt(draws)
        assert np.all(np.abs(c.mean(axis=0) - target) <= Z * se + 1e-12)


def test_eigh_reconstructs_covariance():
    rng = np.random.default_rng(4)
    lam, u = w.covariance_eigh([1.0, 2.0, 3.0], 5, rng=rng, batch=2)
    c = w.sample_covariance([1.0, 2.0, 3.0], 5, rng=np.random.default_rng(4), batch=2)
    assert np.allclose((u * lam[:, None, :]) @ np.swapaxes(u, 1, 2), c, atol=1e-12)


def test_seeded_draws_are_reproducible():
    a = w.white_wishart_eigenvalues(20, 30, rng=np.random.default_rng(5), batch=2)
    b = w.white_wishart_eigenvalues(20, 30, rng=np.random.default_rng(5), batch=2)
    assert np.array_equal(a, b)


def test_running_moments_equal_one_pass_moments():
    x = np.random.default_rng(6).standard_normal(1001) * 3 + 1
    m = w.RunningMoments()
    for chunk in np.array_split(x, 7):
        m.update(chunk)
    assert m.count == 1001
    assert np.isclose(m.mean, x.mean(), rtol=1e-13) and np.isclose(m.var, x.var(ddof=1), rtol=1e-12)
    assert np.isclose(m.se, x.std(ddof=1) / np.sqrt(1001), rtol=1e-12)


def test_streamed_statistics_bounded_batches():
    from lindiff_verify.simulation.streaming import stream_dict

    sizes = []

    def batch(rng, k):
        sizes.append(k)
        ev = w.white_wishart_eigenvalues(8, 16, rng=rng, batch=k)
        return {"tr": w.trace_moment(ev), "tr_inv": w.white_wishart_resolvent_statistics(8, 16, [1.0], rng=rng,
                                                                                         batch=k).trace_inv[:, 0]}

    seeds = [(s, min(64, 250 - 64 * i)) for i, s in enumerate(np.random.SeedSequence(5).spawn(4))]
    out = stream_dict(batch, seeds)
    assert max(sizes) <= 64 and sum(sizes) == 250 and out["tr"].count == out["tr_inv"].count == 250
    assert abs(out["tr"].mean - 1.0) <= Z * out["tr"].se  # E (1/d) Tr C = 1


def test_array_api_strict_namespace():
    xps = pytest.importorskip("array_api_strict")
    ev = w.white_wishart_eigenvalues(6, 9, rng=np.random.default_rng(0), batch=2, xp=xps)
    assert type(ev).__module__.startswith("array_api_strict")
    c = w.sample_covariance(xps.asarray([1.0, 2.0]), 5, rng=np.random.default_rng(0), batch=2, estimated_mean=True)
    assert type(c).__module__.startswith("array_api_strict") and c.shape == (2, 2, 2)
    ev2 = w.white_wishart_eigenvalues(6, 4, rng=np.random.default_rng(0), batch=2, method="bartlett", xp=xps)
    assert ev2.shape == (2, 6)


@pytest.mark.parametrize("kwargs,param", [
    ({"spectrum": [1.0, 0.0], "n_samples": 3}, "spectrum"),
    ({"spectrum": [1.0, np.nan], "n_samples": 3}, "spectrum"),
    ({"spectrum": [1.0, -2.0], "n_samples": 3}, "spectrum"),
    ({"spectrum": [1.0, np.inf], "n_samples": 3}, "spectrum"),
    ({"spectrum": [1.0], "n_samples": 1, "estimated_mean": True}, "n_samples"),
    ({"spectrum": [1.0], "n_samples": 0}, "n_samples"),
    ({"spectrum": [1.0], "n_samples": 3, "batch": 0}, "batch"),
    ({"spectrum": [1.0, 2.0], "n_samples": 3, "rotation": [[1.0, 1.0], [0.0, 1.0]]}, "rotation"),
])
def test_bad_input_names_parameter(kwargs, param):
    with pytest.raises(InputError) as err:
        w.sample_covariance(rng=np.random.default_rng(0), **kwargs)
    assert err.value.parameter == param


def test_bad_input_white_and_rng():
    with pytest.raises(InputError, match="method"):
        w.white_wishart_eigenvalues(3, 5, rng=np.random.default_rng(0), method="qr")
    with pytest.raises(InputError, match="d"):
        w.white_wishart_eigenvalues(0, 5, rng=np.random.default_rng(0))
    with pytest.raises(InputError, match="rng"):
        w.white_wishart_eigenvalues(3, 5, rng=0)
    with pytest.raises(InputError, match="z"):
        w.resolvent_trace(np.ones((1, 2)), -1.0)


@pytest.mark.gpu
def test_cupy_paths_match_numpy_law():
    ok, why = cupy_available()
    if not ok:
        pytest.skip(why)
    import array_api_compat.cupy as cxp

    for method in w.METHODS:
        ev = w.white_wishart_eigenvalues(10, 20, rng=np.random.default_rng(0), batch=2000, method=method, xp=cxp)
        t1 = cxp.mean(ev, axis=1).get()
        assert abs(t1.mean() - 1.0) <= Z * np.sqrt(2 * 20 / (10 * 400) / 2000)


def test_resolvent_statistics_by_hand():
    # T = [[2, 1], [1, 2]]: eigenvalues 1 and 3; z = 1: Tr (T + 1)^{-1} = 1/2 + 1/4, Tr (T + 1)^{-2} = 1/4 + 1/16,
    # ln det = ln 8
    st = w.tridiagonal_resolvent_statistics(np.array([[2.0, 2.0]]), np.array([[1.0]]), [1.0, 0.0])
    np.testing.assert_allclose(st.trace_inv, [[0.75, 1 + 1 / 3]], rtol=1e-15)
    np.testing.assert_allclose(st.trace_inv2, [[0.3125, 1 + 1 / 9]], rtol=1e-15)
    np.testing.assert_allclose(st.logdet, [[np.log(8.0), np.log(3.0)]], rtol=1e-15)


def test_white_resolvent_statistics_shapes_zero_block_and_z0():
    z = [0.5, 2.0]
    st = w.white_wishart_resolvent_statistics(10, 4, z, rng=np.random.default_rng(0), batch=3)
    assert st.trace_inv.shape == st.trace_inv2.shape == st.logdet.shape == (3, 2)
    ev = w.white_wishart_eigenvalues(10, 4, rng=np.random.default_rng(0), batch=3)
    assert np.sum(ev == 0.0) == 3 * 6  # 6 exact zeros per draw, each contributing 1/z, 1/z², ln z
    np.testing.assert_allclose(st.trace_inv, (1 / (ev[:, :, None] + z)).sum(1), rtol=1e-13)
    full = w.white_wishart_resolvent_statistics(5, 50, [0.0], rng=np.random.default_rng(1), batch=2)
    ev = w.white_wishart_eigenvalues(5, 50, rng=np.random.default_rng(1), batch=2)
    np.testing.assert_allclose(full.trace_inv[:, 0], (1 / ev).sum(1), rtol=1e-13)
    np.testing.assert_allclose(full.logdet[:, 0], np.log(ev).sum(1), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("z", [[-0.1], [np.nan], [], [0.0]])
def test_resolvent_statistics_bad_z(z):
    with pytest.raises(InputError) as err:
        w.white_wishart_resolvent_statistics(10, 4, z, rng=np.random.default_rng(0))  # z = 0: C is singular here
    assert err.value.parameter == "z"


def test_resolvent_statistics_array_api_strict():
    xps = pytest.importorskip("array_api_strict")
    st = w.white_wishart_resolvent_statistics(8, 12, [0.1, 1.0], rng=np.random.default_rng(0), batch=2, xp=xps)
    assert type(st.trace_inv).__module__.startswith("array_api_strict")
    ref = w.white_wishart_resolvent_statistics(8, 12, [0.1, 1.0], rng=np.random.default_rng(0), batch=2)
    np.testing.assert_allclose(np.asarray(st.trace_inv2), ref.trace_inv2, rtol=1e-15)


@pytest.mark.gpu
def test_cupy_resolvent_statistics_match_numpy():
    ok, why = cupy_available()
    if not ok:
        pytest.skip(why)
    import array_api_compat.cupy as cxp

    z = [1e-3, 0.1, 1.0]
    st = w.white_wishart_resolvent_statistics(200, 300, z, rng=np.random.default_rng(0), batch=64, xp=cxp)
    ref = w.white_wishart_resolvent_statistics(200, 300, z, rng=np.random.default_rng(0), batch=64)
    for a, b in ((st.trace_inv, ref.trace_inv), (st.trace_inv2, ref.trace_inv2), (st.logdet, ref.logdet)):
        np.testing.assert_allclose(a.get(), b, rtol=1e-12)


def test_a_rotated_population_rotates_the_eigenvectors_and_keeps_the_eigenvalues():
    """Σ0 = O diag(σ) Oᵀ: with the same Gaussian draws C_rot = O C Oᵀ, so λ is unchanged and U_rot = O U
    (columns up to sign); float64 rounding of a d = 5 eigensolve."""
    sig = np.array([0.3, 0.7, 1.0, 2.0, 4.0])
    O = np.linalg.qr(np.random.default_rng(1).standard_normal((5, 5)))[0]
    lam, U = w.covariance_eigh(sig, 12, rng=np.random.default_rng(7), batch=3)
    lam_r, U_r = w.covariance_eigh(sig, 12, rng=np.random.default_rng(7), batch=3, rotation=O)
    np.testing.assert_allclose(lam_r, lam, rtol=1e-12)
    np.testing.assert_allclose(np.abs(np.swapaxes(U_r, 1, 2) @ (O @ U)), np.broadcast_to(np.eye(5), (3, 5, 5)),
                               atol=1e-10)
