"""Gaussian data: Haar rotations, sampling, empirical moments in both mean conventions."""

import array_api_strict as xps
import numpy as np
import pytest

from lindiff_verify.model import data


def test_random_rotation_orthogonal_and_haar_first_moment():
    rng = np.random.default_rng(0)
    Q = data.random_rotation(5, rng)
    np.testing.assert_allclose(Q @ Q.T, np.eye(5), atol=1e-12)
    # Haar: E[Q_11²] = 1/d; 2000 draws give SE ≈ sqrt(2/(d(d+2)))/sqrt(2000) ≈ 0.006
    vals = [data.random_rotation(5, rng)[0, 0] ** 2 for _ in range(2000)]
    assert abs(np.mean(vals) - 0.2) < 5 * 0.0053


def test_sample_gaussian_covariance():
    rng = np.random.default_rng(1)
    O = data.random_rotation(3, rng)
    spec = np.array([4.0, 1.0, 0.25])
    mu = np.array([1.0, -2.0, 0.5])
    x = data.sample_gaussian(200000, spec, mean=mu, rotation=O, rng=rng)
    S = O @ np.diag(spec) @ O.T
    np.testing.assert_allclose(x.mean(axis=0), mu, atol=5 * np.sqrt(4.0 / 200000))
    np.testing.assert_allclose(np.cov(x.T), S, atol=5 * 4.0 * np.sqrt(2 / 200000))


def test_empirical_moments_by_hand():
    x = np.array([[1.0, 2.0], [3.0, 0.0]])
    m, C = data.empirical_moments(x)
    np.testing.assert_allclose(m, [2.0, 1.0])
    np.testing.assert_allclose(C, [[1.0, -1.0], [-1.0, 1.0]])
    m0, C0 = data.empirical_moments(x, estimated_mean=False)
    np.testing.assert_allclose(m0, [0.0, 0.0])
    np.testing.assert_allclose(C0, [[5.0, 1.0], [1.0, 2.0]])


def test_known_mean_allows_one_sample():
    m, C = data.empirical_moments(np.array([[2.0, 1.0]]), estimated_mean=False)
    np.testing.assert_allclose(C, [[4.0, 2.0], [2.0, 1.0]])


@pytest.mark.parametrize("estimated", [True, False])
def test_empirical_moments_array_api_strict(estimated):
    x = np.random.default_rng(2).standard_normal((7, 3))
    m, C = data.empirical_moments(xps.asarray(x), estimated_mean=estimated)
    mr, Cr = data.empirical_moments(x, estimated_mean=estimated)
    np.testing.assert_allclose(np.from_dlpack(C), Cr, atol=1e-14)
    np.testing.assert_allclose(np.from_dlpack(m), mr, atol=1e-14)
