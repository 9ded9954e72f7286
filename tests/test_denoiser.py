"""The linear denoiser: eigenbasis results against dense solves and closed forms (eq.6, eq.8, eq.9, eq.10)."""

import array_api_strict as xps
import numpy as np
import pytest

from lindiff_verify.model import data, schedules
from lindiff_verify.theory import denoiser
from lindiff_verify.theory.denoiser import LinearDenoiser


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5)) * np.array([2.0, 1.0, 0.5, 0.3, 0.1]) + 0.7
    m, C = data.empirical_moments(x)
    A = rng.standard_normal((5, 5))
    return m, C, A @ A.T / 5 + 0.1 * np.eye(5), rng.uniform(-1, 1, 5), schedules.linear(40, 1e-3, 0.1)


def test_eq8_matches_dense_solve_for_every_t(problem):
    m, C, _, _, sch = problem
    den = LinearDenoiser.fit(C, m, sch, c=0.3)
    for t in (1, 7, 40):
        ab = sch.alphas_cumprod[t - 1]
        W = np.sqrt(1 - ab) * np.linalg.inv(ab * C + (1 - ab + 0.3 * ab) * np.eye(5))
        np.testing.assert_allclose(den.W(t), W, atol=1e-12)
        np.testing.assert_allclose(den.b(t), -np.sqrt(ab) * W @ m, atol=1e-12)


def test_fit_from_eigen_pair_equals_fit_from_C(problem):
    m, C, _, _, sch = problem
    lam, U = np.linalg.eigh(C)
    a = LinearDenoiser.fit(C, m, sch, gamma=np.linspace(0, 1, 40))
    b = LinearDenoiser.fit(m=m, schedule=sch, eigen=(lam, U), gamma=np.linspace(0, 1, 40))
    np.testing.assert_allclose(a.train_loss(), b.train_loss(), rtol=1e-13)


def test_train_loss_equals_dense_eq6(problem):
    m, C, _, _, sch = problem
    den = LinearDenoiser.fit(C, m, sch, c=0.5)
    for t in (2, 20):
        ab = sch.alphas_cumprod[t - 1]
        W, b = den.W(t), den.b(t)
        s = np.sqrt(1 - ab)
        M = np.eye(5) - s * W
        dense = np.trace(M @ M.T) + ab * np.trace(W @ C @ W.T) + np.sum((np.sqrt(ab) * W @ m + b) ** 2)
        np.testing.assert_allclose(den.train_loss()[t - 1], dense, rtol=1e-12)
        np.testing.assert_allclose(den.train_loss(include_penalty=True)[t - 1], dense + 0.5 * ab * np.sum(W * W), rtol=1e-12)


def test_residual_loss_is_eq9(problem):
    m, C, _, _, sch = problem
    lam = np.clip(np.linalg.eigvalsh(C), 0, None)
    ab = sch.alphas_cumprod
    by_hand = np.array([np.sum(a * lam / (a * lam + 1 - a)) for a in ab])
    np.testing.assert_allclose(LinearDenoiser.fit(C, m, sch).residual_loss(), by_hand, rtol=1e-12)
    np.testing.assert_allclose(denoiser.residual_loss(lam, sch), by_hand, rtol=1e-12)


def test_test_loss_and_gap_against_dense(problem):
    m, C, S0, mu0, sch = problem
    den = LinearDenoiser.fit(C, m, sch, c=0.2)
    lam, U = np.linalg.eigh(C)
    for t in (1, 25):
        ab = sch.alphas_cumprod[t - 1]
        W, b = den.W(t), den.b(t)
        test = denoiser.test_loss(W, b, mu0, S0, ab)
        train = denoiser.training_loss(W, b, C, m, ab, include_penalty=False)
        np.testing.assert_allclose(den.test_loss(mu0, S0)[t - 1], test, rtol=1e-12)
        np.testing.assert_allclose(den.gap(mu0, S0)[t - 1], test - train, rtol=1e-10, atol=1e-13)
        # eq.10's closed form with c
        diag = np.einsum("ij,ik,kj->j", U, S0, U)
        q = U.T @ (mu0 - m)
        eq10 = np.sum(ab * (1 - ab) * (diag - np.clip(lam, 0, None) + q**2) / (ab * (np.clip(lam, 0, None) + 0.2) + 1 - ab) ** 2)
        np.testing.assert_allclose(den.gap(mu0, S0)[t - 1], eq10, rtol=1e-10)


def test_population_diagonal_dense_vs_diagonal():
    U = np.linalg.qr(np.random.default_rng(3).standard_normal((4, 4)))[0]
    v = np.array([3.0, 2.0, 1.0, 0.5])
    np.testing.assert_allclose(denoiser.population_diagonal(U, v), denoiser.population_diagonal(U, np.diag(v)), rtol=1e-13)


def test_optimal_denoiser_dense(problem):
    m, C, _, _, sch = problem
    W, b = denoiser.optimal_denoiser(C, m, 0.4, 0.1)
    ref = LinearDenoiser.fit(C, m, np.array([0.4]), gamma=np.array([0.1]))
    np.testing.assert_allclose(W, ref.W(1), atol=1e-12)
    np.testing.assert_allclose(b, ref.b(1), atol=1e-12)


def test_known_mean_variant_has_no_bias():
    x = np.random.default_rng(4).standard_normal((3, 4))
    den = LinearDenoiser.from_data(x, schedules.linear(10), estimated_mean=False)
    assert np.all(den.b(5) == 0)


def test_array_api_strict(problem):
    m, C, S0, mu0, sch = problem
    ref = LinearDenoiser.fit(C, m, sch, c=0.1)
    den = LinearDenoiser.fit(xps.asarray(C), xps.asarray(m), sch, c=0.1)
    np.testing.assert_allclose(np.from_dlpack(den.train_loss()), ref.train_loss(), rtol=1e-12)
    np.testing.assert_allclose(np.from_dlpack(den.gap(xps.asarray(mu0), xps.asarray(S0))), ref.gap(mu0, S0), rtol=1e-10)
    W, b = denoiser.optimal_denoiser(xps.asarray(C), xps.asarray(m), 0.3)
    Wr, br = denoiser.optimal_denoiser(C, m, 0.3)
    np.testing.assert_allclose(np.from_dlpack(W), Wr, atol=1e-12)
    L = denoiser.training_loss(W, b, xps.asarray(C), xps.asarray(m), 0.3)
    np.testing.assert_allclose(float(L), float(denoiser.training_loss(Wr, br, C, m, 0.3)), rtol=1e-12)
