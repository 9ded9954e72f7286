"""Deterministic equivalents of resolvent traces (docs/mathematics.md §D–§E) and the averaged measures eq.13–eq.15, D.18.

Notation (docs/mathematics.md §E). R = (C + zI)⁻¹, κ = κ(z) from D.11 (:func:`lindiff_verify.theory.stieltjes.solve_kappa`),
ρ = κ/z = 1/ζ, P = (Σ0 + κI)⁻¹,
    df1 = Σ σ_i/(σ_i + κ),  df2 = Σ σ_i²/(σ_i + κ)²,  D = 1 − df2/N,
    S1 = Σ 1/(σ_i + κ),     S2 = Σ 1/(σ_i + κ)²,     T1 = Σ σ_i/(σ_i + κ)².
First order (D.11, D.14):   E R ≍ ρ P,  E Tr R ≍ ρ S1,  E Tr Σ0 R ≍ ρ df1.
Second order (D.5, D.17):   E[R A R] ≍ ρ²[P A P + Tr(A Σ0 P²)/(N D) · P Σ0 P], hence
    E Tr R² ≍ ρ²[S2 + T1²/(N D)] (= −d/dz(ρ S1)),  E Tr R Σ0 R ≍ ρ² T1/D,  dκ/dz = 1/D.
Log-determinant:            E ln det(C + z) ≍ Σ ln(σ_i + κ) + (N − d) ln ρ − df1.

Known mean: N·C ~ W_d(N, Σ0). Estimated mean: C is exactly the known-mean covariance of N − 1 samples
with covariance Σ0 (N − 1)/N, and δ = m − μ0 ~ N(0, Σ0/N) is independent of C. We apply the known-mean
equivalents to that reduced problem (σ' = σ(N − 1)/N, N' = N − 1: attributes ``kappa``, ``S1``, … are
those of the reduced problem) and add E δᵀ A δ = Tr(A Σ0)/N. docs/mathematics.md writes the same leading order with
the unreduced σ, N and a factor (1 + e_m), e_m = 1/N; the two differ at O(1/N) relative, below the
O(1/d) accuracy of the equivalents themselves.

All quantities are leading order as d, N → ∞ at fixed α = d/N; traces carry O(1) (i.e. O(1/d)
relative) corrections at finite size for real Gaussian data (docs/mathematics.md §E, "Finite-size behaviour").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import validate
from ..model.errors import InputError
from .stieltjes import _z_array, solve_kappa, spectrum_weights

__all__ = [
    "Equivalents",
    "q_from_alphas_cumprod",
    "averaged_test_loss",
    "averaged_train_loss",
    "averaged_residual_loss",
    "averaged_alignment",
    "averaged_kl",
    "averaged_logdet",
]


def _wsum(f, kappa, sig, w, rows=None):
    """Σ_i w_i f(σ_i, κ) for each κ (1-d array), blocked over κ."""
    rows = rows or max(1, int(2**17 // sig.size))
    out = np.empty(kappa.size)
    for a in range(0, kappa.size, rows):
        out[a : a + rows] = f(sig[None, :], kappa[a : a + rows, None]) @ w
    return out


@dataclass(frozen=True)
class Equivalents:
    """First- and second-order deterministic equivalents at z (scalar or array; attributes broadcast like z).

    Attributes: ``z``, ``kappa``, ``rho`` = κ/z, ``zeta`` = z/κ, ``df1``, ``df2``, ``D``, ``S1``, ``S2``, ``T1``,
    ``Q`` = df2/N (eq.12's weighted sum), ``d``, ``n_samples``, ``estimated_mean``; ``sigma``/``weights``:
    the (reduced, for the estimated mean) spectrum used; ``sigma_true``: Σ0's spectrum; ``n_eff``: N or N − 1.
    Properties: ``tr_R``, ``tr_R2``, ``tr_Sigma_R``, ``tr_R_Sigma_R``, ``delta_R_delta``, ``delta_R2_delta``,
    ``logdet``, ``dkappa_dz``; :meth:`mean_resolvent_diag` gives E R in Σ0's eigenbasis (ρ/(σ + κ)).
    """

    z: np.ndarray
    kappa: np.ndarray
    rho: np.ndarray
    zeta: np.ndarray
    df1: np.ndarray
    df2: np.ndarray
    D: np.ndarray
    S1: np.ndarray
    S2: np.ndarray
    T1: np.ndarray
    Q: np.ndarray
    d: float
    n_samples: int
    n_eff: int
    estimated_mean: bool
    sigma: np.ndarray
    weights: np.ndarray
    sigma_true: np.ndarray

    @classmethod
    def from_spectrum(cls, z, spectrum, n_samples, estimated_mean=False, *, multiplicities=None) -> "Equivalents":
        """Solve D.11 at z > 0 and form every sum of docs/mathematics.md §E (reduced problem for the estimated mean)."""
        zz = _z_array(z)
        sig_true, w = spectrum_weights(spectrum, multiplicities)
        n = validate.n_samples(n_samples, estimated_mean=bool(estimated_mean), name="n_samples")
        n_eff = n - 1 if estimated_mean else n
        sig = sig_true * (n_eff / n)
        flat = zz.ravel()
        kappa = solve_kappa(flat, sig, n_eff, multiplicities=w)
        S1 = _wsum(lambda s, k: 1.0 / (s + k), kappa, sig, w)
        S2 = _wsum(lambda s, k: 1.0 / (s + k) ** 2, kappa, sig, w)
        T1 = _wsum(lambda s, k: s / (s + k) ** 2, kappa, sig, w)
        df1 = _wsum(lambda s, k: s / (s + k), kappa, sig, w)
        df2 = _wsum(lambda s, k: (s / (s + k)) ** 2, kappa, sig, w)
        D = 1.0 - df2 / n_eff
        shape = zz.shape

        def r(a):
            a = np.asarray(a).reshape(shape)
            return a if a.ndim else float(a)

        return cls(z=r(flat), kappa=r(kappa), rho=r(kappa / flat), zeta=r(flat / kappa), df1=r(df1), df2=r(df2),
                   D=r(D), S1=r(S1), S2=r(S2), T1=r(T1), Q=r(df2 / n_eff), d=float(w.sum()), n_samples=n,
                   n_eff=n_eff, estimated_mean=bool(estimated_mean), sigma=sig, weights=w, sigma_true=sig_true)

    # --- first order -------------------------------------------------------------------------------
    @property
    def tr_R(self):
        """E Tr (C + z)⁻¹ ≍ ρ S1 (D.14 times d)."""
        return self.rho * self.S1

    @property
    def tr_Sigma_R(self):
        """E Tr Σ0 (C + z)⁻¹ ≍ ρ df1 (× N/(N − 1) for the estimated mean: Σ0 = σ'·N/(N − 1))."""
        return self._sigma_factor * self.rho * self.df1

    def mean_resolvent_diag(self, index=None):
        """E R in Σ0's eigenbasis: ρ/(σ_i + κ) (array over z × eigenvalues, or one z if ``index`` is given)."""
        k = np.atleast_1d(self.kappa)
        rho = np.atleast_1d(self.rho)
        out = rho[:, None] / (self.sigma[None, :] + k[:, None])
        return out if index is None else out[index]

    # --- second order ------------------------------------------------------------------------------
    @property
    def tr_R2(self):
        """E Tr R² ≍ ρ²[S2 + T1²/(N D)] (D.17)."""
        return self.rho**2 * (self.S2 + self.T1**2 / (self.n_eff * self.D))

    @property
    def tr_R_Sigma_R(self):
        """E Tr R Σ0 R ≍ ρ² T1/D (D.17; × N/(N − 1) for the estimated mean)."""
        return self._sigma_factor * self.rho**2 * self.T1 / self.D

    @property
    def delta_R_delta(self):
        """E δᵀ R δ = E Tr(Σ0 R)/N (estimated mean; 0 for the known mean)."""
        return self.tr_Sigma_R / self.n_samples if self.estimated_mean else 0.0 * self.rho

    @property
    def delta_R2_delta(self):
        """E δᵀ R² δ = E Tr(R Σ0 R)/N (estimated mean; 0 for the known mean)."""
        return self.tr_R_Sigma_R / self.n_samples if self.estimated_mean else 0.0 * self.rho

    @property
    def dkappa_dz(self):
        """dκ/dz = 1/D (implicit differentiation of D.11)."""
        return 1.0 / self.D

    @property
    def logdet(self):
        """E ln det(C + z) ≍ Σ ln(σ_i + κ) + (N − d) ln ρ − df1 (D.19–D.20)."""
        k = np.atleast_1d(self.kappa).ravel()
        s = _wsum(lambda s, kk: np.log(s + kk), k, self.sigma, self.weights).reshape(np.shape(self.kappa))
        s = s if s.ndim else float(s)
        return s + (self.n_eff - self.d) * np.log(self.rho) - self.df1

    @property
    def _sigma_factor(self):
        return self.n_samples / self.n_eff


def q_from_alphas_cumprod(alphas_cumprod):
    """q_t = (1 − ᾱ_t)/ᾱ_t (docs/mathematics.md §E); ᾱ_t in (0, 1)."""
    a = validate.probability_open("alphas_cumprod", alphas_cumprod)
    return (1.0 - a) / a


def _qc(q, c):
    qq = validate.finite_array("q", q)
    if np.any(qq <= 0):
        raise InputError("q", "has an entry <= 0", "q = (1 − ᾱ_t)/ᾱ_t > 0")
    cc = validate.nonnegative("c", c)
    return qq, cc


def averaged_test_loss(q, spectrum, n_samples, *, c=0.0, estimated_mean=False, multiplicities=None):
    """eq.13: E L_test,t ≍ d − 2q E Tr R + q² E Tr R² + q E Tr RΣ0R + q E δᵀR²δ, with z = q + c.

    Leading order: d − 2qρS1 + q²ρ²[S2 + T1²/(N D)] + (1 + e_m) q ρ² T1/D. Summed over the d directions.
    """
    qq, cc = _qc(q, c)
    e = Equivalents.from_spectrum(qq + cc, spectrum, n_samples, estimated_mean, multiplicities=multiplicities)
    return e.d - 2 * qq * e.tr_R + qq**2 * e.tr_R2 + qq * e.tr_R_Sigma_R + qq * e.delta_R2_delta


def averaged_train_loss(q, spectrum, n_samples, *, c=0.0, estimated_mean=False, multiplicities=None):
    """eq.13 (training): E L_train,t ≍ d − q E Tr R − q c E Tr R² ≍ d − qρS1 − q c ρ²[S2 + T1²/(N D)]."""
    qq, cc = _qc(q, c)
    e = Equivalents.from_spectrum(qq + cc, spectrum, n_samples, estimated_mean, multiplicities=multiplicities)
    return e.d - qq * e.tr_R - qq * cc * e.tr_R2


def averaged_residual_loss(q, spectrum, n_samples, *, estimated_mean=False, multiplicities=None):
    """D.18: the averaged residual (training) loss at c = 0, E L_res,t ≍ d − κ S1 = df1 (with z = q)."""
    qq, _ = _qc(q, 0.0)
    e = Equivalents.from_spectrum(qq, spectrum, n_samples, estimated_mean, multiplicities=multiplicities)
    return e.df1


def averaged_alignment(q, spectrum, n_samples, *, c=0.0, estimated_mean=False, multiplicities=None):
    """eq.14: E A_t ≍ q[E Tr RΣ0R + q E Tr R² − 2 Σ_i (σ_i + q) E[R]_ii/(σ_i + z) + Σ_i (σ_i + q)/(σ_i + z)²]
    + q E δᵀR²δ, with z = q + c, E[R]_ii ≍ ρ/(σ_i + κ) in Σ0's eigenbasis (R∞ = (Σ0 + z)⁻¹)."""
    qq, cc = _qc(q, c)
    e = Equivalents.from_spectrum(qq + cc, spectrum, n_samples, estimated_mean, multiplicities=multiplicities)
    sig, w = e.sigma_true, e.weights
    qf = np.atleast_1d(qq).ravel()
    zf = qf + cc
    er = e.mean_resolvent_diag()  # (nz, d)
    cross = ((sig[None, :] + qf[:, None]) / (sig[None, :] + zf[:, None]) * er) @ w
    ref = ((sig[None, :] + qf[:, None]) / (sig[None, :] + zf[:, None]) ** 2) @ w
    cross = cross.reshape(np.shape(qq))
    ref = ref.reshape(np.shape(qq))
    return qq * (e.tr_R_Sigma_R + qq * e.tr_R2 - 2 * cross + ref) + qq * e.delta_R2_delta


def averaged_logdet(z, spectrum, n_samples, *, estimated_mean=False, multiplicities=None):
    """E ln det(C + z) ≍ Σ ln(σ_i + κ) + (N − d) ln ρ − df1 (D.20)."""
    return Equivalents.from_spectrum(z, spectrum, n_samples, estimated_mean, multiplicities=multiplicities).logdet


def averaged_kl(eps, spectrum, n_samples, *, estimated_mean=False, multiplicities=None):
    """eq.15 (D.19–D.20): E DKL(N(μ0, Σ0) ‖ N(m, C + ε)) for ε > 0,
    2 E DKL = E Tr Σ0 R + E δᵀRδ − d + E ln det(C + ε) − ln det Σ0, R = (C + ε)⁻¹,
    ≍ (1 + e_m) ρ df1 − df1 − d + Σ ln(1 + κ/σ_i) + (N − d) ln ρ (z = ε)."""
    if np.any(validate.finite_array("eps", eps) <= 0):
        raise InputError("eps", f"is {eps!r}", "eps > 0 (the ε → 0 limit is D.21–D.22: theory.finite_n)")
    e = Equivalents.from_spectrum(eps, spectrum, n_samples, estimated_mean, multiplicities=multiplicities)
    logdet_sigma = float(e.weights @ np.log(e.sigma_true))
    return 0.5 * (e.tr_Sigma_R + e.delta_R_delta - e.d + e.logdet - logdet_sigma)
