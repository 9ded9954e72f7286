"""Specification of lindiff_verify.theory.dynamics (appendix B, fig. 2d)."""

import numpy as np
import pytest
from scipy.linalg import expm

from lindiff_verify.theory import dynamics
from lindiff_verify.model import schedules
from lindiff_verify.model.errors import InputError


def test_fig2d_numbers_from_marchenko_pastur():
    # MATH.md §B, measured independently: α = d/N = 2, t = 50: min 0.975·d near τ ≈ 0.54, end 17.25·d
    from scipy.optimize import minimize_scalar

    ab = schedules.linear().alphas_cumprod[49]
    assert ab == pytest.approx(0.971, abs=5e-4)
    res = minimize_scalar(lambda u: dynamics.mp_test_loss(u, 2.0, ab), bounds=(0.05, 3), method="bounded")
    assert res.fun == pytest.approx(0.975, abs=5e-4)
    assert res.x == pytest.approx(0.54, abs=0.01)
    assert dynamics.mp_test_loss(1e5, 2.0, ab) == pytest.approx(17.25, abs=5e-3)
    # null directions end at ᾱ/(1 − ᾱ), half of them for α = 2 (hand computation of the dominant part)
    assert dynamics.mp_test_loss(1e5, 2.0, ab) > 0.5 * ab / (1 - ab)


def test_early_stopping_on_one_draw_beats_full_training():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 200))
    lam = np.clip(np.linalg.eigvalsh(X.T @ X / 100), 0, None)
    ab = schedules.linear().alphas_cumprod[49]
    ts, lmin, lend = dynamics.early_stopping_time(lam, ab)
    assert 0.3 < ts < 1.0 and lmin < lend / 10
    assert lmin <= dynamics.test_loss(lam, ab, 0.0, [0.5 * ts, 2 * ts]).min()


def test_flow_equals_matrix_exponential_and_gd_equals_explicit_steps():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3, 5))
    C = X.T @ X / 3
    lam, U = np.linalg.eigh(C)
    ab, g = 0.6, 0.2
    W0 = rng.standard_normal((5, 5))
    M = ab * C + (1 - ab + g) * np.eye(5)
    Wst = np.sqrt(1 - ab) * np.linalg.inv(M)
    Wt = U @ dynamics.weights_flow(U.T @ W0 @ U, np.clip(lam, 0, None), ab, g, 0.7) @ U.T
    np.testing.assert_allclose(Wt, Wst + (W0 - Wst) @ expm(-1.4 * M), atol=1e-12)
    Wk = U @ dynamics.weights_gd(U.T @ W0 @ U, np.clip(lam, 0, None), ab, g, 0.05, 13) @ U.T
    np.testing.assert_allclose(Wk, dynamics.gd_original_basis(C, ab, g, W0, 0.05, 13), atol=1e-12)


def test_rates_are_eq10_denominators():
    lam, ab, c = np.array([0.0, 0.5, 2.0]), 0.3, 0.4
    assert np.allclose(dynamics.rates(lam, ab, c * ab), ab * (lam + c) + 1 - ab)


def test_train_loss_decreases_to_eq9_residual():
    lam, ab = np.array([0.0, 0.5, 2.0]), 0.3
    tr = dynamics.train_loss(lam, ab, 0.0, np.linspace(0, 50, 200))
    assert np.all(np.diff(tr) <= 1e-12)
    assert tr[-1] == pytest.approx(np.sum(ab * lam / (ab * lam + 1 - ab)), rel=1e-9)  # eq.9


@pytest.mark.parametrize("call,param", [
    (lambda: dynamics.rates([1.0, -1.0], 0.5), "eigvals"),
    (lambda: dynamics.rates([1.0, np.nan], 0.5), "eigvals"),
    (lambda: dynamics.rates([1.0], 1.5), "alphabar"),
    (lambda: dynamics.rates([1.0], 0.5, -1.0), "gamma"),
    (lambda: dynamics.diagonal_weights([1.0], 0.5, 0.0, -1.0), "tau"),
    (lambda: dynamics.weights_gd(np.eye(1), [1.0], 0.5, 0.0, 0.0, 3), "eta"),
])
def test_bad_input(call, param):
    with pytest.raises(InputError) as e:
        call()
    assert e.value.parameter == param
