"""Bad input raises InputError naming the parameter."""

import numpy as np
import pytest

from lindiff_verify.model import data, schedules, spectra
from lindiff_verify.theory import denoiser, gaussian
from lindiff_verify.theory.denoiser import LinearDenoiser
from lindiff_verify.model.errors import InputError

SCH = schedules.linear(5)


@pytest.mark.parametrize("bad", [[1.0, -0.5], [1.0, np.nan], [np.inf], [[1.0]]])
def test_bad_spectra(bad, tmp_path):
    with pytest.raises(InputError, match="spikes"):
        spectra.spiked(3, bad)
    np.save(tmp_path / "s.npy", np.array(bad, dtype=float))
    with pytest.raises(InputError, match="spectrum"):
        spectra.from_file(tmp_path / "s.npy") if np.ndim(bad) == 1 else (_ for _ in ()).throw(InputError("spectrum", "2-d"))


@pytest.mark.parametrize("call, name", [
    (lambda: spectra.white(0), "d"),
    (lambda: spectra.power_law(3, -1), "k"),
    (lambda: spectra.two_point(3, 1, 2, 1.5), "fraction_high"),
    (lambda: spectra.spiked(1, [1.0, 2.0]), "spikes"),
    (lambda: spectra.image_patch_spectrum(patch=33), "patch"),
    (lambda: spectra.from_file("/nonexistent.npy"), "path"),
    (lambda: spectra.cifar10_spectrum("/nonexistent.npy"), "path"),
])
def test_bad_spectrum_parameters(call, name):
    with pytest.raises(InputError, match=name):
        call()


def test_sample_counts():
    with pytest.raises(InputError, match="N"):
        data.empirical_moments(np.ones((1, 3)), estimated_mean=True)
    with pytest.raises(InputError, match="N"):
        data.empirical_moments(np.ones((0, 3)), estimated_mean=False)
    with pytest.raises(InputError, match="x"):
        data.empirical_moments(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(InputError, match="rng"):
        data.sample_gaussian(3, [1.0], rng=np.random.RandomState(0))
    with pytest.raises(InputError, match="rotation"):
        data.sample_gaussian(3, [1.0, 1.0], rotation=np.eye(3), rng=np.random.default_rng(0))


def test_denoiser_bad_input():
    C = np.eye(3)
    with pytest.raises(InputError, match="c"):
        LinearDenoiser.fit(C, None, SCH, c=-0.1)
    with pytest.raises(InputError, match="gamma"):
        LinearDenoiser.fit(C, None, SCH, gamma=np.full(4, 0.1))
    with pytest.raises(InputError, match="gamma"):
        LinearDenoiser.fit(C, None, SCH, gamma=-np.ones(5))
    with pytest.raises(InputError, match="C"):
        LinearDenoiser.fit(np.diag([1.0, -1.0, 1.0]), None, SCH)
    with pytest.raises(InputError, match="C"):
        LinearDenoiser.fit(np.ones((3, 2)), None, SCH)
    with pytest.raises(InputError, match="m"):
        LinearDenoiser.fit(C, np.zeros(2), SCH)
    with pytest.raises(InputError, match="alphas_cumprod"):
        LinearDenoiser.fit(C, None, np.array([0.5, 1.0]))
    with pytest.raises(InputError, match="betas"):
        LinearDenoiser.fit(C, None, schedules.from_betas([0.5, 1.2]))
    den = LinearDenoiser.fit(C, None, SCH)
    with pytest.raises(InputError, match="t"):
        den.W(6)
    with pytest.raises(InputError, match="Sigma0"):
        den.gap(np.zeros(3), np.eye(2))
    with pytest.raises(InputError, match="mu0"):
        den.test_loss(np.zeros(2), np.eye(3))
    with pytest.raises(InputError, match="alphabar"):
        denoiser.training_loss(C, np.zeros(3), C, np.zeros(3), 1.0)
    with pytest.raises(InputError, match="eigenvalues"):
        denoiser.residual_loss([-1.0], SCH)


def test_gaussian_bad_input():
    with pytest.raises(InputError, match="Sigma_s"):
        gaussian.kl_gaussian(np.zeros(2), np.eye(2), np.zeros(2), np.diag([1.0, -1.0]))
    with pytest.raises(InputError, match="m_s"):
        gaussian.kl_gaussian(np.zeros(2), np.eye(2), np.zeros(3), np.eye(2))
    with pytest.raises(InputError, match="Sigma0"):
        gaussian.kl_gaussian(np.zeros(2), np.array([[1.0, np.inf], [0, 1]]), np.zeros(2), np.eye(2))
    with pytest.raises(InputError, match="var_s"):
        gaussian.kl_gaussian_diag(np.zeros(2), np.ones(2), np.zeros(2), -np.ones(2))
    with pytest.raises(InputError, match="Sigma1"):
        gaussian.w2_gaussian(np.zeros(2), np.eye(2), np.zeros(2), np.eye(3))
