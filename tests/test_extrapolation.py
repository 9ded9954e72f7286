"""Specification of lindiff_verify.theory.extrapolation (finite-size fits in 1/d)."""

import numpy as np
import pytest

from lindiff_verify.model.errors import InputError
from lindiff_verify.theory.extrapolation import fit_finite_size
from lindiff_verify.verification.checks import judge
from lindiff_verify.verification.registry import Outcome
from lindiff_verify.verification.tolerance import bonferroni_z


def test_exact_line_is_recovered():
    d = np.array([10, 20, 40, 80.0])
    f = fit_finite_size(d, 2.0 + 3.0 / d, np.full(4, 0.01))
    assert f.value == pytest.approx(2.0) and f.slope == pytest.approx(3.0) and f.chi2 == pytest.approx(0, abs=1e-18)
    assert f.dof == 2


def test_standard_error_by_hand_two_points_plus_one():
    # equal SEs s at x = 1/d ∈ {0, 1/2, 1}: Var(v∞) = s² Σx²/(nΣx² − (Σx)²) = s² (5/4)/(3·5/4 − 9/4) = (5/6) s²
    d = np.array([1e300, 2.0, 1.0])
    f = fit_finite_size(d, [1.0, 1.5, 2.0], [0.1, 0.1, 0.1])
    assert f.se == pytest.approx(0.1 * np.sqrt(5 / 6), rel=1e-9)


def test_order_two_and_prediction():
    d = np.array([10, 20, 40, 80, 160.0])
    f = fit_finite_size(d, 1 + 2 / d + 5 / d**2, np.full(5, 1e-3), order=2)
    assert (f.value, f.slope, f.curvature) == pytest.approx((1, 2, 5))
    np.testing.assert_allclose(f.predict(d), 1 + 2 / d + 5 / d**2)


def test_coverage_of_the_standard_error():
    rng = np.random.default_rng(0)
    d = np.array([25, 50, 100, 200.0])
    se = 0.02 / np.sqrt(d)
    z = [(fit_finite_size(d, 1 + 0.5 / d + se * rng.standard_normal(4), se).value - 1) / fit_finite_size(
        d, np.ones(4), se).se for _ in range(2000)]
    assert np.std(z) == pytest.approx(1.0, abs=0.05)


def test_judge_is_corrected_for_the_family_of_its_outcome():
    """z·SE(v∞) with z Bonferroni over the outcome's statistical cases (nobody counts them by hand)."""
    d = np.array([10, 20, 40.0])
    f = fit_finite_size(d, 1 + 1 / d, [0.01, 0.01, 0.01])
    out = Outcome([judge({"x": k}, f, 1.0) for k in range(4)])
    assert [float(c.tolerance) for c in out.judged] == pytest.approx([bonferroni_z(4) * f.se] * 4)
    assert out.verdict == "agree" and "Bonferroni over 4 case(s)" in out.tolerance_model
    assert not judge({}, f, 1 + 10 * f.se * bonferroni_z(4)).ok


@pytest.mark.parametrize("kw", [
    {"d": [10, 20], "values": [1, 1], "se": [1, 1]},
    {"d": [10, 20, 20], "values": [1, 1, 1], "se": [1, 1, 1]},
    {"d": [10, 20, -30], "values": [1, 1, 1], "se": [1, 1, 1]},
    {"d": [10, 20, 30], "values": [1, np.nan, 1], "se": [1, 1, 1]},
    {"d": [10, 20, 30], "values": [1, 1, 1], "se": [1, 0, 1]},
    {"d": [10, 20, 30], "values": [1, 1], "se": [1, 1, 1]},
])
def test_bad_input(kw):
    with pytest.raises(InputError):
        fit_finite_size(**kw)


def test_bad_order():
    with pytest.raises(InputError) as e:
        fit_finite_size([1, 2, 3, 4], [1, 1, 1, 1], [1, 1, 1, 1], order=3)
    assert e.value.parameter == "order"


def test_the_fit_reports_its_numbers_as_measurements():
    """χ²/dof from the residuals by hand: v = 1 + 2/d off by ±1 SE alternately at 4 sizes (order 1, dof 2);
    the curvature appears for order 2 only."""
    d = np.array([10, 20, 40, 80.0])
    y = 1 + 2 / d + 0.01 * np.array([1, -1, 1, -1])
    f = fit_finite_size(d, y, np.full(4, 0.01))
    x = np.stack([np.ones(4), 1 / d], axis=1)
    resid = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    m = f.measurements("D.11")
    assert m["D.11: chi2/dof"] == pytest.approx(np.sum((resid / 0.01) ** 2) / 2, rel=1e-9)
    assert m["D.11: extrapolated value"] == f.value and "D.11: curvature c (1/d²)" not in m
    g = fit_finite_size(d, 1 + 2 / d + 5 / d**2, np.full(4, 1e-3), order=2)
    assert g.measurements()["curvature c (1/d²)"] == pytest.approx(5)
