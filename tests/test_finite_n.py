"""Specification of lindiff_verify.theory.finite_n: exact finite-N Wishart references (MATH.md §D.22)."""

import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import digamma

from lindiff_verify.theory import finite_n as fn
from lindiff_verify.model.errors import InputError


@pytest.mark.parametrize("n", [5, 12, 40])
def test_one_dimension_against_quadrature(n):
    # d = 1, known mean: N·C ~ χ²_N; E[1/C] and E[ln C] by direct quadrature over the χ² density
    pdf = stats.chi2(n).pdf
    e_inv = integrate.quad(lambda x: n / x * pdf(x), 0, np.inf)[0]
    e_log = integrate.quad(lambda x: math.log(x / n) * pdf(x), 0, np.inf)[0]
    assert math.isclose(fn.expected_trace_inverse(1, n), e_inv, rel_tol=1e-8)
    assert math.isclose(fn.expected_logdet(1, n), e_log, rel_tol=1e-8, abs_tol=1e-10)
    assert math.isclose(fn.expected_kl(1, n), 0.5 * (e_inv - 1 + e_log), rel_tol=1e-8)


def test_estimated_mean_is_known_mean_with_one_sample_less_plus_mean_term():
    # estimated mean: C ~ known-mean covariance of N − 1 samples of Σ0 (N − 1)/N; mean term E Tr(C⁻¹Σ0)/N
    d, n = 7, 30
    known_nm1 = 0.5 * (n * d / (n - d - 2) - d + float(np.sum(digamma((n - np.arange(1, d + 1)) / 2)))
                       + d * math.log(2 / n))
    mean_term = 0.5 * d / (n - d - 2)
    assert math.isclose(fn.expected_kl(d, n, estimated_mean=True), known_nm1 + mean_term, rel_tol=1e-12)


def test_mpmath_and_float_agree_and_closed_form_digamma_sum():
    with mpmath.workdps(40):
        for d, n in [(1, 3), (7, 9), (50, 53), (200, 1000)]:
            assert mpmath.almosteq(fn.digamma_sum_mp(d, n), fn.digamma_sum_mp(d, n, direct=True), 1e-35)
            for est in (False, True):
                if n - est > d + 1:
                    assert math.isclose(float(fn.expected_kl_mp(d, n, estimated_mean=est)),
                                        fn.expected_kl(d, n, estimated_mean=est), rel_tol=1e-10)


def test_series_coefficients_match_hand_derivation():
    # MATH.md §D.22 (derived by hand there): known d(d+1)/4, d(10d²+21d+13)/24; estimated d(d+3)/4, d(10d²+51d+61)/24
    import sympy as sp

    d = sp.Symbol("d", positive=True)
    k1, k2 = fn.kl_series(2)
    e1, e2 = fn.kl_series(2, estimated_mean=True)
    assert sp.expand(k1 - d * (d + 1) / 4) == 0 and sp.expand(k2 - d * (10 * d**2 + 21 * d + 13) / 24) == 0
    assert sp.expand(e1 - d * (d + 3) / 4) == 0 and sp.expand(e2 - d * (10 * d**2 + 51 * d + 61) / 24) == 0


@pytest.mark.parametrize("estimated_mean", [False, True])
def test_series_approximates_exact_value(estimated_mean):
    # truncation after 1/N² leaves O(d⁴/N³); the two mean conventions differ by d/(2N) = 5e-5 here, far above it
    d, n = 10, 10**5
    exact = fn.expected_kl(d, n, estimated_mean=estimated_mean)
    assert abs(fn.kl_series_value(d, n, order=2, estimated_mean=estimated_mean) - exact) <= 2 * d**4 / n**3


def test_each_further_order_of_the_series_shrinks_the_error_by_its_remainder():
    """E DKL − Σ_{k ≤ K} c_k/N^k = O(N^-(K+1)): at d = 2, N = 50 two more orders gain ≳ (N/d²)² ≈ 150× each."""
    d, n = 2, 50
    exact = fn.expected_kl(d, n)
    err = {k: abs(fn.kl_series_value(d, n, order=k) - exact) for k in (3, 5, 7)}
    assert err[5] < err[3] / 100 and err[7] < err[5] / 100, err


def test_proportional_limit_small_alpha_and_d_to_infinity():
    # F(α) = α/4 + 5α²/12 + O(α³);  E DKL − d F(α) → G(α) as d → ∞
    for a in (1e-3, 1e-2):
        assert abs(fn.F(a) - a / 4 - 5 * a**2 / 12) <= a**3
    with mpmath.workdps(40):
        for est, g in ((False, fn.G_known), (True, fn.G_est)):
            d = 10**6
            diff = fn.expected_kl_mp(d, 4 * d, estimated_mean=est) - d * fn.F_mp(mpmath.mpf(1) / 4)
            assert abs(float(diff) - g(0.25)) <= 1e-4


@pytest.mark.parametrize("call,param", [
    (lambda: fn.expected_kl(5, 6), "n_samples"),
    (lambda: fn.expected_kl(5, 7, estimated_mean=True), "n_samples"),
    (lambda: fn.expected_trace_inverse(5, 6), "n_samples"),
    (lambda: fn.expected_logdet(5, 4), "n_samples"),
    (lambda: fn.expected_kl(0, 6), "d"),
    (lambda: fn.F(1.0), "alpha"),
    (lambda: fn.G_known(0.0), "alpha"),
    (lambda: fn.G_est(float("nan")), "alpha"),
    (lambda: fn.F_mp(1.5), "alpha"),
])
def test_bad_input_names_parameter(call, param):
    with pytest.raises(InputError) as err:
        call()
    assert err.value.parameter == param
