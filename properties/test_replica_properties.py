"""Hypothesis properties of the D.11/D.12 solvers (lindiff_verify.theory.stieltjes) and D.16."""

import mpmath
import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lindiff_verify.theory.stieltjes import solve_kappa, solve_kappa_mp, solve_zeta, stieltjes
from properties.strategies import eigenvalues

spectra = eigenvalues(min_size=1, max_size=30, lo=1e-3, hi=1e3)
n_samples = st.integers(1, 200)
zs = st.floats(1e-6, 1e4, allow_nan=False)


@given(spectra, n_samples, zs)
def test_kappa_positive_and_solves_d11(sig, n, z):
    k = solve_kappa(z, sig, n)
    assert k > 0
    resid = k - z - (k / n) * np.sum(sig / (sig + k))
    assert abs(resid) <= 1e-12 * (z + k * (1 + sig.size / n))


@given(spectra, n_samples, zs, st.floats(1.001, 10))
def test_kappa_increasing_and_zeta_in_unit_interval(sig, n, z, factor):
    k1, k2 = solve_kappa(np.array([z, z * factor]), sig, n)
    assert k2 >= k1 * (1 - 1e-13)
    zt = solve_zeta(z, sig, n)
    assert 0 < zt <= 1 + 1e-14


@given(spectra, n_samples, zs)
def test_d16_spectrum_free(sig, n, z):
    """ζ = 1 − α + α z g(−z) for every spectrum (D.16)."""
    a = sig.size / n
    g = stieltjes(-z, sig, n).real
    assert abs(solve_zeta(z, sig, n) - (1 - a + a * z * g)) <= 1e-10 * (1 + a)


@given(spectra, n_samples, st.floats(-50, 50), st.floats(1e-3, 50))
# found by the thorough profile: Newton's step, halved 40 times to stay in the branch, passed for convergence
@example(sig=np.array([1., 2., 315., 391., 395., 554., 570., 820., 853., 923., 958.]), n=9, x=5.5, y=0.00390625)
def test_branch_im_g_positive_and_conjugate(sig, n, x, y):
    w = np.array([x + 1j * y, x - 1j * y])
    g = stieltjes(w, sig, n)
    assert g[0].imag > 0 and np.isclose(g[1], np.conj(g[0]), rtol=1e-12, atol=0)
    assert abs(g[0]) <= 1 / y * (1 + 1e-9)  # |g| ≤ 1/Im w for a Stieltjes transform of a probability law


@settings(max_examples=10, deadline=None)
@given(st.lists(st.floats(1e-2, 1e2), min_size=1, max_size=8).map(np.array), st.integers(1, 20), st.floats(1e-4, 1e2))
def test_float64_agrees_with_mpmath(sig, n, z):
    km = solve_kappa_mp(z, sig, n, dps=30)
    kf = solve_kappa(z, sig, n)
    assert abs(float(km) - kf) <= 1e-12 * kf
    with mpmath.workdps(30):
        resid = km - z - km / n * mpmath.fsum(mpmath.mpf(float(s)) / (mpmath.mpf(float(s)) + km) for s in sig)
        assert abs(resid) < mpmath.mpf(10) ** -25 * (1 + km * (1 + len(sig) / n))
