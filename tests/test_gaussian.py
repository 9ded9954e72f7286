"""KL (eq.11) and W2 between Gaussians: closed forms by hand, float64 vs mpmath, fast paths."""

import array_api_strict as xps
import math

import mpmath
import numpy as np
import pytest

from lindiff_verify.theory import gaussian as g


def test_kl_one_dimensional_by_hand():
    # KL(N(0,1) ‖ N(1,4)) = ½(1/4 − 1 + ln 4 + 1/4)
    val = g.kl_gaussian(np.zeros(1), np.eye(1), np.ones(1), 4 * np.eye(1))
    assert math.isclose(val, 0.5 * (0.25 - 1 + math.log(4) + 0.25), rel_tol=1e-14)


def test_kl_zero_for_equal_and_infinite_for_singular():
    S = np.array([[2.0, 0.5], [0.5, 1.0]])
    assert abs(g.kl_gaussian(np.ones(2), S, np.ones(2), S)) < 1e-14
    assert g.kl_gaussian(np.zeros(2), np.diag([1.0, 0.0]), np.zeros(2), np.eye(2)) == math.inf
    assert g.kl_gaussian(np.zeros(2), np.eye(2), np.zeros(2), np.diag([1.0, 0.0])) == math.inf


def test_kl_float64_vs_mpmath():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((2, 5, 5))
    S0, S1 = A @ A.T + 0.1 * np.eye(5), B @ B.T + 0.1 * np.eye(5)
    m0, m1 = rng.standard_normal((2, 5))
    with mpmath.workdps(40):
        ref = g.kl_gaussian_mp(m0, S0, m1, S1)
    assert abs(g.kl_gaussian(m0, S0, m1, S1) - float(ref)) < 1e-10 * max(1.0, abs(float(ref)))


def test_kl_diag_fast_path():
    v0, v1 = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 0.5])
    m0, m1 = np.zeros(3), np.array([1.0, 0.0, -1.0])
    np.testing.assert_allclose(g.kl_gaussian_diag(m0, v0, m1, v1), g.kl_gaussian(m0, np.diag(v0), m1, np.diag(v1)), rtol=1e-13)
    # r − 1 − ln r without cancellation: r = 1 + 1e-9 gives ≈ 5e-19 per direction
    assert math.isclose(g.kl_gaussian_diag(np.zeros(1), np.array([1 + 1e-9]), np.zeros(1), np.ones(1)), 0.25e-18, rel_tol=1e-5)


def test_w2_commuting_closed_form_and_symmetry():
    rng = np.random.default_rng(1)
    v0, v1 = rng.uniform(0.1, 3, 4), rng.uniform(0.1, 3, 4)
    m0, m1 = rng.standard_normal((2, 4))
    hand = math.sqrt(np.sum((m0 - m1) ** 2) + np.sum((np.sqrt(v0) - np.sqrt(v1)) ** 2))
    assert math.isclose(g.w2_gaussian(m0, np.diag(v0), m1, np.diag(v1)), hand, rel_tol=1e-12)
    assert math.isclose(g.w2_gaussian_diag(m0, v0, m1, v1), hand, rel_tol=1e-14)
    A, B = rng.standard_normal((2, 4, 4))
    S0, S1 = A @ A.T, B @ B.T
    assert math.isclose(g.w2_gaussian(m0, S0, m1, S1), g.w2_gaussian(m1, S1, m0, S0), rel_tol=1e-9)
    with mpmath.workdps(30):
        assert abs(g.w2_gaussian(m0, S0, m1, S1) - float(g.w2_gaussian_mp(m0, S0, m1, S1))) < 1e-9


def test_array_api_strict():
    rng = np.random.default_rng(2)
    A, B = rng.standard_normal((2, 3, 3))
    args = (rng.standard_normal(3), A @ A.T + np.eye(3), rng.standard_normal(3), B @ B.T + np.eye(3))
    strict = [xps.asarray(a) for a in args]
    assert math.isclose(g.kl_gaussian(*strict), g.kl_gaussian(*args), rel_tol=1e-13)
    assert math.isclose(g.w2_gaussian(*strict), g.w2_gaussian(*args), rel_tol=1e-13)
