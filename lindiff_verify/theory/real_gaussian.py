r"""Next-order ("real-Gaussian") correction to E[(C + z)⁻¹] (extension X.1; docs/mathematics.md §E, "Finite-size behaviour").

Known mean, N·C ~ W_d(N, Σ0), R = (C + z)⁻¹, z > 0, Σ0 = diag(σ) (E R and E RCR are diagonal in Σ0's
eigenbasis: flipping the sign of one data coordinate flips the off-diagonal entries).

Derivation (Stein's lemma). From R(C + z) = I, E[RC] = I − zE[R]. For one sample x ~ N(0, Σ0),
E[f(x) xᵀ] = E[∂f] Σ0 with f = R x; ∂R/∂x_b = −R (e_b xᵀ + x e_bᵀ) R / N gives
    E[R x xᵀ] = E[R Σ0 (1 − xᵀRx/N)] − (1/N) E[R x xᵀ R] Σ0.
Average over the N exchangeable samples, use (1/N)Σ_μ x_μᵀ R x_μ / N = τ̂ := (1/N) Tr(RC) = (1/N) Tr(I − zR),
and replace E[R τ̂] by E[R] τ with τ = E τ̂ (the covariance is O(1/N) in a trace, O(1/d²) relative):
    (z + (1 − τ) Σ0) E[R] = I + (1/N) Σ0 E[R C R],     τ = (1/N) Tr(I − z E[R]).            (★)
So Γ = z exactly (no further factor). The last term is absent for complex Gaussian data (there ∂/∂x̄ only
hits one of the two rank-one pieces): it is the real-Gaussian term. Dropping it, (★) gives
E[R] = (z + (1 − τ)Σ0)⁻¹ = ρ(Σ0 + κ)⁻¹ with κ = z/(1 − τ), ρ = κ/z, and τ = df1/N, i.e. D.11
(ζ = 1 − τ = 1 − df1/N): the leading order. The term is O(1) in a trace (O(1/d) relative); we evaluate it at
leading order, E[RCR] = E[R] − zE[R²] = E[R] + z ∂_z E[R] with E[R] ≍ ρ(Σ0 + κ)⁻¹ and dκ/dz = 1/D:
    E[R C R]_ii ≍ σ_i / (D (σ_i + κ)²),   D = 1 − df2/N,
which also equals the D.5 form ρ/(σ+κ) − zρ²[1/(σ+κ)² + T1 σ/(N D (σ+κ)²)]. Hence, per eigen-direction,
    r_i = (1 + g_i) / (z + (1 − τ) σ_i),   g_i = σ_i² / (N D (σ_i + κ)²),   τ = (1/N) Σ_i (1 − z r_i),   (★★)
a scalar fixed point in τ (the right side decreases in τ: one root, found by bracketing). The remainder is
O(1/d²) relative. Check at z → 0, N > d + 1 (κ → 0, D = 1 − d/N, τ = d/N): σ_i r_i = N(N − d + 1)/(N − d)²,
against the exact inverse-Wishart E[C⁻¹] = N/(N − d − 1) Σ0⁻¹: corrected/exact − 1 = −1/(N − d)² exactly, while
the leading order N/(N − d) has leading/exact − 1 = −1/(N − d).

Estimated mean: C is the known-mean covariance of N − 1 samples with covariance Σ0 (N − 1)/N (as in
:mod:`lindiff_verify.theory.replica`); we solve (★★) for that reduced problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from ..model import validate
from ..model.errors import ConvergenceError
from .replica import Equivalents
from .stieltjes import _z_array, spectrum_weights

__all__ = ["CorrectedResolvent", "corrected_resolvent", "corrected_traces"]


@dataclass(frozen=True)
class CorrectedResolvent:
    """Solution of (★★) at one z: ``r`` (E R in Σ0's eigenbasis, one entry per eigenvalue of ``sigma``), ``tau``,
    ``g`` (the real-Gaussian term g_i), the leading-order ``r_leading`` = ρ/(σ + κ), ``kappa``, ``D``, ``weights``.
    ``sigma`` is the spectrum the equations were solved with (reduced for the estimated mean); ``sigma_true`` is Σ0's.
    """

    z: float
    r: np.ndarray
    tau: float
    g: np.ndarray
    r_leading: np.ndarray
    kappa: float
    D: float
    sigma: np.ndarray
    sigma_true: np.ndarray
    weights: np.ndarray
    n_eff: int

    @property
    def tr_R(self) -> float:
        """E Tr R (corrected)."""
        return float(self.weights @ self.r)

    @property
    def tr_Sigma_R(self) -> float:
        """E Tr Σ0 R (corrected; Σ0 the true covariance)."""
        return float(self.weights @ (self.sigma_true * self.r))


def _solve_one(z, sig, w, n, kappa, D):
    g = sig**2 / (n * D * (sig + kappa) ** 2)

    def r_of(tau):
        return (1.0 + g) / (z + (1.0 - tau) * sig)

    def f(tau):
        return tau - float(w @ (1.0 - z * r_of(tau))) / n

    # f increases in τ on (−∞, τmax), τmax = 1 + z/σmax (where the largest r_i blows up): one root.
    tmax = 1.0 + z / float(sig.max())
    lo = -1.0
    while f(lo) > 0:
        lo = 2 * lo - 1
        if lo < -1e6:
            raise ConvergenceError(f"corrected_resolvent: no lower bracket at z = {z!r}, N = {n}")
    step = (tmax - lo) / 2
    hi = tmax - step
    while f(hi) < 0:
        step /= 2
        hi = tmax - step
        if step < 1e-300:
            raise ConvergenceError(f"corrected_resolvent: no upper bracket at z = {z!r}, N = {n}")
    tau = brentq(f, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
    return tau, r_of(tau), g


def corrected_resolvent(z, spectrum, n_samples, *, estimated_mean=False, multiplicities=None):
    """(★★) at each z > 0: a :class:`CorrectedResolvent` (or a list of them for an array z)."""
    zz = _z_array(z)
    sig_true, w = spectrum_weights(spectrum, multiplicities)
    n = validate.n_samples(n_samples, estimated_mean=bool(estimated_mean), name="n_samples")
    e = Equivalents.from_spectrum(zz.ravel(), sig_true, n, bool(estimated_mean), multiplicities=w)
    sig, n_eff = e.sigma, e.n_eff
    out = []
    for i, zv in enumerate(zz.ravel()):
        k, D = float(np.atleast_1d(e.kappa)[i]), float(np.atleast_1d(e.D)[i])
        tau, r, g = _solve_one(float(zv), sig, w, n_eff, k, D)
        out.append(CorrectedResolvent(float(zv), r, float(tau), g, (k / zv) / (sig + k), k, D, sig, sig_true, w,
                                      n_eff))
    return out[0] if zz.ndim == 0 else out


def corrected_traces(z, spectrum, n_samples, *, estimated_mean=False, multiplicities=None):
    """(E Tr R, E Tr Σ0 R) with the real-Gaussian correction, shaped like z."""
    zz = _z_array(z)
    sols = corrected_resolvent(zz.ravel(), spectrum, n_samples, estimated_mean=estimated_mean,
                               multiplicities=multiplicities)
    a = np.array([s.tr_R for s in sols]).reshape(zz.shape)
    b = np.array([s.tr_Sigma_R for s in sols]).reshape(zz.shape)
    return (a if a.ndim else float(a)), (b if b.ndim else float(b))
