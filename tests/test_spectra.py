"""Population spectra: shapes, order, values derived by hand, data-set spectra."""

import numpy as np
import pytest

from lindiff_verify.model import spectra
from lindiff_verify.model.errors import InputError


def test_white_is_constant():
    assert np.array_equal(spectra.white(4, 2.5), [2.5] * 4)


def test_power_law_values_by_hand():
    s = spectra.power_law(4, 2.0, scale=3.0)
    np.testing.assert_allclose(s, [3.0, 3.0 / 4, 3.0 / 9, 3.0 / 16])


def test_two_point_counts():
    s = spectra.two_point(10, 0.1, 5.0, 0.3)
    assert np.sum(s == 5.0) == 3 and np.sum(s == 0.1) == 7 and s[0] == 5.0


def test_spiked_contains_spikes_and_bulk():
    s = spectra.spiked(5, [10.0, 4.0], bulk=1.0)
    np.testing.assert_array_equal(s, [10.0, 4.0, 1.0, 1.0, 1.0])


def test_spectra_are_read_only_and_descending():
    s = spectra.power_law(6, 1.0)
    assert not s.flags.writeable and np.all(np.diff(s) <= 0)


def test_from_file_npy_and_text(tmp_path):
    np.save(tmp_path / "a.npy", np.array([1.0, 3.0, 2.0]))
    (tmp_path / "b.txt").write_text("1\n3\n2\n")
    for f in ("a.npy", "b.txt"):
        np.testing.assert_array_equal(spectra.from_file(tmp_path / f), [3.0, 2.0, 1.0])


def test_from_file_rounding_negatives(tmp_path):
    np.save(tmp_path / "a.npy", np.array([-1e-12, 1.0]))
    with pytest.raises(InputError, match="spectrum"):
        spectra.from_file(tmp_path / "a.npy")
    np.testing.assert_array_equal(spectra.from_file(tmp_path / "a.npy", negative_tol=1e-10), [1.0, 0.0])


def test_covariance_spectrum_matches_known_covariance():
    # rows ±e_1·2 and ±e_2: covariance diag(4, 1) (estimated mean 0), so eigenvalues 4, 1
    x = np.array([[2.0, 0], [-2.0, 0], [0, 1.0], [0, -1.0]])
    np.testing.assert_allclose(spectra.covariance_spectrum(x), [2.0, 0.5])  # (4+4)/4, (1+1)/4


def test_digits_spectrum():
    s = spectra.digits_spectrum()
    from sklearn.datasets import load_digits

    x = load_digits().data
    assert s.shape == (64,) and np.all(s >= 0)
    np.testing.assert_allclose(s.sum(), x.var(axis=0).sum(), rtol=1e-10)  # trace = total variance
    assert np.sum(s == 0) >= 1  # constant border pixels give an exact null space


def test_image_patch_spectrum():
    s = spectra.image_patch_spectrum(patch=4, n_patches=2000, seed=1)
    assert s.shape == (16,) and np.all(s >= 0) and s[0] > 10 * s[-1]
    np.testing.assert_array_equal(s, spectra.image_patch_spectrum(patch=4, n_patches=2000, seed=1))


def test_cifar10_spectrum():
    if spectra.cifar10_spectrum_path() is None:
        pytest.skip("../shared/data/cifar10_spectrum.npy absent")
    s = spectra.cifar10_spectrum()
    assert s.shape == (3072,) and np.all(s >= 0)
    assert abs(s.mean() - 0.248) < 1e-3 and abs(s[0] - 221.45) < 0.01 and np.sum(s > 1e-8) == 3063


def test_make_spectrum():
    np.testing.assert_array_equal(spectra.make_spectrum("power_law", d=3, k=1.0), [1.0, 0.5, 1 / 3])
    with pytest.raises(InputError, match="spectrum"):
        spectra.make_spectrum("nope")


def test_power_law_trace_normalised_by_hand():
    # d = 3, k = 1: shape 1, 1/2, 1/3 (sum 11/6), scaled to trace 3 → 18/11, 9/11, 6/11
    s = spectra.power_law(3, 1.0, normalise="trace")
    np.testing.assert_allclose(s, [18 / 11, 9 / 11, 6 / 11], rtol=1e-15)
    np.testing.assert_allclose(spectra.power_law(3, 1.0, scale=2.0, normalise="trace").sum(), 6.0, rtol=1e-15)


def test_power_law_default_keeps_the_top_eigenvalue_at_scale():
    np.testing.assert_array_equal(spectra.power_law(5, 1.5), spectra.power_law(5, 1.5, normalise="top"))
    assert spectra.power_law(5, 1.5)[0] == 1.0


def test_power_law_k0_is_white_under_both_normalisations():
    for norm in spectra.POWER_LAW_NORMALISATIONS:
        np.testing.assert_allclose(spectra.power_law(7, 0.0, normalise=norm), np.ones(7), rtol=1e-15)


def test_power_law_unknown_normalisation_names_the_parameter():
    with pytest.raises(InputError, match="normalise"):
        spectra.power_law(4, 1.0, normalise="max")


def test_real_data_spectra_name_what_they_substitute():
    assert "MNIST" in spectra.REAL_DATA_SUBSTITUTES["digits"]
    assert all("substitute" in v for v in spectra.REAL_DATA_SUBSTITUTES.values())
    assert set(spectra.REAL_DATA_SUBSTITUTES) <= set(spectra.SPECTRA)
