r"""Distances between Gaussians: KL divergence (paper eq.11) and the Wasserstein-2 distance.

eq.11:  DKL(N(μ0, Σ0) ‖ N(m_s, Σ_s)) = ½[Tr(Σ_s^{-1}Σ0) − d + ln det Σ_s − ln det Σ0 + (m_s − μ0)ᵀ Σ_s^{-1} (m_s − μ0)].

The float64 versions work in the eigenbasis of Σ_s (Σ_s = V diag(ν) Vᵀ): Tr(Σ_s^{-1}Σ0) = Σ_i v_iᵀΣ0v_i/ν_i,
which stays accurate for ill-conditioned Σ_s; a singular Σ0 or Σ_s gives +inf (the KL of a degenerate
Gaussian against a non-degenerate one, and vice versa, is infinite). ``*_diag`` are the O(d) fast paths for
covariances diagonal in a common basis; ``*_mp`` are mpmath references (Cholesky / sqrtm at the working
precision), an independent implementation.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from array_api_compat import array_namespace

from ..model.errors import InputError


def _namespace(*arrays):
    """The arrays' namespace; plain Python sequences and numbers are taken as NumPy float64 arrays."""
    if any(isinstance(a, (list, tuple, int, float)) for a in arrays):
        arrays = tuple(np.asarray(a, dtype=np.float64) if isinstance(a, (list, tuple, int, float)) else a
                       for a in arrays)
    return array_namespace(*arrays), arrays

__all__ = ["kl_gaussian", "kl_gaussian_diag", "kl_gaussian_mp", "w2_gaussian", "w2_gaussian_diag", "w2_gaussian_mp"]


def _check(mu, S, name_mu, name_S, xp, d=None):
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise InputError(name_S, f"has shape {tuple(S.shape)}", "a square d×d covariance matrix")
    d = S.shape[0] if d is None else d
    if tuple(S.shape) != (d, d):
        raise InputError(name_S, f"has shape {tuple(S.shape)}", f"shape ({d}, {d})")
    if tuple(mu.shape) != (d,):
        raise InputError(name_mu, f"has shape {tuple(mu.shape)}", f"shape ({d},)")
    for n, a in ((name_mu, mu), (name_S, S)):
        if not bool(xp.all(xp.isfinite(a))):
            raise InputError(n, "contains non-finite entries", "finite real numbers")
    return d


def _eig_psd(S, name, xp):
    """Eigen-pair of a symmetric PSD matrix; rounding negatives (≥ −100·d·eps·‖S‖) clipped to 0."""
    S = (S + S.T) / 2
    nu, V = xp.linalg.eigh(S)
    d = S.shape[0]
    tol = float(100.0 * d * np.finfo(np.float64).eps * float(xp.max(xp.abs(nu))))
    if bool(xp.any(nu < -tol)):
        raise InputError(name, f"has eigenvalue {float(xp.min(nu))!r}", "a positive semi-definite covariance")
    return xp.where(nu < 0, xp.zeros_like(nu), nu), V


def kl_gaussian(mu0, Sigma0, m_s, Sigma_s) -> float:
    """eq.11 in float64 (any array namespace): DKL(N(μ0, Σ0) ‖ N(m_s, Σ_s)) as a Python float (+inf if either
    covariance is singular)."""
    xp, (mu0, Sigma0, m_s, Sigma_s) = _namespace(mu0, Sigma0, m_s, Sigma_s)
    d = _check(mu0, Sigma0, "mu0", "Sigma0", xp)
    _check(m_s, Sigma_s, "m_s", "Sigma_s", xp, d)
    nu, V = _eig_psd(Sigma_s, "Sigma_s", xp)
    sig0 = _eig_psd(Sigma0, "Sigma0", xp)[0]
    if bool(xp.any(nu == 0)) or bool(xp.any(sig0 == 0)):
        return math.inf
    tr = float(xp.sum(xp.sum(V * (Sigma0 @ V), axis=0) / nu))
    q = V.T @ (m_s - mu0)
    quad = float(xp.sum(q * q / nu))
    logdet = float(xp.sum(xp.log(nu))) - float(xp.sum(xp.log(sig0)))
    return 0.5 * (tr - d + logdet + quad)


def kl_gaussian_diag(mu0, var0, m_s, var_s) -> float:
    """eq.11 when Σ0 = diag(var0) and Σ_s = diag(var_s) in the same basis: ½Σ_i[r_i − 1 − ln r_i + δ_i²/var_s,i],
    r_i = var0_i/var_s_i (each term ≥ 0, computed without cancellation between the log-determinants)."""
    xp, (mu0, var0, m_s, var_s) = _namespace(mu0, var0, m_s, var_s)
    for n, a in (("mu0", mu0), ("var0", var0), ("m_s", m_s), ("var_s", var_s)):
        if a.ndim != 1 or a.shape != var0.shape:
            raise InputError(n, f"has shape {tuple(a.shape)}", f"shape {tuple(var0.shape)} (1-d, all equal)")
        if not bool(xp.all(xp.isfinite(a))):
            raise InputError(n, "contains non-finite entries", "finite real numbers")
    for n, a in (("var0", var0), ("var_s", var_s)):
        if bool(xp.any(a < 0)):
            raise InputError(n, "has a negative variance", "variances >= 0")
    if bool(xp.any(var0 == 0)) or bool(xp.any(var_s == 0)):
        return math.inf
    r = var0 / var_s
    delta = m_s - mu0
    # r − 1 − ln r with log1p for r ≈ 1
    t = (r - 1.0) - xp.log1p(r - 1.0)
    return float(0.5 * xp.sum(t + delta * delta / var_s))


def _sqrtm_psd(S, xp):
    nu, V = _eig_psd(S, "covariance", xp)
    return (V * xp.sqrt(nu)[None, :]) @ V.T


def w2_gaussian(mu0, Sigma0, mu1, Sigma1) -> float:
    """Wasserstein-2 distance W2(N(μ0, Σ0), N(μ1, Σ1)):
    W2² = ‖μ0 − μ1‖² + Tr Σ0 + Tr Σ1 − 2 Tr (Σ0^{½} Σ1 Σ0^{½})^{½} (clipped at 0 against rounding)."""
    xp, (mu0, Sigma0, mu1, Sigma1) = _namespace(mu0, Sigma0, mu1, Sigma1)
    d = _check(mu0, Sigma0, "mu0", "Sigma0", xp)
    _check(mu1, Sigma1, "mu1", "Sigma1", xp, d)
    r0 = _sqrtm_psd(Sigma0, xp)
    mid = _eig_psd(r0 @ Sigma1 @ r0, "Sigma0^½ Sigma1 Sigma0^½", xp)[0]
    dm = mu0 - mu1
    w2sq = float(xp.sum(dm * dm)) + float(xp.linalg.trace(Sigma0)) + float(xp.linalg.trace(Sigma1)) - 2.0 * float(xp.sum(xp.sqrt(mid)))
    return math.sqrt(max(w2sq, 0.0))


def w2_gaussian_diag(mu0, var0, mu1, var1) -> float:
    """W2 for covariances diagonal in a common basis: √(‖μ0 − μ1‖² + Σ_i (√var0_i − √var1_i)²)."""
    xp, (mu0, var0, mu1, var1) = _namespace(mu0, var0, mu1, var1)
    for n, a in (("mu0", mu0), ("var0", var0), ("mu1", mu1), ("var1", var1)):
        if a.ndim != 1 or a.shape != var0.shape:
            raise InputError(n, f"has shape {tuple(a.shape)}", f"shape {tuple(var0.shape)} (1-d, all equal)")
        if not bool(xp.all(xp.isfinite(a))):
            raise InputError(n, "contains non-finite entries", "finite real numbers")
    for n, a in (("var0", var0), ("var1", var1)):
        if bool(xp.any(a < 0)):
            raise InputError(n, "has a negative variance", "variances >= 0")
    dm = mu0 - mu1
    ds = xp.sqrt(var0) - xp.sqrt(var1)
    return math.sqrt(float(xp.sum(dm * dm) + xp.sum(ds * ds)))


def _mp_inputs(mu, S):
    mu = mpmath.matrix([mpmath.mpmathify(v) for v in np.asarray(mu, dtype=object).ravel()]) if not isinstance(mu, mpmath.matrix) else mu
    S = mpmath.matrix([[mpmath.mpmathify(v) for v in row] for row in np.asarray(S, dtype=object)]) if not isinstance(S, mpmath.matrix) else S
    if S.rows != S.cols or mu.rows != S.rows:
        raise InputError("covariance", f"has shape ({S.rows}, {S.cols}) with a mean of length {mu.rows}", "matching shapes")
    return mu, S


def _forward_solve(L, B):
    """L X = B for lower-triangular L (mpmath), B a column vector or a matrix."""
    n, k = B.rows, B.cols
    X = mpmath.matrix(n, k)
    for c in range(k):
        for i in range(n):
            X[i, c] = (B[i, c] - mpmath.fsum(L[i, j] * X[j, c] for j in range(i))) / L[i, i]
    return X


def kl_gaussian_mp(mu0, Sigma0, m_s, Sigma_s):
    """eq.11 in mpmath at the working precision, via Cholesky factors (independent of the float64 path):
    Tr(Σ_s^{-1}Σ0) = ‖L_s^{-1} L_0‖_F², ln det Σ = 2 Σ ln diag L. Inputs: numbers mpmath can take exactly
    (floats, strings, Fractions via str, mpf)."""
    mu0, S0 = _mp_inputs(mu0, Sigma0)
    ms, Ss = _mp_inputs(m_s, Sigma_s)
    d = S0.rows
    if Ss.rows != d:
        raise InputError("Sigma_s", f"has {Ss.rows} rows", f"{d} rows like Sigma0")
    L0 = mpmath.cholesky(S0)
    Ls = mpmath.cholesky(Ss)
    A = _forward_solve(Ls, L0)  # L_s^{-1} L_0
    tr = mpmath.fsum(A[i, j] ** 2 for i in range(d) for j in range(d))
    y = _forward_solve(Ls, ms - mu0)
    quad = mpmath.fsum(y[i, 0] ** 2 for i in range(d))
    logdet = 2 * mpmath.fsum(mpmath.log(Ls[i, i]) for i in range(d)) - 2 * mpmath.fsum(mpmath.log(L0[i, i]) for i in range(d))
    return (tr - d + logdet + quad) / 2


def w2_gaussian_mp(mu0, Sigma0, mu1, Sigma1):
    """W2 in mpmath (matrix square roots by mpmath.sqrtm at the working precision)."""
    mu0, S0 = _mp_inputs(mu0, Sigma0)
    mu1, S1 = _mp_inputs(mu1, Sigma1)
    r0 = mpmath.sqrtm(S0)
    mid = mpmath.sqrtm(r0 * S1 * r0)
    d = S0.rows
    w2sq = mpmath.fsum((mu0[i] - mu1[i]) ** 2 for i in range(d)) + mpmath.fsum(S0[i, i] + S1[i, i] - 2 * mid[i, i] for i in range(d))
    return mpmath.sqrt(max(mpmath.re(w2sq), 0))
