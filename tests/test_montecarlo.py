"""Specification of the Monte Carlo engine: streamed batches, Chan merges, seeding, namespaces."""

import dataclasses

import numpy as np
import pytest

from lindiff_verify.simulation import montecarlo
from lindiff_verify.theory import samplers
from lindiff_verify.model import schedules
from lindiff_verify.verification import tolerance
from lindiff_verify.model.backend import cupy_available
from lindiff_verify.model.errors import InputError
from lindiff_verify.model.vp import make_grid


@pytest.mark.parametrize("full", [False, True])
def test_running_moments_equal_one_pass(full):
    x = np.random.default_rng(0).normal(size=(1000, 3)) * [1.0, 2.0, 0.5] + [3.0, -1.0, 0.0]
    acc = montecarlo.RunningMoments(full=full)
    for chunk in np.array_split(x, [1, 10, 400, 401]):
        acc.update(chunk)
    np.testing.assert_allclose(acc.mean, x.mean(0), atol=1e-13)
    ref = np.cov(x.T) if full else x.var(0, ddof=1)
    np.testing.assert_allclose(acc.cov, ref, atol=1e-12)


def _setup():
    sch = schedules.constant(0.05, 20)
    grid = make_grid(sch)
    lam, m = np.array([0.1, 1.0, 4.0]), np.array([1.0, 0.0, -2.0])
    return sch, grid, lam, m


def test_reproducible_and_batches_independent():
    sch, grid, lam, m = _setup()
    eps = samplers.eigen_denoiser(grid, lam, m)
    a = montecarlo.monte_carlo_moments("ddpm", sch, eps, 3, 3000, seed=7, batch_size=1000)
    b = montecarlo.monte_carlo_moments("ddpm", sch, eps, 3, 3000, seed=7, batch_size=1000)
    np.testing.assert_array_equal(a.mean, b.mean)
    ss = np.random.default_rng(np.random.SeedSequence(7).spawn(3)[0]).standard_normal(3)
    ss2 = np.random.default_rng(np.random.SeedSequence(7).spawn(3)[1]).standard_normal(3)
    assert not np.allclose(ss, ss2)


def _mc_and_law_agree(name, sch=None, seed=1, n=20000):
    """The Monte Carlo of the record's mc_step against its exact law, within Bonferroni z·SE over 2d moments."""
    sch = sch or schedules.constant(0.05, 20)
    grid = make_grid(sch)
    lam, m = np.array([0.1, 1.0, 4.0]), np.array([1.0, 0.0, -2.0])
    eps = samplers.eigen_denoiser(grid, lam, m, c=0.1)
    r = montecarlo.monte_carlo_moments(name, sch, eps, 3, n, seed=seed)
    mean, var = samplers.exact_moments(name, lam, sch, mean_components=m, c=0.1)
    return bool(np.all(np.abs(r.mean - mean) <= tolerance.monte_carlo(r.se_mean, 6).value)
                and np.all(np.abs(r.var - var) <= tolerance.monte_carlo(r.se_var, 6).value))


@pytest.mark.parametrize("name", list(samplers.SAMPLERS))
def test_mc_agrees_with_exact_law(name):
    assert _mc_and_law_agree(name)


# deliberately wrong records: a wrong noise variance or time index in either path must be caught


DDPM, DDPM_POSTERIOR = samplers.SAMPLERS["ddpm"], samplers.SAMPLERS["ddpm_posterior"]  # the correct records


def _mc_beta_tilde(g, k, x, eps, z):  # DDPM drawing σ² = β̃ instead of β
    return DDPM_POSTERIOR.mc_step(g, k, x, eps, z)


def _mc_late_denoiser(g, k, x, eps, z):  # DDPM step with the denoiser called at t_{k−1}
    return DDPM.mc_step(g, k, x, lambda y, j: eps(y, j - 1), z)


def _law_beta_tilde(g):
    return dataclasses.replace(DDPM.law_step(g),
                               noise_var=DDPM_POSTERIOR.law_step(g).noise_var)


def _law_shifted(g):  # step k uses the coefficients of step k − 1
    law = DDPM.law_step(g)
    shift = lambda c: np.concatenate([c[1:], c[-1:]])  # noqa: E731
    return samplers.StepLaw(shift(law.P), shift(law.Q), shift(law.noise_var))


BUGS = {"mc: σ² = β̃": {"mc_step": _mc_beta_tilde}, "mc: denoiser at t_{k−1}": {"mc_step": _mc_late_denoiser},
        "law: σ² = β̃": {"law_step": _law_beta_tilde}, "law: coefficients of step k − 1": {"law_step": _law_shifted}}


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_wrong_record_is_caught_by_the_monte_carlo_check(bug, monkeypatch):
    wrong = dataclasses.replace(DDPM, **BUGS[bug])
    assert samplers.consistency_error(wrong) is not None  # register() would refuse it at import
    monkeypatch.setitem(samplers.SAMPLERS, "ddpm", wrong)  # bypass register: the statistical check alone
    assert not _mc_and_law_agree("ddpm", sch=schedules.linear(20, beta_start=0.01, beta_end=0.2))


@pytest.mark.parametrize("bug", [b for b in BUGS if b.startswith("mc")])
def test_c9_monte_carlo_check_catches_a_wrong_monte_carlo_step(bug, monkeypatch):
    from derivations.appendix_c.discretisation import c9
    from lindiff_verify.verification.context import Context
    from lindiff_verify.verification.runner import run_check

    check = next(ch for ch in c9.checks if ch.name.startswith("Monte Carlo"))
    assert run_check(c9, check, Context(seed=0), {"claim": c9.statement})["claim"]["verdict"] == "agree"
    monkeypatch.setitem(samplers.SAMPLERS, "ddpm", dataclasses.replace(DDPM, **BUGS[bug]))
    assert run_check(c9, check, Context(seed=0), {"claim": c9.statement})["claim"]["verdict"] == "disagree"


def test_matrix_denoiser_is_eq8():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5, 4))
    C, mvec = np.cov(X.T, bias=True), X.mean(0)
    grid = make_grid(schedules.linear(num_train_timesteps=10))
    den = montecarlo.MatrixDenoiser(grid, C, mvec, c=0.2)
    k = 4
    ab = grid.alphabar[k]
    W = np.sqrt(1 - ab) * np.linalg.inv(ab * (C + 0.2 * np.eye(4)) + (1 - ab) * np.eye(4))
    x = rng.normal(size=(2, 4))
    np.testing.assert_allclose(den(x, k), (x - np.sqrt(ab) * mvec) @ W.T, atol=1e-12)


def test_bad_input():
    sch, grid, lam, m = _setup()
    eps = samplers.eigen_denoiser(grid, lam, m)
    with pytest.raises(InputError) as e:
        montecarlo.monte_carlo_moments("nope", sch, eps, 3, 100, seed=0)
    assert e.value.parameter == "sampler"
    with pytest.raises(InputError) as e:
        montecarlo.monte_carlo_moments("ddpm", sch, eps, 3, 1, seed=0)
    assert e.value.parameter == "n_paths"


def test_array_api_strict_namespace():
    xs = pytest.importorskip("array_api_strict")
    sch, grid, lam, m = _setup()
    eps = samplers.eigen_denoiser(grid, lam, m)
    a = montecarlo.monte_carlo_moments("ddpm", sch, eps, 3, 500, seed=2, batch_size=200, xp=xs)
    b = montecarlo.monte_carlo_moments("ddpm", sch, eps, 3, 500, seed=2, batch_size=200)
    np.testing.assert_allclose(a.mean, b.mean, atol=1e-12)


@pytest.mark.gpu
def test_cupy_matches_exact_law():
    ok, why = cupy_available()
    if not ok:
        pytest.skip(why)
    import array_api_compat.cupy as cxp

    sch, grid, lam, m = _setup()
    eps = samplers.eigen_denoiser(grid, lam, m)
    r = montecarlo.monte_carlo_moments("ddpm", sch, eps, 3, 100000, seed=3, xp=cxp)
    mean, var = samplers.exact_moments("ddpm", lam, sch, mean_components=m)
    assert np.all(np.abs(r.mean - mean) <= tolerance.monte_carlo(r.se_mean, 6).value)
    assert np.all(np.abs(r.var - var) <= tolerance.monte_carlo(r.se_var, 6).value)


def test_one_running_moments_for_samplers_and_wishart_statistics():
    from lindiff_verify.simulation import moments, wishart

    assert montecarlo.RunningMoments is moments.RunningMoments is wishart.RunningMoments
    acc = moments.RunningMoments().update(np.array([1.0]))
    assert acc.count == 1 and np.isnan(acc.var) and np.isnan(acc.se)  # fewer than two draws: no variance
