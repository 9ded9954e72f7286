"""Wishart sampling engine: empirical covariances of Gaussian data and their spectra (docs/mathematics.md §0, §D).

Conventions (docs/mathematics.md §0): data x ~ N(0, Σ0) with Σ0 = O diag(spectrum) Oᵀ; N samples.

* known mean:      C = (1/N) Σ_μ x^μ x^μᵀ,            N·C ~ W_d(N, Σ0);
* estimated mean:  C = (1/N) Σ_μ (x^μ − m)(x^μ − m)ᵀ, N·C ~ W_d(N − 1, Σ0).

Paths:

* :func:`sample_covariance` / :func:`covariance_eigvalsh` / :func:`covariance_eigh` — the dense draw
  X (N × d), any spectrum and rotation (the reference path; O(N d²) per draw).
* :func:`white_wishart_eigenvalues` — Σ0 = I only, three methods with the same eigenvalue law:
  ``"tridiagonal"`` (Dumitriu–Edelman β = 1 Laguerre model: a bidiagonal matrix of O(d) chi variables,
  then a tridiagonal eigensolve), ``"bartlett"`` (W = L Lᵀ, L lower triangular with chi diagonal and
  Gaussian below: O(d²) random numbers, no O(N d²) product), ``"dense"`` (X ~ N(0, I), C = XᵀX/N).
* :func:`white_wishart_resolvent_statistics` — Σ0 = I, no eigenvalues: Tr (C + z)^{-1}, Tr (C + z)^{-2} and
  ln det(C + z) for many z from the tridiagonal draw in O(d) per z (:func:`tridiagonal_resolvent_statistics`,
  the LDLᵀ / continued-fraction recursion and its z-derivatives), vectorised over draws and z.
* streamed averages of any of these statistics: :mod:`lindiff_verify.simulation.streaming` (batches merged into
  :class:`~lindiff_verify.simulation.moments.RunningMoments`).

Random numbers come from a NumPy ``Generator`` (``ctx.rng(name)``); arrays are returned in the
namespace ``xp`` (NumPy by default, CuPy draws on the device from a generator seeded by ``rng``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from array_api_compat import array_namespace, is_numpy_namespace

from ..model import validate
from ..model.backend import standard_normal, to_numpy
from ..model.errors import InputError
from .moments import RunningMoments

__all__ = [
    "METHODS",
    "degrees_of_freedom",
    "sample_covariance",
    "covariance_eigvalsh",
    "covariance_eigh",
    "white_wishart_eigenvalues",
    "bartlett_covariance",
    "laguerre_tridiagonal",
    "ResolventStatistics",
    "tridiagonal_resolvent_statistics",
    "white_wishart_resolvent_statistics",
    "RunningMoments",
    "trace_moment",
    "resolvent_trace",
]

METHODS = ("tridiagonal", "bartlett", "dense")


def _default_xp():
    import array_api_compat.numpy as npx

    return npx


def _namespace(xp, *arrays):
    if xp is not None:
        return xp
    arrs = [a for a in arrays if a is not None and not isinstance(a, (list, tuple, float, int, np.ndarray))]
    if arrs:
        try:
            return array_namespace(*arrs)
        except TypeError:
            pass
    return _default_xp()


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise InputError("rng", f"is {type(rng).__name__}", "a numpy.random.Generator (use ctx.rng(name))")
    return rng


def _check_batch(batch):
    return validate.positive_int("batch", batch)


def degrees_of_freedom(n_samples: int, estimated_mean: bool) -> int:
    """Wishart degrees of freedom of N·C: N (known mean) or N − 1 (estimated mean)."""
    n = validate.n_samples(n_samples, estimated_mean=estimated_mean, name="n_samples")
    return n - 1 if estimated_mean else n


def _to_xp(x: np.ndarray, xp):
    return x if is_numpy_namespace(xp) else xp.asarray(x)


# ----------------------------------------------------------------------------------------------------
# dense draws, any spectrum
# ----------------------------------------------------------------------------------------------------


def sample_covariance(spectrum, n_samples, *, rng, batch=1, estimated_mean=False, rotation=None, xp=None):
    """(batch, d, d) empirical covariances C of N Gaussian samples x = O diag(√σ) g, g ~ N(0, I).

    ``spectrum``: the eigenvalues σ_i > 0 of Σ0; ``rotation``: the orthogonal O (default I).
    Estimated mean subtracts the sample mean (N·C ~ W_d(N − 1, Σ0)); known mean does not (W_d(N, Σ0)).
    """
    xp = _namespace(xp, spectrum, rotation)
    sig = validate.spectrum("spectrum", spectrum, strictly_positive=True)
    n = validate.n_samples(n_samples, estimated_mean=estimated_mean, name="n_samples")
    _check_rng(rng)
    b = _check_batch(batch)
    d = sig.size
    if rotation is not None:
        rot = validate.finite_array("rotation", rotation, shape=(d, d))
        if not np.allclose(rot @ rot.T, np.eye(d), atol=1e-8 * d):
            raise InputError("rotation", "is not orthogonal (O Oᵀ ≠ I)", "an orthogonal d × d matrix")
    g = standard_normal(rng, (b, n, d), xp)
    x = g * _to_xp(np.sqrt(sig), xp)
    if rotation is not None:
        x = x @ _to_xp(rot.T, xp)  # rows x^μ = O diag(√σ) g^μ
    if estimated_mean:
        x = x - xp.mean(x, axis=-2, keepdims=True)
    return (xp.matrix_transpose(x) @ x) / n


def covariance_eigvalsh(spectrum, n_samples, *, rng, batch=1, estimated_mean=False, rotation=None, xp=None):
    """(batch, d) ascending eigenvalues λ of dense-drawn empirical covariances (see :func:`sample_covariance`)."""
    c = sample_covariance(spectrum, n_samples, rng=rng, batch=batch, estimated_mean=estimated_mean,
                          rotation=rotation, xp=xp)
    with _one_blas_thread_if_batched(c):
        return _namespace(xp, c).linalg.eigvalsh(c)


def _one_blas_thread_if_batched(c):
    """A stack of small eigensolves on NumPy runs one LAPACK call per matrix: extra BLAS threads only contend
    (and thrash under load), so they are limited to one; a single matrix keeps them."""
    import contextlib

    if c.ndim < 3 or c.shape[0] == 1 or not isinstance(c, np.ndarray):
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def covariance_eigh(spectrum, n_samples, *, rng, batch=1, estimated_mean=False, rotation=None, xp=None):
    """Eigenvalues (batch, d) and eigenvectors U (batch, d, d) of dense-drawn covariances, C = U diag(λ) Uᵀ."""
    c = sample_covariance(spectrum, n_samples, rng=rng, batch=batch, estimated_mean=estimated_mean,
                          rotation=rotation, xp=xp)
    with _one_blas_thread_if_batched(c):
        res = _namespace(xp, c).linalg.eigh(c)
    return res.eigenvalues, res.eigenvectors


# ----------------------------------------------------------------------------------------------------
# white Wishart (Σ0 = I) fast paths
# ----------------------------------------------------------------------------------------------------


def _chi(rng, df, size):
    """χ variables with integer degrees of freedom ``df`` (array, broadcast to ``size``)."""
    return np.sqrt(rng.chisquare(np.broadcast_to(np.asarray(df, dtype=float), size)))


def laguerre_tridiagonal(m: int, p: int, *, rng, batch: int = 1):
    """Diagonal (batch, m) and off-diagonal (batch, m − 1) of T = Bᵀ B, B the β = 1 Laguerre bidiagonal.

    Dumitriu & Edelman (2002): B lower bidiagonal with B_ii = χ_{p−i+1} (i = 1..m) and B_{i+1,i} = χ_{m−i};
    the eigenvalues of B Bᵀ (equivalently Bᵀ B) have the joint law of those of W_m(p, I), p ≥ m.
    """
    a = _chi(rng, p - np.arange(m), (batch, m))  # χ_p, χ_{p−1}, ..., χ_{p−m+1}
    b = _chi(rng, m - 1 - np.arange(m - 1), (batch, m - 1)) if m > 1 else np.zeros((batch, 0))  # χ_{m−1}..χ_1
    # (Bᵀ B)_ii = a_i² + b_i² (b_m = 0), (Bᵀ B)_{i,i+1} = a_{i+1} b_i
    diag = a**2
    diag[:, :-1] += b**2
    off = a[:, 1:] * b
    return diag, off


def _tridiagonal_eigvalsh(diag, off, xp):
    if is_numpy_namespace(xp):
        from scipy.linalg.lapack import dsterf  # root-free QL/QR, eigenvalues only, O(d²)

        if diag.shape[1] == 1:  # 1 × 1: the eigenvalue is the entry
            return diag.copy()
        out = np.empty_like(diag)
        for k in range(diag.shape[0]):
            ev, info = dsterf(diag[k], off[k])
            if info != 0:
                from ..model.errors import ConvergenceError

                raise ConvergenceError(f"dsterf failed (info = {info}) on a Laguerre tridiagonal of size {diag.shape[1]}")
            out[k] = np.sort(ev)
        return out
    # other namespaces: the dense tridiagonal matrix, batched eigensolve on the device
    m = diag.shape[1]
    t = np.zeros(diag.shape + (m,))
    idx = np.arange(m)
    t[:, idx, idx] = diag
    t[:, idx[:-1], idx[1:]] = off
    t[:, idx[1:], idx[:-1]] = off
    return xp.linalg.eigvalsh(xp.asarray(t))


def _bartlett_eigvalsh(m, p, rng, batch, xp):
    """Eigenvalues of L Lᵀ ~ W_m(p, I): L lower triangular, L_ii = χ_{p−i+1}, L_ij ~ N(0, 1) (i > j)."""
    lower = np.tril(rng.standard_normal((batch, m, m)), k=-1)
    idx = np.arange(m)
    lower[:, idx, idx] = _chi(rng, p - idx, (batch, m))
    L = _to_xp(lower, xp)
    return xp.linalg.eigvalsh(L @ xp.matrix_transpose(L))


def bartlett_covariance(spectrum, n_samples, *, rng, batch=1, xp=None):
    """(batch, d, d) known-mean covariances C = Σ0^{1/2} L Lᵀ Σ0^{1/2} / N with Σ0 = diag(spectrum) and L the
    Bartlett factor of W_d(N, I) (L_ii = χ_{N−i+1}, L_ij ~ N(0, 1) below the diagonal): the law of
    :func:`sample_covariance` (known mean) from O(d²) random numbers per draw, no N × d sample; needs N ≥ d."""
    sig = validate.spectrum("spectrum", spectrum, strictly_positive=True)
    d = sig.size
    n = validate.positive_int("n_samples", n_samples, minimum=d)
    _check_rng(rng)
    b = _check_batch(batch)
    xp = _namespace(xp, spectrum)
    lower = np.tril(rng.standard_normal((b, d, d)), k=-1)
    idx = np.arange(d)
    lower[:, idx, idx] = _chi(rng, n - idx, (b, d))
    lower *= np.sqrt(sig)[None, :, None]
    L = _to_xp(lower, xp)
    return (L @ xp.matrix_transpose(L)) / n


def white_wishart_eigenvalues(d, n_samples, *, rng, batch=1, method="tridiagonal", estimated_mean=False, xp=None):
    """(batch, d) ascending eigenvalues of C for Σ0 = I (N·C ~ W_d(n, I), n = N or N − 1).

    For n < d, the d − n zero eigenvalues are exact and the nonzero ones are those of W_n(d, I)/N
    (the two Gram matrices XᵀX and XXᵀ share their nonzero spectrum), so the fast paths work for all α.
    """
    d = validate.positive_int("d", d)
    dof = degrees_of_freedom(n_samples, estimated_mean)
    n = int(n_samples)
    validate.choice("method", method, METHODS)
    _check_rng(rng)
    b = _check_batch(batch)
    xp = _namespace(xp)
    if method == "dense":
        return covariance_eigvalsh(np.ones(d), n, rng=rng, batch=b, estimated_mean=estimated_mean, xp=xp)
    m, p = min(d, dof), max(d, dof)
    if method == "tridiagonal":
        diag, off = laguerre_tridiagonal(m, p, rng=rng, batch=b)
        ev = _tridiagonal_eigvalsh(diag, off, xp)
    else:
        ev = _bartlett_eigvalsh(m, p, rng, b, xp)
    ev = ev / n  # both paths return arrays of xp
    if m < d:
        ev = xp.concat([xp.zeros((b, d - m), dtype=ev.dtype), ev], axis=-1)
    return ev


# ----------------------------------------------------------------------------------------------------
# linear spectral statistics of tridiagonal matrices in O(d) per z (no eigenvalues)
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolventStatistics:
    """Per draw and shift z (arrays of shape (batch, len(z))): Tr (M + z)^{-1}, Tr (M + z)^{-2}, ln det(M + z)."""

    trace_inv: object
    trace_inv2: object
    logdet: object


def _shifts(z, *, allow_zero: bool):
    zz = validate.finite_array("z", z)
    zz = zz.reshape(-1)
    if zz.size == 0:
        raise InputError("z", "is empty", "one or more shifts z >= 0")
    if np.any(zz < 0) or (not allow_zero and np.any(zz == 0)):
        bad = float(zz[(zz < 0) | ((zz == 0) & (not allow_zero))][0])
        allowed = "z >= 0" if allow_zero else "z > 0 (the matrix is singular: fewer samples than dimensions)"
        raise InputError("z", f"contains {bad!r}", allowed)
    return zz


def tridiagonal_resolvent_statistics(diag, off, z) -> ResolventStatistics:
    r"""Tr (T + z)^{-1}, Tr (T + z)^{-2} and ln det(T + z) of symmetric tridiagonal T in O(m) per draw and z.

    ``diag`` (batch, m) and ``off`` (batch, m − 1) in any array namespace; ``z`` (nz,) shifts with T + z positive
    definite (T positive semi-definite and z > 0, or T positive definite). The LDLᵀ pivots of T + z obey the
    continued fraction (Sturm recursion) D_1 = a_1 + z, D_i = a_i + z − b_{i−1}²/D_{i−1}, so that
    ln det = Σ ln D_i; their z-derivatives D_i' = 1 + u_i D_{i−1}', D_i'' = u_i (D_{i−1}'' − 2 D_{i−1}'²/D_{i−1})
    (u_i = b_{i−1}²/D_{i−1}²) give Tr (T + z)^{-1} = d ln det/dz = Σ D_i'/D_i and
    Tr (T + z)^{-2} = −d² ln det/dz² = Σ [(D_i'/D_i)² − D_i''/D_i]. For a positive definite T + z every pivot
    lies in [λ_min, λ_max] of T + z, D' ≥ 1 and D'' ≤ 0: all sums are of positive terms (no cancellation).
    The loop over i is vectorised over draws × z (3 recursions of 2 array operations each).
    """
    xp = array_namespace(diag)
    zz = xp.asarray(_shifts(z, allow_zero=True), dtype=xp.float64)
    if diag.ndim != 2 or off.ndim != 2 or off.shape[0] != diag.shape[0] or off.shape[1] != max(diag.shape[1] - 1, 0):
        raise InputError("off", f"has shape {tuple(off.shape)} for diag of shape {tuple(diag.shape)}",
                         "diag (batch, m) and off (batch, m − 1)")
    m = int(diag.shape[1])
    az = xp.permute_dims(diag, (1, 0))[:, :, None] + zz[None, None, :]  # (m, batch, nz), rows contiguous
    b2 = xp.permute_dims(off * off, (1, 0))[:, :, None]  # (m − 1, batch, 1)
    piv = [az[0, ...]]
    for i in range(1, m):
        piv.append(az[i, ...] - b2[i - 1, ...] / piv[-1])
    D = xp.stack(piv)
    q = 1.0 / D
    u = b2 * (q[:-1, ...] * q[:-1, ...])  # u_i = b_{i−1}²/D_{i−1}², i = 1..m−1
    d1 = [xp.ones_like(D[0, ...])]
    d2 = [xp.zeros_like(D[0, ...])]
    for i in range(1, m):
        prev1 = d1[-1]
        d1.append(1.0 + u[i - 1, ...] * prev1)
        d2.append(u[i - 1, ...] * (d2[-1] - 2.0 * (prev1 * prev1) * q[i - 1, ...]))
    r1 = xp.stack(d1) * q
    tr1 = xp.sum(r1, axis=0)
    tr2 = xp.sum(r1 * r1 - xp.stack(d2) * q, axis=0)
    return ResolventStatistics(tr1, tr2, xp.sum(xp.log(D), axis=0))


def white_wishart_resolvent_statistics(d, n_samples, z, *, rng, batch=1, estimated_mean=False,
                                       xp=None) -> ResolventStatistics:
    r"""Tr (C + z)^{-1}, Tr (C + z)^{-2}, ln det(C + z) per draw of a white Wishart C (Σ0 = I), in O(d) per z.

    The draw is the Dumitriu–Edelman tridiagonal of :func:`laguerre_tridiagonal` (the same random numbers as
    ``white_wishart_eigenvalues(..., method="tridiagonal")`` with the same ``rng``); with n = N, k = min(d, dof)
    nonzero eigenvalues: C + z has the spectrum of (T + N z)/N plus d − k eigenvalues z, so
    Tr (C + z)^{-1} = N Tr (T + N z)^{-1} + (d − k)/z, Tr (C + z)^{-2} = N² Tr (T + N z)^{-2} + (d − k)/z²,
    ln det(C + z) = ln det(T + N z) − k ln N + (d − k) ln z. Arrays of shape (batch, len(z)) in ``xp``
    (NumPy by default). z = 0 is allowed when C is invertible (dof ≥ d).
    """
    d = validate.positive_int("d", d)
    dof = degrees_of_freedom(n_samples, estimated_mean)
    n = int(n_samples)
    _check_rng(rng)
    b = _check_batch(batch)
    xp = _namespace(xp)
    k, p = min(d, dof), max(d, dof)
    zz = _shifts(z, allow_zero=k == d)
    diag, off = laguerre_tridiagonal(k, p, rng=rng, batch=b)
    st = tridiagonal_resolvent_statistics(_to_xp(diag, xp), _to_xp(off, xp), _to_xp(n * zz, xp))
    tr1, tr2, ld = st.trace_inv * n, st.trace_inv2 * (n * n), st.logdet - k * float(np.log(n))
    if k < d:
        zx = _to_xp(zz, xp)
        tr1, tr2, ld = tr1 + (d - k) / zx, tr2 + (d - k) / (zx * zx), ld + (d - k) * xp.log(zx)
    return ResolventStatistics(tr1, tr2, ld)


# ----------------------------------------------------------------------------------------------------
# streaming moments of spectral statistics
# ----------------------------------------------------------------------------------------------------


def trace_moment(eigs, k: int = 1):
    """(1/d) Tr C^k per draw, from (batch, d) eigenvalues."""
    xp = array_namespace(eigs)
    return xp.mean(eigs**k, axis=-1)


def resolvent_trace(eigs, z: float):
    """(1/d) Tr (C + z)^{-1} per draw, z > 0."""
    z = validate.positive("z", z)
    xp = array_namespace(eigs)
    return xp.mean(1.0 / (eigs + z), axis=-1)
