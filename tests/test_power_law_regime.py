"""Power-law regime measurement of eq.13/eq.14 (lindiff_verify.simulation.power_law_regime)."""

import numpy as np
import pytest

from lindiff_verify.model import spectra
from lindiff_verify.model.errors import InputError
from lindiff_verify.simulation import power_law_regime as P
from lindiff_verify.theory.real_gaussian import corrected_resolvent


def _fd_gap(q, sig, n, h=1e-5):
    # second-order traces as central differences of the X.1 first-order traces in z (independent of the analytic path)
    lo, mid, hi = corrected_resolvent(q * np.array([1 - h, 1.0, 1 + h]), sig, n)
    dz = 2 * h * q
    tr_r2 = -(hi.tr_R - lo.tr_R) / dz
    tr_rsr = -(hi.tr_Sigma_R - lo.tr_Sigma_R) / dz
    return -q * mid.tr_R + q * q * tr_r2 + q * tr_rsr


@pytest.mark.parametrize("norm", ["trace", "top"])
def test_analytic_derivative_matches_a_finite_difference(norm):
    sig = spectra.power_law(60, 2.0, normalise=norm)
    for q in (0.1, 1.0):
        assert P.corrected(q, sig, 120)[0] == pytest.approx(_fd_gap(q, sig, 120), rel=1e-5)


def test_monte_carlo_agrees_with_the_corrected_equivalent_at_small_d():
    rng = np.random.default_rng(1)
    sig = spectra.power_law(20, 1.0, normalise="trace")
    gap, se = P.monte_carlo((0.5,), sig, 40, 3000, rng)[0.5]["gap"]
    assert abs(P.corrected(0.5, sig, 40)[0] - gap) < 4 * se + 0.02 * abs(gap)  # X.1 remainder O(1/d²) relative


def test_rate_of_a_pure_power_is_recovered():
    rows = [{"normalise": "trace", "q": 0.1, "d": d, "e": 3.0 * d**-0.5} for d in (10, 100, 1000)]
    assert P.rate(rows, key="e")[("trace", 0.1)] == pytest.approx(0.5)


def test_bad_normalisation_names_the_parameter():
    with pytest.raises(InputError, match="normalise"):
        P.measure([10], normalise="sum")
