"""Specification of lindiff_verify.theory.marchenko_pastur (D.12 for Σ0 = s·I, paper fig. 2a)."""

import numpy as np
import pytest
from scipy import integrate

from lindiff_verify.model.errors import InputError
from lindiff_verify.theory.marchenko_pastur import (marchenko_pastur_cdf, marchenko_pastur_density, marchenko_pastur_edges,
                                             marchenko_pastur_moment, marchenko_pastur_point_mass,
                                             marchenko_pastur_stieltjes)
from lindiff_verify.theory.stieltjes import stieltjes


@pytest.mark.parametrize("alpha", [0.2, 1.0, 3.0])
@pytest.mark.parametrize("scale", [1.0, 2.5])
def test_density_moments(alpha, scale):
    lo, hi = marchenko_pastur_edges(alpha, scale=scale)
    f = lambda k: integrate.quad(lambda x: x**k * marchenko_pastur_density(x, alpha, scale=scale), lo, hi, limit=200)[0]
    assert f(0) + marchenko_pastur_point_mass(alpha) == pytest.approx(1, abs=1e-8)
    assert f(1) == pytest.approx(scale, rel=1e-8)  # E(1/d)Tr C = s
    assert f(2) == pytest.approx(scale**2 * (1 + alpha), rel=1e-6)  # by hand: E(1/d)Tr C² → s²(1 + α)


def test_point_mass_and_edges():
    assert marchenko_pastur_point_mass(4.0) == 0.75 and marchenko_pastur_point_mass(0.5) == 0.0
    assert marchenko_pastur_edges(4.0) == pytest.approx((1.0, 9.0))


def test_narayana_moments_by_hand():
    assert marchenko_pastur_moment(3, 2.0) == pytest.approx(1 + 3 * 2 + 4)  # 1 + 3α + α²
    assert marchenko_pastur_moment(0, 2.0) == 1.0


def test_stieltjes_closed_form_matches_solver_and_branch():
    w = np.array([0.5 + 0.2j, -3.0, 2 - 1j, 0.01 + 1e-4j])
    for d, n in ((8, 32), (24, 8)):
        np.testing.assert_allclose(marchenko_pastur_stieltjes(w, d / n, scale=1.5), stieltjes(w, np.full(d, 1.5), n),
                                   rtol=1e-10)
    g = marchenko_pastur_stieltjes(1 + 1e-9j, 0.5)
    assert g.imag / np.pi == pytest.approx(marchenko_pastur_density(1.0, 0.5), rel=1e-6)


def test_cdf():
    assert marchenko_pastur_cdf(100.0, 2.0) == pytest.approx(1.0, abs=1e-10)
    assert marchenko_pastur_cdf(1e-12, 2.0) == pytest.approx(0.5)
    assert marchenko_pastur_cdf(-1.0, 2.0) == 0.0


def test_density_histogram_of_draws():
    from lindiff_verify.simulation.wishart import white_wishart_eigenvalues

    ev = white_wishart_eigenvalues(200, 400, rng=np.random.default_rng(0), batch=10).ravel()
    # P(λ ≤ 0.5) against the CDF: binomial SE ≈ 0.005, allow 5 SE plus O(1/d) edge effects
    assert np.mean(ev <= 0.5) == pytest.approx(marchenko_pastur_cdf(0.5, 0.5), abs=0.03)


@pytest.mark.parametrize("kw", [{"alpha": 0.0}, {"alpha": -1.0}, {"alpha": np.nan}, {"alpha": 1.0, "scale": 0.0}])
def test_bad_input(kw):
    a = kw.pop("alpha")
    with pytest.raises(InputError):
        marchenko_pastur_density(1.0, a, **kw)


def test_bad_z():
    with pytest.raises(InputError, match="z"):
        marchenko_pastur_stieltjes(2.0, 0.5)
