"""Specification of lindiff_verify.theory.real_gaussian: the next-order (real-Gaussian) mean resolvent (X.1)."""

import numpy as np
import pytest

from lindiff_verify.model.errors import InputError
from lindiff_verify.theory.real_gaussian import corrected_resolvent, corrected_traces
from lindiff_verify.theory.replica import Equivalents


def test_solution_satisfies_its_defining_equations():
    sig = np.linspace(0.3, 3.0, 12)
    s = corrected_resolvent(0.2, sig, 10)
    g = sig**2 / (10 * s.D * (sig + s.kappa) ** 2)
    np.testing.assert_allclose(s.g, g, rtol=1e-14)
    np.testing.assert_allclose((0.2 + (1 - s.tau) * sig) * s.r, 1 + g, rtol=1e-12)
    assert s.tau == pytest.approx(np.sum(1 - 0.2 * s.r) / 10, rel=1e-12)


def test_inverse_wishart_limit_by_hand():
    # z → 0, N > d + 1: σ r = N(N − d + 1)/(N − d)² (by hand from (★★) with κ = 0, τ = d/N, D = 1 − d/N);
    # exact E[C⁻¹]σ = N/(N − d − 1). At d = 20, N = 60: 60·41/1600 = 1.5375 against 60/39.
    s = corrected_resolvent(1e-9, np.full(20, 2.0), 60)
    np.testing.assert_allclose(2.0 * s.r, 60 * 41 / 1600, rtol=1e-6)
    assert abs(2.0 * s.r[0] / (60 / 39) - 1) == pytest.approx(1 / 40**2, rel=1e-4)  # |corrected/exact − 1| = 1/(N − d)²


def test_tends_to_leading_order_as_n_grows():
    sig = np.linspace(0.5, 2.0, 8)
    gaps = []
    for n in (100, 1000, 10000):
        a, _ = corrected_traces(0.3, sig, n)
        gaps.append(abs(a / Equivalents.from_spectrum(0.3, sig, n).tr_R - 1))
    # at fixed d the correction g_i = σ²/(N D (σ+κ)²) is O(1/N) relative: tenfold N, about tenfold smaller
    assert 8 < gaps[0] / gaps[1] < 12 and 8 < gaps[1] / gaps[2] < 12


def test_correction_increases_the_traces():
    # Monte Carlo (X.1) shows the leading order underestimates E Tr R; the correction g_i > 0 raises it
    sig = np.linspace(0.5, 2.0, 30)
    a, b = corrected_traces([0.05, 1.0], sig, 30)
    e = Equivalents.from_spectrum(np.array([0.05, 1.0]), sig, 30)
    assert np.all(a > e.tr_R) and np.all(b > e.tr_Sigma_R)


def test_estimated_mean_is_the_reduced_known_mean_problem():
    sig = np.linspace(0.5, 2.0, 10)
    est = corrected_resolvent(0.4, sig, 25, estimated_mean=True)
    red = corrected_resolvent(0.4, sig * 24 / 25, 24)
    np.testing.assert_allclose(est.r, red.r, rtol=1e-12)


@pytest.mark.parametrize("kw", [dict(z=0.0), dict(z=-1.0), dict(n=0), dict(spectrum=[1.0, -1.0])])
def test_bad_input(kw):
    args = dict(z=0.1, spectrum=[1.0, 2.0], n=5) | kw
    with pytest.raises(InputError):
        corrected_resolvent(args["z"], args["spectrum"], args["n"])
