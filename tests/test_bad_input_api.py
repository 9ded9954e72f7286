"""Bad input through the public Python API, table-driven.

Each row calls one public function with one bad argument. It passes when the call raises the project's
InputError whose one-line message names the parameter and states what is allowed — never a traceback from
deep inside NumPy/SciPy, a NaN or a silently wrong result.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from lindiff_verify.model import data, schedules, spectra
from lindiff_verify.model.errors import InputError
from lindiff_verify.model.vp import VPSchedule, discrete_grid, make_grid, vp_grid
from lindiff_verify.simulation import montecarlo, wishart
from lindiff_verify.theory import (denoiser, dynamics, extrapolation, finite_n, gaussian, marchenko_pastur, real_gaussian, replica, samplers,
                                   stieltjes)
from lindiff_verify.verification import tolerance
from lindiff_verify.verification.context import Context

SIG = np.array([0.5, 1.0, 2.0])
SCH = schedules.linear(20)
RNG = np.random.default_rng(0)

ROWS = [
    # spectra
    ("white d=0", lambda: spectra.white(0), "d"),
    ("white d=True", lambda: spectra.white(True), "d"),
    ("white d=2.5", lambda: spectra.white(2.5), "d"),
    ("white scale=-1", lambda: spectra.white(3, scale=-1.0), "scale"),
    ("power_law k<0", lambda: spectra.power_law(3, -1), "k"),
    ("power_law k=nan", lambda: spectra.power_law(3, float("nan")), "k"),
    ("power_law d='3'", lambda: spectra.power_law("3", 1.0), "d"),
    ("two_point fraction>1", lambda: spectra.two_point(3, 1, 2, 1.5), "fraction_high"),
    ("two_point low<0", lambda: spectra.two_point(3, -1, 2, 0.5), "low"),
    ("spiked too many", lambda: spectra.spiked(1, [1.0, 2.0]), "spikes"),
    ("spiked negative", lambda: spectra.spiked(3, [-1.0]), "spikes"),
    ("from_file missing", lambda: spectra.from_file("/nonexistent.npy"), "path"),
    ("make_spectrum unknown", lambda: spectra.make_spectrum("zipf", d=3), "spectrum"),
    ("image_patch patch=33", lambda: spectra.image_patch_spectrum(patch=33), "patch"),
    # data
    ("sample_gaussian n=0", lambda: data.sample_gaussian(0, SIG, rng=RNG), "n"),
    ("sample_gaussian n=True", lambda: data.sample_gaussian(True, SIG, rng=RNG), "n"),
    ("sample_gaussian legacy rng", lambda: data.sample_gaussian(3, SIG, rng=np.random.RandomState(0)), "rng"),
    ("sample_gaussian bad rotation", lambda: data.sample_gaussian(3, SIG, rotation=np.eye(2), rng=RNG), "rotation"),
    ("sample_gaussian negative spectrum", lambda: data.sample_gaussian(3, [1.0, -1.0], rng=RNG), "spectrum"),
    ("empirical_moments N=1 estimated", lambda: data.empirical_moments(np.ones((1, 3)), estimated_mean=True), "N"),
    ("empirical_moments nan", lambda: data.empirical_moments(np.array([[1.0, np.nan], [0.0, 1.0]])), "x"),
    # schedules
    ("linear T=0", lambda: schedules.linear(0), "num_train_timesteps"),
    ("linear T=True", lambda: schedules.linear(True), "num_train_timesteps"),
    ("linear beta_end>1", lambda: schedules.linear(10, 1e-4, 1.5), "beta_end"),
    ("constant beta=0", lambda: schedules.constant(0.0, 10), "beta"),
    ("cosine s<0", lambda: schedules.cosine(10, s=-0.1), "s"),
    ("from_betas 1.0", lambda: schedules.from_betas([0.1, 1.0]), "betas"),
    ("from_betas empty", lambda: schedules.from_betas([]), "betas"),
    ("make_schedule unknown", lambda: schedules.make_schedule("sigmoid"), "schedule"),
    ("timestep t=0", lambda: SCH.timestep(0), "t"),
    ("timestep t>T", lambda: SCH.timestep(21), "t"),
    ("timestep t=True", lambda: SCH.timestep(True), "t"),
    # vp grids
    ("VPSchedule beta_min<0", lambda: VPSchedule(-0.1, 20.0), "beta_min"),
    ("vp_grid num_steps=0", lambda: vp_grid(VPSchedule(0.1, 20.0), 0), "num_steps"),
    ("vp_grid num_steps=False", lambda: vp_grid(VPSchedule(0.1, 20.0), False), "num_steps"),
    ("discrete_grid t_stop<0", lambda: discrete_grid(SCH, -1), "t_stop"),
    ("make_grid vp without steps", lambda: make_grid(VPSchedule(0.1, 20.0)), "num_steps"),
    # samplers
    ("exact_law unknown sampler", lambda: samplers.exact_law("dpm", SIG, SCH), "sampler"),
    ("exact_law negative eigenvalue", lambda: samplers.exact_law("ddpm", [1.0, -1.0], SCH), "eigvals"),
    ("exact_law c<0", lambda: samplers.exact_law("ddpm", SIG, SCH, c=-1.0), "c"),
    ("exact_law mean shape", lambda: samplers.exact_law("ddpm", SIG, SCH, mean_components=[1.0]), "mean_components"),
    ("ddpm_moments variance", lambda: samplers.ddpm_moments(SIG, SCH, variance="sigma"), "variance"),
    ("continuous_moments kind", lambda: samplers.continuous_moments(SIG, 0.01, kind="jump"), "kind"),
    ("continuous_moments alphabar>1", lambda: samplers.continuous_moments(SIG, 1.5), "alphabar_start"),
    ("kl_divergence negative variance", lambda: samplers.kl_divergence([0.0], [1.0], [0.0], [-1.0]), "var_s"),
    ("kl_divergence shapes", lambda: samplers.kl_divergence([0.0, 1.0], [1.0], [0.0], [1.0]), "mu0"),
    # finite-N references
    ("expected_kl d=True", lambda: finite_n.expected_kl(True, 100), "d"),
    ("expected_kl n too small", lambda: finite_n.expected_kl(10, 11), "n_samples"),
    ("expected_kl n=1.5", lambda: finite_n.expected_kl(2, 1.5), "n_samples"),
    ("expected_logdet n<d", lambda: finite_n.expected_logdet(10, 5), "n_samples"),
    ("expected_trace_inverse d=0", lambda: finite_n.expected_trace_inverse(0, 10), "d"),
    ("kl_series order=0", lambda: finite_n.kl_series(0), "order"),
    ("digamma_sum_mp n<d", lambda: finite_n.digamma_sum_mp(5, 3), "n"),
    # replica / Stieltjes / MP
    ("solve_kappa z<0", lambda: stieltjes.solve_kappa(np.array([-1.0]), SIG, 10), "z"),
    ("solve_kappa n=0", lambda: stieltjes.solve_kappa(np.array([1.0]), SIG, 0), "n_samples"),
    ("Equivalents n=0", lambda: replica.Equivalents.from_spectrum(0.5, SIG, 0), "n_samples"),
    ("solve_kappa n=True", lambda: stieltjes.solve_kappa(np.array([1.0]), SIG, True), "n_samples"),
    ("solve_kappa spectrum 0", lambda: stieltjes.solve_kappa(np.array([1.0]), [0.0, 1.0], 10), "spectrum"),
    ("solve_kappa multiplicities", lambda: stieltjes.solve_kappa(np.array([1.0]), SIG, 10, multiplicities=[1, 2]),
     "multiplicities"),
    ("averaged_test_loss q<0", lambda: replica.averaged_test_loss(np.array([-0.1]), SIG, 10), "q"),
    ("averaged_test_loss c<0", lambda: replica.averaged_test_loss(np.array([0.1]), SIG, 10, c=-1.0), "c"),
    ("averaged_kl eps=0", lambda: replica.averaged_kl(0.0, SIG, 10), "eps"),
    ("mp density alpha<0", lambda: marchenko_pastur.marchenko_pastur_density(np.array([1.0]), -0.5), "alpha"),
    ("mp moment k=True", lambda: marchenko_pastur.marchenko_pastur_moment(True, 0.5), "k"),
    ("mp edges scale=0", lambda: marchenko_pastur.marchenko_pastur_edges(0.5, scale=0.0), "scale"),
    ("corrected_resolvent z<0", lambda: real_gaussian.corrected_resolvent(-1.0, SIG, 10), "z"),
    # Gaussian measures
    ("kl_gaussian not PD", lambda: gaussian.kl_gaussian(np.zeros(2), np.eye(2), np.zeros(2), -np.eye(2)), "Sigma_s"),
    ("kl_gaussian shapes", lambda: gaussian.kl_gaussian(np.zeros(3), np.eye(2), np.zeros(2), np.eye(2)), "mu0"),
    ("w2_gaussian_diag negative", lambda: gaussian.w2_gaussian_diag([0.0], [-1.0], [0.0], [1.0]), "var0"),
    # dynamics
    ("rates alphabar=0", lambda: dynamics.rates(SIG, 0.0), "alphabar"),
    ("rates gamma<0", lambda: dynamics.rates(SIG, 0.5, -1.0), "gamma"),
    ("weights_gd eta<0", lambda: dynamics.weights_gd(np.zeros((3, 3)), SIG, 0.5, 0.0, -0.1, 3), "eta"),
    ("weights_gd k=True", lambda: dynamics.weights_gd(np.zeros((3, 3)), SIG, 0.5, 0.0, 0.1, True), "k"),
    ("mp_test_loss ratio=0", lambda: dynamics.mp_test_loss(np.array([1.0]), 0.0, 0.5), "ratio"),
    # Wishart
    ("sample_covariance n=0", lambda: wishart.sample_covariance(SIG, 0, rng=RNG), "n_samples"),
    ("sample_covariance batch=0", lambda: wishart.sample_covariance(SIG, 5, rng=RNG, batch=0), "batch"),
    ("white_wishart method", lambda: wishart.white_wishart_eigenvalues(3, 5, rng=RNG, method="qr"), "method"),
    ("white_wishart d=True", lambda: wishart.white_wishart_eigenvalues(True, 5, rng=RNG), "d"),
    ("resolvent_trace z<0", lambda: wishart.resolvent_trace(np.ones((2, 3)), -1.0), "z"),
    # verification
    ("Context seed<0", lambda: Context(seed=-1), "seed"),
    ("Context seed=True", lambda: Context(seed=True), "seed"),
    ("Context fidelity", lambda: Context(fidelity="medium"), "fidelity"),
    ("Context backend", lambda: Context(backend="torch"), "backend"),
    ("bonferroni false_alarm=0", lambda: tolerance.bonferroni_z(3, false_alarm=0.0), "false_alarm"),
    ("monte_carlo false_alarm=2", lambda: tolerance.monte_carlo(1.0, 1, false_alarm=2.0), "false_alarm"),
    # each of these was a mutant nobody saw (a wrong name or a missing problem in the message)
    ("population_diagonal Sigma0 with NaN", lambda: denoiser.population_diagonal(np.eye(2), np.array([[1.0, np.nan], [0, 1]])),
     "Sigma0"),
    ("optimal_denoiser C not square", lambda: denoiser.optimal_denoiser(np.ones((2, 3)), np.zeros(2), 0.5), "C"),
    ("solve_kappa_mp eigenvalue 0", lambda: stieltjes.solve_kappa_mp(1.0, [0.0, 1.0], 4), "spectrum"),
    ("solve_kappa_mp multiplicity 0", lambda: stieltjes.solve_kappa_mp(1.0, [0.5, 1.0], 4, multiplicities=[0, 2]),
     "multiplicities"),
    ("solve_kappa_mp exact multiplicity 0", lambda: stieltjes.solve_kappa_mp(1.0, ["0.5", "1"], 4, multiplicities=["0", "2"]),
     "multiplicities"),
    ("diagonal_weights tau<0", lambda: dynamics.diagonal_weights(SIG, 0.5, 0.0, [-1.0]), "tau"),
    ("w2_gaussian_diag var1 shape", lambda: gaussian.w2_gaussian_diag(np.zeros(2), np.ones(2), np.zeros(2), np.ones(3)),
     "var1"),
    ("white_wishart_resolvent_statistics d=0", lambda: wishart.white_wishart_resolvent_statistics(0, 4, [1.0], rng=RNG),
     "d"),
    ("MatrixDenoiser C not square", lambda: montecarlo.MatrixDenoiser(make_grid(SCH), np.ones((2, 3)), np.zeros(2)), "C"),
    ("MatrixDenoiser C not a covariance", lambda: montecarlo.MatrixDenoiser(make_grid(SCH), np.diag([1.0, -0.5]),
                                                                            np.zeros(2)), "C"),
    ("discrete_grid not a schedule", lambda: discrete_grid("linear"), "schedule"),
    ("make_grid discrete with num_steps != T", lambda: make_grid(SCH, num_steps=7), "num_steps"),
    ("fit_finite_size d with NaN", lambda: extrapolation.fit_finite_size([10, np.nan, 40], [1, 1, 1], [1, 1, 1]), "d"),
    ("fit_finite_size se=0", lambda: extrapolation.fit_finite_size([10, 20, 40], [1, 1, 1], [1, 0, 1]), "se"),
    ("VPSchedule beta_max<0", lambda: VPSchedule(0.1, -1.0), "beta_max"),
    ("training_loss C of another size", lambda: denoiser.training_loss(np.eye(2), np.zeros(2), np.eye(3), np.zeros(2), 0.5),
     "C"),
    ("Context.batch_seeds n=0", lambda: Context().batch_seeds("draws", 0, 16), "n"),
    ("Context.batch_seeds batch=0", lambda: Context().batch_seeds("draws", 10, 0), "batch"),
    ("marchenko_pastur_edges scale=0", lambda: marchenko_pastur.marchenko_pastur_edges(0.5, scale=0.0), "scale"),
]


def test_the_table_is_large_enough():
    assert len(ROWS) >= 60


@pytest.mark.parametrize("call, name", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_bad_input_raises_one_line_naming_the_parameter(call, name):
    with pytest.raises(InputError) as info:
        out = call()
        pytest.fail(f"returned {out!r} instead of raising")  # pragma: no cover
    msg = str(info.value)
    assert "\n" not in msg
    # the parameter itself, or one of its entries or items ("spikes[1]", "--seed"): not a word that contains it
    assert re.fullmatch(rf"(--)?{re.escape(name)}([\[ .:=].*)?", info.value.parameter), msg
    assert info.value.problem and "None" not in info.value.problem, msg  # says what is wrong with it
    assert "allowed:" in msg, msg
