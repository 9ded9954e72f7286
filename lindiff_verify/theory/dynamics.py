r"""Learning dynamics of the linear denoiser (appendix B, eq.B.1) and the train/test loss along training (fig. 2d).

Convention: the loss is eq.6 WITHOUT a ½ — L_t(W) = Tr[(I − sW)(I − sW)ᵀ] + ᾱ Tr[W C Wᵀ] + γ‖W‖_F² (centred
data, m = 0, b = 0) — so in C's eigenbasis (W̃ = Uᵀ W U) the gradient is 2[W̃ D − s I] with
D = diag(ᾱ λ_j + 1 − ᾱ + γ), and every entry relaxes with rate 2 D_j (the denominators of eq.10):

  gradient flow dW/dτ = −∂L/∂W:  W̃_ij(τ) = W̃*_ij + (W̃_ij(0) − W̃*_ij) e^{−2 D_j τ},   W̃*_ij = δ_ij s / D_j  (B.1)
  gradient descent W ← W − η ∂L/∂W: W̃_ij(k) = W̃*_ij + (W̃_ij(0) − W̃*_ij)(1 − 2 η D_j)^k.

From W(0) = 0 the weights stay diagonal: w_j(τ) = s(1 − e^{−2 D_j τ})/D_j, and
  L_train(τ) = Σ_j (1 − s w_j)² + ᾱ λ_j w_j²,   L_test(τ) = Σ_j (1 − s w_j)² + ᾱ Σ̃_jj w_j²   (Σ̃ = Uᵀ Σ0 U).
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, optimize

from ..model import validate
from ..model.errors import InputError

__all__ = ["rates", "optimum", "weights_flow", "weights_gd", "diagonal_weights", "train_loss", "test_loss",
           "early_stopping_time", "mp_test_loss", "gd_original_basis"]


def _common(eigvals, alphabar, gamma):
    lam = validate.spectrum("eigvals", eigvals)
    ab = float(validate.probability_open("alphabar", alphabar))
    g = validate.nonnegative("gamma", gamma)
    return lam, ab, g


def rates(eigvals, alphabar, gamma=0.0):
    """D_j = ᾱ λ_j + 1 − ᾱ + γ; the relaxation rate of column j is 2 D_j (loss without ½)."""
    lam, ab, g = _common(eigvals, alphabar, gamma)
    return ab * lam + 1.0 - ab + g


def optimum(eigvals, alphabar, gamma=0.0):
    """Diagonal of W̃* = s D^{-1} (eq.8 in the eigenbasis)."""
    return np.sqrt(1.0 - float(alphabar)) / rates(eigvals, alphabar, gamma)


def weights_flow(W0, eigvals, alphabar, gamma, tau):
    """B.1: W̃(τ) for any W̃(0) (d×d, eigenbasis) under gradient flow."""
    D = rates(eigvals, alphabar, gamma)
    tau = validate.nonnegative("tau", tau)
    W0 = validate.finite_array("W0", W0, shape=(D.size, D.size))
    Wst = np.diag(np.sqrt(1.0 - float(alphabar)) / D)
    return Wst + (W0 - Wst) * np.exp(-2.0 * D * tau)[None, :]


def weights_gd(W0, eigvals, alphabar, gamma, eta, k):
    """Discrete GD map after k steps of learning rate η (stable for η < 1/max D)."""
    D = rates(eigvals, alphabar, gamma)
    eta = validate.positive("eta", eta)
    k = validate.positive_int("k", k, minimum=0)
    W0 = validate.finite_array("W0", W0, shape=(D.size, D.size))
    Wst = np.diag(np.sqrt(1.0 - float(alphabar)) / D)
    return Wst + (W0 - Wst) * ((1.0 - 2.0 * eta * D) ** k)[None, :]


def gd_original_basis(C, alphabar, gamma, W0, eta, k):
    """k explicit GD steps on eq.6 in the ORIGINAL basis: ∂L/∂W = −2s(I − sW) + 2ᾱ W C + 2γ W."""
    C = validate.finite_array("C", C, ndim=2)
    ab = float(validate.probability_open("alphabar", alphabar))
    g = validate.nonnegative("gamma", gamma)
    s = np.sqrt(1.0 - ab)
    W = validate.finite_array("W0", W0, shape=C.shape).copy()
    eye = np.eye(C.shape[0])
    for _ in range(validate.positive_int("k", k, minimum=0)):
        W = W - eta * (-2.0 * s * (eye - s * W) + 2.0 * ab * W @ C + 2.0 * g * W)
    return W


def diagonal_weights(eigvals, alphabar, gamma, tau):
    """w_j(τ) from W(0) = 0; ``tau`` may be an array (result shape tau.shape + (d,))."""
    D = rates(eigvals, alphabar, gamma)
    tau = np.asarray(tau, dtype=float)
    if np.any(~np.isfinite(tau)) or np.any(tau < 0):
        raise InputError("tau", "has a negative or non-finite entry", "training times τ >= 0")
    return np.sqrt(1.0 - float(alphabar)) * -np.expm1(-2.0 * D * tau[..., None]) / D


def train_loss(eigvals, alphabar, gamma, tau):
    """L_train(τ) = Σ_j (1 − s w_j)² + ᾱ λ_j w_j² (penalty excluded)."""
    lam = validate.spectrum("eigvals", eigvals)
    w = diagonal_weights(lam, alphabar, gamma, tau)
    s = np.sqrt(1.0 - float(alphabar))
    return np.sum((1.0 - s * w) ** 2 + float(alphabar) * lam * w**2, axis=-1)


def test_loss(eigvals, alphabar, gamma, tau, sigma_tilde_diag=None):
    """L_test(τ) = Σ_j (1 − s w_j)² + ᾱ Σ̃_jj w_j²; Σ̃_jj = u_jᵀ Σ0 u_j (default 1: Σ0 = I)."""
    lam = validate.spectrum("eigvals", eigvals)
    st = np.ones_like(lam) if sigma_tilde_diag is None else validate.spectrum("sigma_tilde_diag", sigma_tilde_diag)
    w = diagonal_weights(lam, alphabar, gamma, tau)
    s = np.sqrt(1.0 - float(alphabar))
    return np.sum((1.0 - s * w) ** 2 + float(alphabar) * st * w**2, axis=-1)


def early_stopping_time(eigvals, alphabar, gamma=0.0, sigma_tilde_diag=None, tau_max=None):
    """τ* minimising the test loss (grid search on a log grid, then bounded refinement).
    Returns (τ*, L_test(τ*), L_test(∞))."""
    D = rates(eigvals, alphabar, gamma)
    tau_max = float(tau_max) if tau_max is not None else 20.0 / float(np.min(D))
    grid = np.concatenate([[0.0], np.geomspace(1e-4 / float(np.max(D)), tau_max, 400)])
    f = lambda u: float(test_loss(eigvals, alphabar, gamma, u, sigma_tilde_diag))  # noqa: E731
    vals = np.array([f(u) for u in grid])
    i = int(np.argmin(vals))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = optimize.minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10 * max(hi, 1e-12)})
    tau_star = float(res.x) if res.fun <= vals[i] else float(grid[i])
    D_end = np.sqrt(1.0 - float(alphabar)) / D
    s = np.sqrt(1.0 - float(alphabar))
    lam = validate.spectrum("eigvals", eigvals)
    st = np.ones_like(lam) if sigma_tilde_diag is None else np.asarray(sigma_tilde_diag, float)
    end = float(np.sum((1 - s * D_end) ** 2 + float(alphabar) * st * D_end**2))
    return tau_star, f(tau_star), end


def mp_test_loss(tau, ratio, alphabar, gamma=0.0):
    """Σ0 = I, d, N → ∞ with ratio = d/N (known mean): L_test(τ)/d = ∫ dμ_MP(λ)[1 − 2 s w(λ, τ) + w(λ, τ)²]
    with the Marchenko–Pastur law of variance 1 (atom 1 − 1/ratio at λ = 0 when ratio > 1)."""
    q = validate.positive("ratio", ratio)
    ab = float(validate.probability_open("alphabar", alphabar))
    g = validate.nonnegative("gamma", gamma)
    tau = validate.nonnegative("tau", tau)
    s = np.sqrt(1 - ab)

    def per(lv):
        D = ab * lv + 1 - ab + g
        w = s * -np.expm1(-2 * D * tau) / D
        return 1 - 2 * s * w + w * w

    lm, lp = (1 - np.sqrt(q)) ** 2, (1 + np.sqrt(q)) ** 2
    dens = lambda lv: np.sqrt(max((lp - lv) * (lv - lm), 0.0)) / (2 * np.pi * q * lv)  # noqa: E731
    cont, _ = integrate.quad(lambda lv: dens(lv) * per(lv), lm, lp, limit=200, epsabs=1e-12)
    atom = max(1 - 1 / q, 0.0)
    return cont + atom * per(0.0)
