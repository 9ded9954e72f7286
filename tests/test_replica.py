"""Specification of lindiff_verify.theory.replica: deterministic equivalents (MATH.md §E) and averaged measures."""

import numpy as np
import pytest
from scipy.special import digamma

from lindiff_verify.model.errors import InputError
from lindiff_verify.theory.replica import (Equivalents, averaged_alignment, averaged_kl, averaged_residual_loss,
                                    averaged_test_loss, averaged_train_loss, q_from_alphas_cumprod)

SIG = np.linspace(0.2, 3.0, 40)


def test_definitions_of_the_sums():
    e = Equivalents.from_spectrum(0.4, SIG, 60)
    k = e.kappa
    assert e.S1 == pytest.approx(np.sum(1 / (SIG + k)))
    assert e.T1 == pytest.approx(e.S1 - k * e.S2)  # σ/(σ+κ)² = 1/(σ+κ) − κ/(σ+κ)²
    assert e.df1 == pytest.approx(40 - k * e.S1)
    assert e.D == pytest.approx(1 - e.df2 / 60)
    assert e.rho * e.zeta == pytest.approx(1.0)
    assert k == pytest.approx(0.4 + k / 60 * e.df1)  # D.11


def test_derivative_identities():
    """dκ/dz = 1/D, E Tr R² = −d/dz(ρ S1), d/dz E ln det(C + z) = E Tr R (central differences, by hand)."""
    h = 1e-6
    e = Equivalents.from_spectrum(np.array([0.3 - h, 0.3, 0.3 + h]), SIG, 60)
    assert (e.kappa[2] - e.kappa[0]) / (2 * h) == pytest.approx(e.dkappa_dz[1], rel=1e-7)
    assert -(e.tr_R[2] - e.tr_R[0]) / (2 * h) == pytest.approx(e.tr_R2[1], rel=1e-7)
    assert (e.logdet[2] - e.logdet[0]) / (2 * h) == pytest.approx(e.tr_R[1], rel=1e-7)


def test_large_n_limits():
    """N → ∞: κ → z, E Tr R → Σ 1/(σ + z), test loss → Σ σ/(σ + z) at c = 0 (MATH.md eq.13)."""
    q = 0.7
    e = Equivalents.from_spectrum(q, SIG, 10**9)
    assert e.tr_R == pytest.approx(np.sum(1 / (SIG + q)), rel=1e-7)
    assert averaged_test_loss(q, SIG, 10**9) == pytest.approx(np.sum(SIG / (SIG + q)), rel=1e-6)
    assert averaged_alignment(q, SIG, 10**9) == pytest.approx(0.0, abs=1e-6)


def test_c0_relations():
    """c = 0: train loss = residual loss = df1; alignment = test loss − Σσ/(σ+z) exactly (MATH.md eq.14)."""
    q = np.array([0.05, 0.5, 4.0])
    e = Equivalents.from_spectrum(q, SIG, 30)
    np.testing.assert_allclose(averaged_train_loss(q, SIG, 30), e.df1, rtol=1e-12)
    np.testing.assert_allclose(averaged_residual_loss(q, SIG, 30), e.df1, rtol=1e-12)
    ref = np.array([np.sum(SIG / (SIG + qq)) for qq in q])
    for est in (False, True):
        np.testing.assert_allclose(averaged_alignment(q, SIG, 30, estimated_mean=est),
                                   averaged_test_loss(q, SIG, 30, estimated_mean=est) - ref, rtol=1e-10, atol=1e-10)


def test_test_loss_closed_form_c0():
    """c = 0: E L_test ≍ df2 + [κ²T1²/N + κρT1]/D (MATH.md eq.13, known mean)."""
    q = 0.3
    e = Equivalents.from_spectrum(q, SIG, 50)
    want = e.df2 + (e.kappa**2 * e.T1**2 / 50 + e.kappa * e.rho * e.T1) / e.D
    assert averaged_test_loss(q, SIG, 50) == pytest.approx(want, rel=1e-12)


def test_kl_against_exact_wishart_small_alpha():
    """ε → 0, N ≫ d: 2E DKL → exact digamma formula (MATH.md D.22) up to the O(1) term G(α)."""
    d, n = 40, 4000
    i = np.arange(1, d + 1)
    exact = 0.5 * (n * d / (n - d - 1) - d + digamma((n - i + 1) / 2).sum() + d * np.log(2 / n))
    alpha = d / n
    F = 0.5 * (alpha / (1 - alpha) - 1 - (1 - alpha) / alpha * np.log(1 - alpha))
    assert averaged_kl(1e-10, np.linspace(1, 2, d), n) == pytest.approx(d * F, rel=1e-6)
    assert exact - d * F == pytest.approx(0.5 * (alpha / (1 - alpha) ** 2 + 0.5 * np.log(1 - alpha)), abs=1e-3)


def test_estimated_mean_is_the_reduced_problem():
    e = Equivalents.from_spectrum(0.5, SIG, 30, estimated_mean=True)
    k = Equivalents.from_spectrum(0.5, SIG * 29 / 30, 29)
    assert e.kappa == pytest.approx(k.kappa) and e.tr_R == pytest.approx(k.tr_R)
    assert e.delta_R2_delta == pytest.approx(e.tr_R_Sigma_R / 30)


def test_monte_carlo_agreement_moderate_size():
    """Leading-order equivalents vs dense Wishart draws at d = 100, α = 0.5: O(1/d) gap (≤ 2 %)."""
    from lindiff_verify.simulation.wishart import covariance_eigh

    sig = np.linspace(0.3, 2.0, 100)
    lam, U = covariance_eigh(sig, 200, rng=np.random.default_rng(1), batch=20)
    st = (U**2).transpose(0, 2, 1) @ sig
    r = 1 / (lam + 0.5)
    e = Equivalents.from_spectrum(0.5, sig, 200)
    assert r.sum(1).mean() == pytest.approx(e.tr_R, rel=0.02)
    assert (st * r * r).sum(1).mean() == pytest.approx(e.tr_R_Sigma_R, rel=0.02)


def test_q_from_alphas_cumprod():
    np.testing.assert_allclose(q_from_alphas_cumprod([0.5, 0.8]), [1.0, 0.25])
    with pytest.raises(InputError):
        q_from_alphas_cumprod([1.0])


@pytest.mark.parametrize("call", [
    lambda: Equivalents.from_spectrum(0.0, SIG, 10),
    lambda: Equivalents.from_spectrum(1.0, [1.0, -1.0], 10),
    lambda: Equivalents.from_spectrum(1.0, SIG, 1, estimated_mean=True),
    lambda: averaged_test_loss(-1.0, SIG, 10),
    lambda: averaged_test_loss(1.0, SIG, 10, c=-1.0),
    lambda: averaged_kl(0.0, SIG, 10),
])
def test_bad_input(call):
    with pytest.raises(InputError):
        call()
