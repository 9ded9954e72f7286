"""Discretising a continuous VP schedule into DDPM steps, by name (docs/fidelity.md)."""

import numpy as np
import pytest

from lindiff_verify.model.errors import InputError
from lindiff_verify.model.vp import VPSchedule, discretise_vp
from lindiff_verify.model import schedules
from lindiff_verify.theory import samplers


def test_num_steps_counts_steps_not_grid_points():
    sch = discretise_vp(VPSchedule(0.1, 20.0), 7)
    assert sch.num_train_timesteps == 7  # 8 grid points t_0 .. t_7


def test_alphabar_ratio_matches_the_continuous_alphabar_at_every_grid_point():
    vp = VPSchedule(0.1, 20.0)
    sch = discretise_vp(vp, 50)
    t = np.linspace(0.0, 1.0, 51)[1:]
    np.testing.assert_allclose(sch.alphas_cumprod, np.exp(-(0.1 * t + 0.5 * 19.9 * t**2)), rtol=1e-12)


def test_rate_discretisation_is_first_order_in_the_step():
    vp = VPSchedule(0.1, 20.0)
    err = [abs(np.log(discretise_vp(vp, K, method="rate").alphas_cumprod[-1]) - vp.log_alphabar(1.0)) for K in (500, 1000)]
    assert err[0] / err[1] == pytest.approx(2.0, rel=0.05)


def test_halved_convention_is_song_with_twice_the_rate():
    for method in ("alphabar_ratio", "rate"):
        a = discretise_vp(VPSchedule(0.05, 10.0), 200, method=method, convention="halved")
        b = discretise_vp(VPSchedule(0.1, 20.0), 200, method=method, convention="song")
        np.testing.assert_allclose(a.betas, b.betas, rtol=1e-13)


def test_pierret_galerne_rate_is_two_dt_beta():
    vp = VPSchedule(0.05, 10.0)
    sch = discretise_vp(vp, 100, method="rate", convention="halved")
    t = np.arange(1, 101) / 100
    np.testing.assert_allclose(sch.betas, 2 * 0.01 * (0.05 + t * 9.95), rtol=1e-13)


@pytest.mark.parametrize("kw, name", [({"method": "exact"}, "method"), ({"convention": "karras"}, "convention"),
                                      ({"t_stop": 1.0}, "t_stop")])
def test_bad_discretisation_input_names_the_parameter(kw, name):
    with pytest.raises(InputError, match=name):
        discretise_vp(VPSchedule(), 10, **kw)


def test_no_noise_at_the_last_step_removes_exactly_sigma_1_squared():
    lam = np.array([0.0, 0.5, 3.0])
    sch = schedules.merger_goldt()
    for fn in (samplers.ddpm_moments, lambda lam, s, **k: samplers.exact_moments("ddpm", lam, s, **k)):
        v1 = fn(lam, sch)[1]
        v0 = fn(lam, sch, final_noise=False)[1]
        np.testing.assert_allclose(v1 - v0, sch.betas[0], rtol=1e-9)
