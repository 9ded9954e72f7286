"""Specification of lindiff_verify.theory.samplers: the exact law of DDPM/DDIM/SDE/ODE samplers with the eq.8 denoiser."""

import dataclasses

import mpmath
import numpy as np
import pytest

from benchmarks import written_out

from lindiff_verify.theory import samplers
from lindiff_verify.model import schedules
from lindiff_verify.model.errors import InputError
from lindiff_verify.model.vp import VPSchedule, discrete_grid, make_grid, vp_grid

LAMS = np.array([0.0, 1e-3, 0.3, 1.0, 3.0, 10.0])
MEANS = np.array([0.0, 1.0, -2.0, 0.5, 3.0, -1.0])


def test_one_step_by_hand():
    # T = 1, β = 1/2, λ = 2, m = 1: ᾱ_1 = 1/2, v = 3/2, A = (1 − 1/3)/√(1/2) = 2√2/3, B = β a m/(v√(1 − β)) = 1/3
    sch = schedules.constant(0.5, 1)
    mean, var = samplers.exact_moments("ddpm", [2.0], sch, mean_components=[1.0])
    assert mean[0] == pytest.approx(1 / 3, rel=1e-14)
    assert var[0] == pytest.approx(8 / 9 + 1 / 2, rel=1e-14)
    # DDIM: x0 = (x − s ε)/a, x' = x0 (ᾱ_0 = 1): x' = (x − (x − a m)/(2v)... ) = x(1 − 1/3)/√(1/2) + 1/3
    mean, var = samplers.exact_moments("ddim", [2.0], sch, mean_components=[1.0])
    assert mean[0] == pytest.approx(1 / 3, rel=1e-14)
    assert var[0] == pytest.approx(8 / 9, rel=1e-14)


@pytest.mark.parametrize("variance,name", [("beta", "ddpm"), ("beta_tilde", "ddpm_posterior")])
def test_generic_step_equals_written_out_recursion(variance, name):
    sch = schedules.linear()
    a = samplers.ddpm_moments(LAMS, sch, c=0.2, mean_components=MEANS, variance=variance)
    b = samplers.exact_moments(name, LAMS, sch, c=0.2, mean_components=MEANS)
    np.testing.assert_allclose(a[0], b[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(a[1], b[1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["ddpm", "ddpm_posterior"])
@pytest.mark.parametrize("sch", [schedules.linear(), schedules.constant(0.02, 100), schedules.cosine(200)])
def test_discrete_mean_is_continuous_mean_and_variance_gap_is_closed_bias(name, sch):
    # telescoping v_t − β_t = v_{t−1}(1 − β_t): the discrete DDPM mean equals the C.9 mean for any σ_t
    mean, var = samplers.exact_moments(name, LAMS, sch, mean_components=MEANS, c=0.1)
    cm, cv = samplers.continuous_moments(LAMS, sch.alphas_cumprod[-1], mean_components=MEANS, c=0.1)
    np.testing.assert_allclose(mean, cm, atol=1e-11)
    D = samplers.ddpm_variance_bias(LAMS, sch, c=0.1, variance="beta" if name == "ddpm" else "beta_tilde")
    np.testing.assert_allclose(var, cv + D, atol=1e-11)


def test_small_lambda_gap_is_beta_1():
    sch = schedules.linear()
    _, var = samplers.exact_moments("ddpm", [0.0], sch)
    _, cv = samplers.continuous_moments([0.0], sch.alphas_cumprod[-1])
    assert var[0] - cv[0] == pytest.approx(sch.betas[0], rel=1e-6)


def test_c9_closed_form_by_hand():
    # C.9 at λ = 1: variance 1 for any ᾱ_T; mean m(1 − ᾱ_T)
    mean, var = samplers.continuous_moments([1.0], 0.25, mean_components=[2.0])
    assert var[0] == pytest.approx(1.0)
    assert mean[0] == pytest.approx(2.0 * 0.75)
    # probability-flow ODE: mean m(1 − √(ᾱ_T λ/v_T)), variance λ/v_T; λ = 4, ᾱ_T = 0.25: v_T = 1.75
    mean, var = samplers.continuous_moments([4.0], 0.25, mean_components=[1.0], kind="ode")
    assert var[0] == pytest.approx(4 / 1.75)
    assert mean[0] == pytest.approx(1 - np.sqrt(1 / 1.75))


@pytest.mark.parametrize("name", list(samplers.SAMPLERS))
def test_vp_samplers_converge_to_continuous_law_at_their_order(name):
    rec = samplers.SAMPLERS[name]
    vp = VPSchedule()
    lam = LAMS[1:]
    cm, cv = samplers.continuous_moments(lam, vp.alphabar(1.0), vp.alphabar(1e-3), kind=rec.process,
                                         mean_components=MEANS[1:])
    errs = []
    for K in (200, 400, 800):
        m_, v_ = samplers.exact_moments(name, lam, vp, num_steps=K, t_stop=1e-3, mean_components=MEANS[1:])
        errs.append(max(np.abs(m_ - cm).max(), np.abs(v_ - cv).max()))
    ratio = errs[1] / errs[2]
    assert 2**rec.order * 0.8 < ratio < 2**rec.order * 1.25


def test_distances():
    mu, var = np.array([0.0, 1.0]), np.array([1.0, 2.0])
    assert samplers.kl_divergence(mu, var, mu, var) == 0.0
    assert samplers.wasserstein2(mu, var, mu, var) == 0.0
    # eq.11, one direction: ½[σ0/σs − 1 + ln σs − ln σ0 + (m_s − μ0)²/σs]
    assert samplers.kl_divergence([0.0], [1.0], [1.0], [2.0]) == pytest.approx(0.5 * (0.5 - 1 + np.log(2) + 0.5))
    assert samplers.wasserstein2([0.0], [1.0], [3.0], [4.0]) == pytest.approx(np.sqrt(9 + 1))
    law = samplers.exact_law("ddpm", [1.0, 2.0], schedules.linear(), mean_components=[0.0, 1.0])
    assert law.kl_from([0.0, 1.0], [1.0, 2.0]) < 1e-3


@pytest.mark.parametrize("kwargs,param", [
    ({"eigvals": [1.0, -0.5]}, "eigvals"),
    ({"eigvals": [1.0, np.nan]}, "eigvals"),
    ({"eigvals": [1.0, np.inf]}, "eigvals"),
    ({"sampler": "ddpm_fast"}, "sampler"),
    ({"t_stop": 1000}, "t_stop"),
    ({"t_stop": -1}, "t_stop"),
    ({"c": -0.1}, "c"),
])
def test_bad_input_discrete(kwargs, param):
    args = {"sampler": "ddpm", "eigvals": [1.0], "schedule": schedules.linear()}
    args.update(kwargs)
    with pytest.raises(InputError) as e:
        samplers.exact_moments(args.pop("sampler"), args.pop("eigvals"), args.pop("schedule"), **args)
    assert e.value.parameter == param


@pytest.mark.parametrize("kwargs,param", [({"num_steps": 0}, "num_steps"), ({"t_stop": 1.0}, "t_stop"),
                                          ({"t_stop": -0.1}, "t_stop"), ({"t_stop": float("nan")}, "t_stop"),
                                          ({"num_steps": None}, "num_steps")])
def test_bad_input_vp(kwargs, param):
    args = {"num_steps": 10, **kwargs}
    with pytest.raises(InputError) as e:
        samplers.exact_moments("heun", [1.0], VPSchedule(), **args)
    assert e.value.parameter == param


def test_grids():
    g = discrete_grid(schedules.linear(num_train_timesteps=10), t_stop=3)
    assert g.num_steps == 7 and g.t[0] == 3
    g = vp_grid(VPSchedule(), 5, 0.1)
    assert g.num_steps == 5 and g.alphabar[-1] == pytest.approx(np.exp(-(0.1 + 9.95)))


def test_step_runs_under_array_api_strict():
    xs = pytest.importorskip("array_api_strict")
    g = discrete_grid(schedules.constant(0.1, 5))
    eps = samplers.eigen_denoiser(g, [0.5, 2.0], [1.0, -1.0])
    x = xs.asarray(np.ones((3, 2)))
    y = samplers.step("ddpm", g, 5, x, eps, xs.zeros((3, 2), dtype=xs.float64))
    ref = samplers.step("ddpm", g, 5, np.ones((3, 2)), eps, np.zeros((3, 2)))
    np.testing.assert_allclose(np.asarray(y), ref)


GRIDS = [(schedules.linear(), {}), (schedules.cosine(200), {"t_stop": 3}), (VPSchedule(), {"num_steps": 150}),
         (VPSchedule(0.1, 12.0), {"num_steps": 40, "t_stop": 1e-3})]


@pytest.mark.parametrize("name", list(samplers.SAMPLERS))
@pytest.mark.parametrize("sch,kw", GRIDS)
def test_exact_law_equals_the_written_out_loop(name, sch, kw):
    # a third implementation: each step's A, B, N² typed out per direction (benchmarks/written_out.py)
    grid = make_grid(sch, **kw)
    mean, var = samplers.exact_moments(name, LAMS, grid, c=0.2, mean_components=MEANS, start_mean=0.3, start_var=1.7)
    rm, rv = written_out.moments(name, grid, LAMS, 0.2, MEANS, 0.3, 1.7)
    tol = 20 * grid.num_steps * np.finfo(float).eps  # float64 rounding over K steps (relative to 1 + |value|)
    np.testing.assert_allclose(mean, rm, rtol=0, atol=tol * (1 + np.abs(rm)).max())
    np.testing.assert_allclose(var, rv, rtol=0, atol=tol * (1 + np.abs(rv)).max())


def test_exact_law_runs_under_array_api_strict():
    xs = pytest.importorskip("array_api_strict")
    for name in samplers.SAMPLERS:
        a = samplers.exact_moments(name, LAMS, schedules.linear(100), c=0.1, mean_components=MEANS, xp=xs)
        b = samplers.exact_moments(name, LAMS, schedules.linear(100), c=0.1, mean_components=MEANS)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_exact_law_leaves_its_inputs_alone():
    start_mean, start_var = np.full(LAMS.size, 0.5), np.full(LAMS.size, 2.0)
    samplers.exact_moments("ddpm", LAMS, schedules.linear(50), start_mean=start_mean, start_var=start_var)
    assert np.all(start_mean == 0.5) and np.all(start_var == 2.0)  # the recursion updates its own copies in place


def test_every_record_is_complete_and_consistent():
    for name, rec in samplers.SAMPLERS.items():
        assert rec.name == name and rec.process in ("sde", "ode") and rec.order >= 1
        assert samplers.consistency_error(rec) is None
    assert {n for n, r in samplers.SAMPLERS.items() if r.stochastic} == {
        "ddpm", "ddpm_posterior", "euler_maruyama", "exponential_integrator"}


def test_a_record_missing_a_part_cannot_be_built():
    rec = samplers.SAMPLERS["ddpm"]
    with pytest.raises(TypeError):
        samplers.Sampler("ddpm2", True, rec.law_step, rec.mc_step, 1)  # no process
    with pytest.raises(TypeError, match="law_step"):
        samplers.Sampler("ddpm2", True, None, rec.mc_step, 1, "sde")
    with pytest.raises(TypeError, match="order"):
        samplers.Sampler("ddpm2", True, rec.law_step, rec.mc_step, 0, "sde")
    with pytest.raises(TypeError, match="stochastic"):
        samplers.Sampler("ddpm2", "yes", rec.law_step, rec.mc_step, 1, "sde")


DDPM, DDPM_POSTERIOR = samplers.SAMPLERS["ddpm"], samplers.SAMPLERS["ddpm_posterior"]  # the correct records


def _law_beta_tilde(g):  # wrong noise variance in the law: β̃ where the sampler draws β
    law = DDPM.law_step(g)
    return dataclasses.replace(law, noise_var=DDPM_POSTERIOR.law_step(g).noise_var)


def _law_shifted(g):  # off-by-one time index in the law: step k uses the coefficients of step k − 1
    law = DDPM.law_step(g)
    shift = lambda c: np.concatenate([c[1:], c[-1:]])  # noqa: E731
    return samplers.StepLaw(shift(law.P), shift(law.Q), shift(law.noise_var))


def _law_no_noise(g):  # the noise forgotten
    return dataclasses.replace(DDPM.law_step(g), noise_var=None)


@pytest.mark.parametrize("law", [_law_beta_tilde, _law_shifted, _law_no_noise])
def test_register_rejects_a_law_that_disagrees_with_its_monte_carlo_step(law):
    bad = dataclasses.replace(samplers.SAMPLERS["ddpm"], name="ddpm_bad", law_step=law)
    assert samplers.consistency_error(bad) is not None
    with pytest.raises(ValueError, match="ddpm_bad"):
        samplers.register(bad)
    assert "ddpm_bad" not in samplers.SAMPLERS


@pytest.mark.parametrize("lam", [1e-15, 1e-12, 1e-8, 1e-3, 0.7, 5.0])
@pytest.mark.parametrize("kind", ["sde", "ode"])
@pytest.mark.parametrize("alphabar_end", [1.0, 0.999, 0.5])
def test_continuous_moments_relative_precision_against_mpmath(lam, kind, alphabar_end):
    # the C.7/C.8 (SDE) and ODE closed forms at 50 digits; float64 must be relatively exact down to λ = 1e-15
    aT, m, mu0, var0 = 0.3, 0.7, 0.2, 1.4
    mean, var = samplers.continuous_moments([lam], aT, alphabar_end, kind=kind, mean_components=[m],
                                            start_mean=mu0, start_var=var0)
    with mpmath.workdps(50):
        L, A, a = mpmath.mpf(lam), mpmath.mpf(aT), mpmath.mpf(alphabar_end)
        vT, vt = A * L + 1 - A, a * L + 1 - a
        if kind == "sde":
            P = mpmath.sqrt(A) * vt / (vT * mpmath.sqrt(a))
            rm, rv = mpmath.sqrt(a) * m + P * (mu0 - mpmath.sqrt(A) * m), vt + P**2 * (var0 - vT)
        else:
            Q = mpmath.sqrt(vt / vT)
            rm, rv = mpmath.sqrt(a) * m + Q * (mu0 - mpmath.sqrt(A) * m), Q**2 * var0
        assert abs((mean[0] - rm) / rm) <= 1e-13
        assert abs((var[0] - rv) / rv) <= 1e-13
