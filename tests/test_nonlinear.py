"""Specification of §5's tools: reference denoisers, eq.16 and the Monte Carlo measures, memorisation, training."""

import numpy as np
import pytest

from lindiff_verify.model import datasets, schedules
from lindiff_verify.model.errors import InputError
from lindiff_verify.simulation import nonlinear as nl
from lindiff_verify.simulation import training
from lindiff_verify.theory import denoiser, samplers
from lindiff_verify.theory import reference_denoisers as rd
from lindiff_verify.verification import tolerance

SCHED = training.authors_schedule()
Z = tolerance.bonferroni_z(1)


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(training.CACHE_ENV, str(tmp_path / "cache"))


def _data(n, d=3, seed=0, mu=None):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) * np.linspace(1.5, 0.4, d)
    return x if mu is None else x + mu


def test_authors_schedule_is_beta_linear_from_1e4_to_1e2():
    b = SCHED.betas
    assert b.size == 1000
    np.testing.assert_allclose(b, 1e-4 + (1e-2 - 1e-4) * np.arange(1, 1001) / 1000, rtol=0, atol=1e-18)
    # §F.1: ᾱ_T ≈ 6.3e-3 and ᾱ_50 ≈ 0.9825 on this schedule
    assert abs(SCHED.alphas_cumprod[-1] - 6.3e-3) < 1e-4
    assert abs(SCHED.alphas_cumprod[49] - 0.9825) < 5e-4


@pytest.mark.parametrize("t", [1, 37, 1000])
def test_linear_reference_is_eq8_by_a_dense_solve(t):
    x = _data(30, mu=np.array([1.0, -2.0, 0.5]))
    lin = rd.linear_denoiser(x, SCHED, c=0.2)
    m, C = x.mean(0), np.cov(x.T, bias=True)
    ab = SCHED.alphas_cumprod[t - 1]
    W, b = denoiser.optimal_denoiser(C, m, ab, gamma=0.2 * ab)
    q = _data(5, seed=1)
    np.testing.assert_allclose(lin(q, t), q @ W.T + b, rtol=1e-10, atol=1e-12)


def test_population_reference_uses_the_population_moments():
    S = np.array([[2.0, 0.3], [0.3, 0.5]])
    mu = np.array([0.1, -0.4])
    pop = rd.population_denoiser(mu, S, SCHED)
    W, b = denoiser.optimal_denoiser(S, mu, SCHED.alphas_cumprod[99])
    q = _data(4, d=2)
    np.testing.assert_allclose(pop(q, 100), q @ W.T + b, rtol=1e-10, atol=1e-12)


def test_empirical_optimum_with_one_point_points_at_it():
    X = np.array([[1.0, -2.0]])
    emp = rd.EmpiricalOptimalDenoiser(X, SCHED)
    q = _data(6, d=2)
    a, s = SCHED.sqrt_alphas_cumprod[9], SCHED.sqrt_one_minus_alphas_cumprod[9]
    np.testing.assert_allclose(emp(q, 10), (q - a * X) / s, rtol=1e-12)


def test_empirical_optimum_equals_naive_bayes_at_large_t_and_stays_finite_at_t1():
    X = _data(7, d=2, seed=3)
    emp = rd.EmpiricalOptimalDenoiser(X, SCHED)
    q = _data(5, d=2, seed=4)
    t = 800
    a, s2 = SCHED.sqrt_alphas_cumprod[t - 1], SCHED.one_minus_alphas_cumprod[t - 1]
    like = np.exp(-np.sum((q[:, None] - a * X[None]) ** 2, axis=2) / (2 * s2))
    post = like / like.sum(1, keepdims=True)
    np.testing.assert_allclose(emp.denoised(q, t), post @ X, rtol=1e-10)
    # t = 1: ‖x − a x^μ‖²/(2 s²) ~ 1e4, a plain exp underflows to 0/0; log-sum-exp gives the nearest point
    far = 3.0 * q
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is the point
        out = emp.denoised(far, 1)
    nearest = X[np.argmin(np.sum((far[:, None] - SCHED.sqrt_alphas_cumprod[0] * X[None]) ** 2, axis=2), axis=1)]
    np.testing.assert_allclose(out, nearest, atol=1e-12)


def test_empirical_optimum_runs_under_array_api_strict():
    xps = pytest.importorskip("array_api_strict")
    X = _data(4, d=2)
    emp = rd.EmpiricalOptimalDenoiser(X, SCHED)
    q = _data(3, d=2, seed=2)
    out = emp(xps.asarray(q), 50)
    np.testing.assert_allclose(np.asarray(out), emp(q, 50), rtol=1e-12)


@pytest.mark.parametrize("bad", [dict(t=0), dict(t=1001), dict(t=2.5), dict(x=np.zeros(3))])
def test_denoisers_reject_bad_input_with_one_line(bad):
    lin = rd.linear_denoiser(_data(10), SCHED)
    x, t = bad.get("x", np.zeros((2, 3))), bad.get("t", 5)
    for den in (lin, rd.EmpiricalOptimalDenoiser(_data(10), SCHED)):
        with pytest.raises(InputError) as e:
            den(x, t)
        assert "\n" not in str(e.value)


def test_eq16_of_the_linear_model_against_itself_is_zero_and_scaled_network_is_known():
    x = _data(40)
    lin = rd.linear_denoiser(x, SCHED)
    x0 = _data(20000, seed=5)
    r = nl.eq16(lin, lin, x0, SCHED, [1, 100, 900], np.random.default_rng(0))
    assert np.all(r.distance(1e-2) == 0)
    # ε_net = 2 ε_lin: D = Q2/(Q2 + δ) with Q2 = E(uᵀε_lin)², which the same draws give
    r2 = nl.eq16(lambda v, t: 2 * lin(v, t), lin, x0, SCHED, [1, 100, 900], np.random.default_rng(0))
    q2 = r2.lin2.mean
    np.testing.assert_allclose(r2.distance(0.3), q2 / (q2 + 0.3), rtol=1e-12)
    assert np.all(r2.distance_se(0.3) > 0)


def test_eq16_rejects_bad_delta_and_timesteps():
    lin = rd.linear_denoiser(_data(10), SCHED)
    r = nl.eq16(lin, lin, _data(10), SCHED, [5], np.random.default_rng(0))
    with pytest.raises(InputError, match="delta"):
        r.distance(0.0)
    with pytest.raises(InputError, match="ts"):
        nl.eq16(lin, lin, _data(10), SCHED, [0], np.random.default_rng(0))


def test_test_loss_by_monte_carlo_matches_the_exact_gaussian_test_loss():
    mu = np.array([0.5, 0.0, -0.5])
    lin = rd.linear_denoiser(_data(15, mu=mu), SCHED, c=0.1)
    S = np.diag(np.linspace(1.5, 0.4, 3) ** 2)
    ts = [2, 50, 500]
    mc = nl.denoiser_loss(lin, _data(50000, seed=9, mu=mu), SCHED, ts, np.random.default_rng(1))
    z = tolerance.bonferroni_z(len(ts))
    for j, t in enumerate(ts):
        exact = float(denoiser.test_loss(lin.W(t), lin.b(t), mu, S, SCHED.alphas_cumprod[t - 1]))
        assert abs(mc.mean[j] - exact) <= z * mc.se[j]


def test_train_loss_standard_error_is_conditional_on_the_rows():
    x = _data(3)
    lin = rd.linear_denoiser(x, SCHED)
    m, C = x.mean(0), np.cov(x.T, bias=True)
    mc = nl.denoiser_loss(lin, x, SCHED, [100], np.random.default_rng(2), repeats=20000)
    exact = float(denoiser.training_loss(lin.W(100), lin.b(100), C, m, SCHED.alphas_cumprod[99], include_penalty=False))
    assert abs(mc.mean[0] - exact) <= Z * mc.se[0]


def test_alignment_of_a_model_with_itself_is_zero():
    lin = rd.linear_denoiser(_data(10), SCHED)
    al = nl.alignment(lin, lin, _data(10), SCHED, [3, 300], np.random.default_rng(0))
    assert np.all(al.mean == 0)


def test_sampling_the_linear_model_reproduces_the_exact_sampler_law():
    """Samples through the project's sampler steps: mean/variance per eigen-direction as samplers.exact_moments."""
    sch = schedules.from_betas(SCHED.betas[::10] * 10, name="coarse")  # 100 steps keeps the test fast
    x = _data(50, mu=np.array([1.0, 0.0, -1.0]))
    lin = rd.linear_denoiser(x, sch)
    n = 20000
    y = nl.sample(lin, sch, n, 3, np.random.default_rng(3), sampler="ddpm")
    U = lin.eigenvectors
    lam, m = np.asarray(lin.model.eigenvalues), U.T @ x.mean(0)
    mean, var = samplers.exact_moments("ddpm", lam, sch, mean_components=m)
    yp = y @ U
    z = tolerance.bonferroni_z(6)
    assert np.all(np.abs(yp.mean(0) - mean) <= z * np.sqrt(var / n))
    assert np.all(np.abs(yp.var(0, ddof=1) - var) <= z * var * np.sqrt(2 / (n - 1)))


def test_sampling_the_empirical_optimum_memorises_and_rejects_unknown_samplers():
    X = _data(4, d=2, seed=8) * 3
    emp = rd.EmpiricalOptimalDenoiser(X, SCHED)
    y = nl.sample(emp, SCHED, 50, 2, np.random.default_rng(0), sampler="ddim")
    mem = nl.memorisation(y, X)
    assert mem.ratio.max() < 0.05 and mem.similarity.min() > 0.99
    with pytest.raises(InputError, match="sampler"):
        nl.sample(emp, SCHED, 5, 2, np.random.default_rng(0), sampler="nope")


def test_memorisation_measures_on_known_geometry():
    X = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0]])
    Y = np.array([[2.0, 0.0], [1.0, 0.0], [0.1, 0.0]])
    m = nl.memorisation(Y, X)
    np.testing.assert_allclose(m.nearest, [0.0, 1.0, 0.1])
    np.testing.assert_allclose(m.second, [2.0, 1.0, 1.9])
    np.testing.assert_allclose(m.ratio, [0.0, 1.0, 0.1 / 1.9])
    assert m.similarity[0] == pytest.approx(1.0)
    # projection onto the second coordinate only (appendix A style)
    mp = nl.memorisation(Y, X, project=np.array([[0.0], [1.0]]))
    assert np.all(mp.nearest == 0)


def test_mlp_training_is_seeded_and_cached(tmp_path):
    x = _data(32, d=2)
    cfg = training.MLPConfig(hidden=16, steps=100, batch=64)
    a = training.train_mlp(x, SCHED, cfg, seed=3)
    assert not a.info.from_cache
    b = training.train_mlp(x, SCHED, cfg, seed=3)
    assert b.info.from_cache and b.info.key == a.info.key
    q = _data(5, d=2, seed=1)
    np.testing.assert_array_equal(a(q, 40), b(q, 40))
    c = training.train_mlp(x, SCHED, cfg, seed=3, cache=False)  # retrained from the seed: same numbers
    np.testing.assert_array_equal(a(q, 40), c(q, 40))
    other = training.train_mlp(x, SCHED, cfg, seed=4)
    assert other.info.key != a.info.key and not np.array_equal(a(q, 40), other(q, 40))
    assert list((tmp_path / "cache").glob("mlp-*.joblib"))


def test_mlp_learns_the_population_optimum_roughly_for_gaussian_data():
    sig = np.array([1.0, 0.3])
    x = np.random.default_rng(0).standard_normal((2000, 2)) * np.sqrt(sig)
    net = training.train_mlp(x, SCHED, training.MLPConfig(hidden=32, steps=600), seed=0)
    pop = rd.population_denoiser(np.zeros(2), np.diag(sig), SCHED)
    r = nl.eq16(net, pop, x[:1000], SCHED, [300, 900], np.random.default_rng(0))
    assert np.all(r.distance(1e-2) < 0.2)


def test_frozen_linear_network_is_the_linear_map_in_float32():
    lin = rd.linear_denoiser(_data(20), SCHED, c=0.01)
    net = training.frozen_linear_network(lin)
    q = _data(8, seed=2)
    for t in (1, 500):
        np.testing.assert_allclose(net(q, t), lin(q, t), rtol=1e-5, atol=1e-5)


def test_training_rejects_bad_input():
    with pytest.raises(InputError, match="x_train"):
        training.train_mlp(np.zeros(4), SCHED)
    with pytest.raises(InputError, match="steps"):
        training.MLPConfig(steps=0)
    with pytest.raises(InputError, match="schedule"):
        training.train_mlp(_data(4), "linear")


def test_datasets_are_on_the_unit_scale_and_seeded():
    d = datasets.digits()
    assert d.shape == (1797, 64) and d.min() == -1.0 and d.max() == 1.0
    p1 = datasets.image_patches(10, 16, rng=np.random.default_rng(0))
    p2 = datasets.image_patches(10, 16, rng=np.random.default_rng(0))
    assert p1.shape == (10, 256) and np.array_equal(p1, p2) and p1.min() >= -1 and p1.max() <= 1
    with pytest.raises(InputError, match="n"):
        datasets.load("digits", 5000, rng=np.random.default_rng(0))


def test_section5_derivations_are_discovered():
    from pathlib import Path

    from lindiff_verify.verification.registry import discover

    folder = Path(__file__).resolve().parents[1] / "derivations" / "nonlinear"
    reg = discover([folder], include_builtin=False)
    assert {"eq.16", "X.6", "X.7", "X.8"} <= set(reg)
    for did in ("eq.16", "X.6", "X.7", "X.8"):
        assert reg[did].mutants and reg[did].figures and reg[did].section == "main"


def test_mlp_forward_pass_equals_sklearn_predict():
    x = _data(16, d=2)
    net = training.train_mlp(x, SCHED, training.MLPConfig(hidden=8, layers=3, steps=50, batch=16), seed=0)
    q = _data(7, d=2, seed=5)
    for t in (1, 333):
        feats = np.concatenate([q, np.broadcast_to(training._time_features(t, SCHED), (7, 8))], axis=1)
        np.testing.assert_allclose(net(q, t), net.estimator.predict(feats), rtol=1e-12, atol=1e-12)
