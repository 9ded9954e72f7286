"""Specification of lindiff_verify.theory.stieltjes: D.11 / eq.12 and the Stieltjes transform D.12–D.16."""

import mpmath
import numpy as np
import pytest

from lindiff_verify.model.errors import ConvergenceError, InputError
from lindiff_verify.theory.stieltjes import (point_mass_at_zero, solve_kappa, solve_kappa_mp, solve_zeta, spectral_density,
                                      stieltjes, stieltjes_mp)


def _mp_kappa_white(z, alpha):
    """Σ0 = I: κ = z + ακ/(1 + κ) ⇔ κ² + (1 − α − z)κ − z = 0, the positive root (by hand)."""
    b = 1 - alpha - z
    root = np.sqrt(b * b + 4 * z)
    return np.where(b > 0, 2 * z / (b + root), (root - b) / 2)  # the cancellation-free form of each branch


@pytest.mark.parametrize("alpha", [0.25, 1.0, 3.0])
def test_white_spectrum_matches_quadratic_root(alpha):
    d = 12
    n = int(d / alpha)
    z = np.array([1e-6, 1e-2, 0.5, 7.0, 1e3])
    np.testing.assert_allclose(solve_kappa(z, np.ones(d), n), _mp_kappa_white(z, d / n), rtol=1e-12)


def test_multiplicities_equal_repeated_eigenvalues():
    z = np.array([0.01, 1.0])
    a = solve_kappa(z, [0.5, 0.5, 0.5, 2.0], 3)
    b = solve_kappa(z, [0.5, 2.0], 3, multiplicities=[3, 1])
    np.testing.assert_allclose(a, b, rtol=1e-14)


def test_solution_satisfies_the_equation_and_shape():
    rng = np.random.default_rng(0)
    sig = rng.uniform(0.05, 5, 50)
    z = np.geomspace(1e-5, 1e3, 12).reshape(3, 4)
    k = solve_kappa(z, sig, 40)
    assert k.shape == z.shape and np.all(k > 0)
    resid = k - z - (k / 40) * np.sum(sig / (sig + k[..., None]), axis=-1)
    assert np.max(np.abs(resid) / (z + k)) < 1e-13
    np.testing.assert_allclose(solve_zeta(z, sig, 40), z / k)


def test_small_z_limits():
    # d < N: κ ≈ z/(1 − α); d > N: κ → κ0 > 0 with κ0 = (1/N)Σ σκ0/(σ + κ0), for σ = 1: κ0 = α − 1
    z = np.array([1e-10])
    assert solve_kappa(z, np.ones(10), 40)[0] == pytest.approx(1e-10 / (1 - 0.25), rel=1e-6)
    assert solve_kappa(z, np.ones(30), 10)[0] == pytest.approx(2.0, rel=1e-8)


def test_mp_agrees_with_float_and_hand_root():
    with mpmath.workdps(60):
        k = solve_kappa_mp("0.5", [1] * 4, 8, dps=50)
        exact = (-(1 - mpmath.mpf("0.5") - mpmath.mpf("0.5")) + mpmath.sqrt(0 + 4 * mpmath.mpf("0.5"))) / 2
        assert abs(k - exact) < mpmath.mpf(10) ** -48
    sig = np.linspace(0.1, 3, 30)
    assert float(solve_kappa_mp(0.3, sig, 20)) == pytest.approx(float(solve_kappa(0.3, sig, 20)), rel=1e-14)


def test_stieltjes_white_is_marchenko_pastur_quadratic():
    w = np.array([1 + 1j, 0.3 + 1e-3j, -2.0, 4 - 0.5j])
    for d, n in ((10, 40), (30, 10)):
        a = d / n
        gg = stieltjes(w, np.ones(d), n)
        np.testing.assert_allclose(a * w * gg**2 - (1 - a - w) * gg + 1, 0, atol=1e-12)
        assert np.all(gg[w.imag > 0].imag > 0) and np.all(gg[w.imag < 0].imag < 0)


def test_stieltjes_real_negative_is_d14():
    sig = np.array([0.3, 1.0, 4.0])
    z = 0.7
    zt = solve_zeta(z, sig, 2)
    assert stieltjes(-z, sig, 2).real == pytest.approx(np.mean(1 / (zt * sig + z)), rel=1e-14)


def test_stieltjes_mp_matches_float():
    sig = [0.5, 1.5, 3.0]
    v = stieltjes_mp(0.8 + 0.05j, sig, 2, dps=40)
    assert complex(v) == pytest.approx(complex(stieltjes(0.8 + 0.05j, sig, 2)), rel=1e-10)
    assert mpmath.im(v) > 0


def test_density_normalisation_and_mean():
    # ∫ρ = 1 − point mass; ∫xρ = mean σ (exact first moment of C)
    from scipy import integrate

    sig = np.array([0.5, 2.0])
    for n in (1, 4):  # α = 2 and α = 0.5
        x = np.linspace(1e-6, 12, 6001)
        rho = spectral_density(x, sig, n)
        pm = point_mass_at_zero(sig, n)
        assert integrate.simpson(rho, x=x) + pm == pytest.approx(1, abs=3e-3)
        assert integrate.simpson(x * rho, x=x) == pytest.approx(1.25, abs=3e-3)


@pytest.mark.parametrize("bad", [[1.0, 0.0], [1.0, -2.0], [np.nan], [np.inf, 1.0], []])
def test_bad_spectrum(bad):
    with pytest.raises(InputError) as e:
        solve_kappa(1.0, bad, 3)
    assert e.value.parameter == "spectrum"


@pytest.mark.parametrize("z", [0.0, -1.0, np.nan, np.inf])
def test_bad_z(z):
    with pytest.raises(InputError) as e:
        solve_kappa(z, [1.0], 3)
    assert e.value.parameter == "z"


def test_bad_z_stieltjes_on_support():
    with pytest.raises(InputError, match="z"):
        stieltjes(1.0, [1.0], 3)


def test_bad_precision_and_n():
    with pytest.raises(InputError) as e:
        solve_kappa_mp(1.0, [1.0], 3, dps=10)
    assert e.value.parameter == "dps"
    with pytest.raises(InputError) as e:
        solve_kappa(1.0, [1.0], 0)
    assert e.value.parameter == "n_samples"
    with pytest.raises(InputError) as e:
        solve_kappa(1.0, [1.0, 2.0], 3, multiplicities=[1, 0])
    assert e.value.parameter == "multiplicities"


def test_non_convergence_raises(monkeypatch):
    import lindiff_verify.theory.stieltjes as S

    monkeypatch.setattr(S, "_kappa_newton", lambda z, sig, w, n: (z * 0 + 1.0, np.arange(0)))  # a wrong "root"
    with pytest.raises(ConvergenceError, match="z = "):
        S.solve_kappa(np.array([0.3]), [1.0, 2.0], 3)


def test_a_single_eigenvalue_may_carry_a_scalar_multiplicity():
    """σ = 1 with multiplicity 3 is the spectrum (1, 1, 1): the same κ."""
    from lindiff_verify.theory.stieltjes import solve_kappa

    assert solve_kappa(0.5, 1.0, 4, multiplicities=3) == pytest.approx(solve_kappa(0.5, [1.0, 1.0, 1.0], 4), rel=1e-14)
