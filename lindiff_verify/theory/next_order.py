r"""Next-order (real-Gaussian) equivalents of the second-order traces and of eq.13–eq.15 (extensions X.5, X.4).

Derivation: ``docs/next_order.md``. Known mean, N·C ~ W_d(N, Σ0); shift Z = z + tΣ0 (z > 0, t = 0 at the end),
R = (C + Z)⁻¹. Everything follows from one generating function,

    Φ(z, t) = E ln det(C + z + tΣ0) ≍ Φ0 + Φ1,   Φ1 = ½ ln D,   D = 1 − (1/N) Σ σ_i²/(σ_i + κ)²,

with Φ0 the leading order (docs/mathematics.md §E: Σ ln(σ + κ) + (N − d) ln ρ − df1 at t = 0). Φ1 is the real-Gaussian
(Stein) term: ∂Φ1/∂Z_ii reproduces X.1's correction of E[R]_ii to first order in 1/N, for any diagonal Z
(checked symbolically in X.5). Then
    E Tr R = ∂zΦ,  E Tr Σ0R = ∂tΦ,  E Tr R² = −∂z²Φ,  E Tr RΣ0R = −∂z∂tΦ,  E Tr Σ0RΣ0R = −∂t²Φ.
With ρ = κ/z and p_ab = (1/N) Σ σ_i^a/(σ_i + κ)^b (so D = 1 − p22), the corrections are

    ΔE Tr R        = ρ[p23/D + p12(p33 − p22)/D²]
    ΔE Tr Σ0R      = ρ(p33 − p22²)/D²
    ΔE Tr R²       = ρ²[2D³p13 + 3D³p24 + D²(p12² + 4p12p23 + 6p12p34 + 2p13p33 − 2p13 + 2p23²)
                        + D(2p12²p33 + 3p12²p44 − 5p12² + 8p12p23p33 − 8p12p23) + 4p12²(p33 − 1)²]/D⁴
    ΔE Tr RΣ0R     = ρ²[−D³p12 + D²(6p12 + 4p23 + 3p34) + D(6p12p33 + 3p12p44 − 9p12 + 4p23p33 − 4p23)
                        + 4p12(p33 − 1)²]/D⁴
    ΔE Tr Σ0RΣ0R   = ρ²[D⁴ − 7D³ − 2D²p33 + 15D² + 10Dp33 + 3Dp44 − 13D + 4(p33 − 1)²]/D⁴
    ΔE ln det(C+z) = ½ ln D
    ΔE[R]_ii       = (ρ/(N D)) [σ_i²/(σ_i + κ)³ + (p33 − p22) σ_i/(D (σ_i + κ)²)]     (Σ0's eigenbasis)

(each O(1), i.e. O(1/d) relative to the O(d) leading term; remainder O(1/d) absolute).

Estimated mean: C is exactly the known-mean covariance of N − 1 samples with covariance Σ0(N − 1)/N
(as in :mod:`lindiff_verify.theory.replica`): the sums above are those of that reduced problem (σ' = σ(N − 1)/N,
N' = N − 1), a Σ0 in a trace contributes a factor N/(N − 1), and δ = m − μ0 ~ N(0, Σ0/N) independent of C gives
E δᵀRδ = E Tr Σ0R / N, E δᵀR²δ = E Tr RΣ0R / N.

``order="leading"`` returns the leading forms (equal to :mod:`~lindiff_verify.theory.replica`'s), ``"corrected"``
adds the corrections.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import validate
from ..model.errors import InputError
from .stieltjes import _z_array, solve_kappa, spectrum_weights

__all__ = [
    "ORDERS",
    "NextOrder",
    "test_loss",
    "train_loss",
    "gap",
    "alignment",
    "alignment_two_models",
    "logdet",
    "kl",
]

ORDERS = ("leading", "corrected")


def _power_sums(kappa, sig, w):
    """X[m, :, c] = Σ_i w_i σ_i^(m+1−c)/(σ_i + κ)^(m+1) for m = 0..3, c = 0..2, and Σ w ln(σ + κ); blocked over κ.

    Written as powers of x = σ/(σ + κ) against the weights w σ^(−c): positive terms only (no cancellation)."""
    rows = max(1, int(2**15 // sig.size))
    V = np.stack([w, w / sig, w / sig**2], axis=1)
    X = np.empty((4, kappa.size, 3))
    lg = np.empty(kappa.size)
    buf = np.empty((min(rows, kappa.size), sig.size))
    xm = np.empty_like(buf)
    for a in range(0, kappa.size, rows):
        kk = kappa[a : a + rows]
        x, p = buf[: kk.size], xm[: kk.size]
        np.add(sig[None, :], kk[:, None], out=x)
        np.log(x, out=p)
        lg[a : a + rows] = p @ w
        np.divide(sig[None, :], x, out=x)
        p[...] = x
        for m in range(4):
            X[m, a : a + rows] = p @ V
            if m < 3:
                p *= x
    return X, lg


@dataclass(frozen=True)
class NextOrder:
    """Leading and next-order equivalents at z (scalar or array; attributes broadcast like z).

    ``order`` selects what the trace properties return. Sums of the (reduced, for the estimated mean) problem:
    ``kappa``, ``rho``, ``S1``, ``S2``, ``T1``, ``df1``, ``df2``, ``D`` as in :class:`~.replica.Equivalents`, and
    ``p`` = {(a, b): p_ab}. Properties: ``tr_R``, ``tr_Sigma_R``, ``tr_R2``, ``tr_R_Sigma_R``,
    ``tr_Sigma_R_Sigma_R``, ``delta_R_delta``, ``delta_R2_delta``, ``logdet``; :meth:`mean_resolvent_diag`.
    """

    z: np.ndarray
    order: str
    kappa: np.ndarray
    rho: np.ndarray
    S1: np.ndarray
    S2: np.ndarray
    T1: np.ndarray
    df1: np.ndarray
    df2: np.ndarray
    D: np.ndarray
    p: dict
    log_sum: np.ndarray
    d: float
    n_samples: int
    n_eff: int
    estimated_mean: bool
    sigma: np.ndarray
    weights: np.ndarray
    sigma_true: np.ndarray
    shape: tuple

    @classmethod
    def from_spectrum(cls, z, spectrum, n_samples, estimated_mean=False, *, order="corrected",
                      multiplicities=None) -> "NextOrder":
        """Solve D.11 at each z > 0 (reduced problem for the estimated mean) and form every sum in one pass."""
        zz = _z_array(z)
        validate.choice("order", order, ORDERS)
        sig_true, w = spectrum_weights(spectrum, multiplicities)
        n = validate.n_samples(n_samples, estimated_mean=bool(estimated_mean), name="n_samples")
        n_eff = n - 1 if estimated_mean else n
        sig = sig_true * (n_eff / n)
        flat = zz.ravel().astype(np.float64)
        kappa = solve_kappa(flat, sig, n_eff, multiplicities=w)
        X, lg = _power_sums(kappa, sig, w)

        def s(a, b):  # Σ w σ^a/(σ+κ)^b
            return X[b - 1, :, b - a]

        p = {(a, b): s(a, b) / n_eff for a, b in ((1, 2), (2, 2), (1, 3), (2, 3), (3, 3), (2, 4), (3, 4), (4, 4))}
        return cls(z=flat, order=order, kappa=kappa, rho=kappa / flat, S1=s(0, 1), S2=s(0, 2), T1=s(1, 2),
                   df1=s(1, 1), df2=s(2, 2), D=1.0 - s(2, 2) / n_eff, p=p, log_sum=lg, d=float(w.sum()),
                   n_samples=n, n_eff=n_eff, estimated_mean=bool(estimated_mean), sigma=sig, weights=w,
                   sigma_true=sig_true, shape=zz.shape)

    def _out(self, a):
        a = np.asarray(a).reshape(self.shape)
        return a if a.ndim else float(a)

    @property
    def _on(self):
        return 1.0 if self.order == "corrected" else 0.0

    @property
    def _f(self):  # a Σ0 in a trace: Σ0 = σ'·N/N'
        return self.n_samples / self.n_eff

    # --- corrections (O(1)) ------------------------------------------------------------------------
    @property
    def corrections(self) -> dict:
        """The O(1) real-Gaussian corrections ΔΦ_z, ΔΦ_t, −ΔΦ_zz, −ΔΦ_zt, −ΔΦ_tt, ΔΦ (reduced problem, no Σ0 factors)."""
        p, D, r = self.p, self.D, self.rho
        p12, p13, p23, p33, p24, p34, p44 = (p[k] for k in ((1, 2), (1, 3), (2, 3), (3, 3), (2, 4), (3, 4), (4, 4)))
        p22 = 1.0 - D
        return {
            "tr_R": r * (p23 / D + p12 * (p33 - p22) / D**2),
            "tr_Sigma_R": r * (p33 - p22**2) / D**2,
            "tr_R2": r**2 * (2 * D**3 * p13 + 3 * D**3 * p24
                             + D**2 * (p12**2 + 4 * p12 * p23 + 6 * p12 * p34 + 2 * p13 * p33 - 2 * p13 + 2 * p23**2)
                             + D * (2 * p12**2 * p33 + 3 * p12**2 * p44 - 5 * p12**2 + 8 * p12 * p23 * p33
                                    - 8 * p12 * p23)
                             + 4 * p12**2 * (p33 - 1) ** 2) / D**4,
            "tr_R_Sigma_R": r**2 * (-(D**3) * p12 + D**2 * (6 * p12 + 4 * p23 + 3 * p34)
                                    + D * (6 * p12 * p33 + 3 * p12 * p44 - 9 * p12 + 4 * p23 * p33 - 4 * p23)
                                    + 4 * p12 * (p33 - 1) ** 2) / D**4,
            "tr_Sigma_R_Sigma_R": r**2 * (D**4 - 7 * D**3 - 2 * D**2 * p33 + 15 * D**2 + 10 * D * p33 + 3 * D * p44
                                          - 13 * D + 4 * (p33 - 1) ** 2) / D**4,
            "logdet": 0.5 * np.log(D),
        }

    # --- first order -------------------------------------------------------------------------------
    @property
    def tr_R(self):
        """E Tr R ≍ ρS1 (+ ρ[p23/D + p12(p33 − p22)/D²])."""
        return self._out(self.rho * self.S1 + self._on * self.corrections["tr_R"])

    @property
    def tr_Sigma_R(self):
        """E Tr Σ0R ≍ ρ df1 (+ ρ(p33 − p22²)/D²)."""
        return self._out(self._f * (self.rho * self.df1 + self._on * self.corrections["tr_Sigma_R"]))

    # --- second order ------------------------------------------------------------------------------
    @property
    def tr_R2(self):
        """E Tr R² ≍ ρ²[S2 + T1²/(N D)] (+ −∂z²Φ1)."""
        lead = self.rho**2 * (self.S2 + self.T1**2 / (self.n_eff * self.D))
        return self._out(lead + self._on * self.corrections["tr_R2"])

    @property
    def tr_R_Sigma_R(self):
        """E Tr RΣ0R ≍ ρ²T1/D (+ −∂z∂tΦ1)."""
        return self._out(self._f * (self.rho**2 * self.T1 / self.D + self._on * self.corrections["tr_R_Sigma_R"]))

    @property
    def tr_Sigma_R_Sigma_R(self):
        """E Tr Σ0RΣ0R ≍ ρ² df2/D (+ −∂t²Φ1)."""
        lead = self.rho**2 * self.df2 / self.D
        return self._out(self._f**2 * (lead + self._on * self.corrections["tr_Sigma_R_Sigma_R"]))

    @property
    def delta_R_delta(self):
        """E δᵀRδ = E Tr Σ0R / N (estimated mean; 0 for the known mean)."""
        return self.tr_Sigma_R / self.n_samples if self.estimated_mean else self._out(0.0 * self.rho)

    @property
    def delta_R2_delta(self):
        """E δᵀR²δ = E Tr RΣ0R / N (estimated mean; 0 for the known mean)."""
        return self.tr_R_Sigma_R / self.n_samples if self.estimated_mean else self._out(0.0 * self.rho)

    @property
    def logdet(self):
        """E ln det(C + z) ≍ Σ ln(σ + κ) + (N − d) ln ρ − df1 (+ ½ ln D)."""
        lead = self.log_sum + (self.n_eff - self.d) * np.log(self.rho) - self.df1
        return self._out(lead + self._on * self.corrections["logdet"])

    def mean_resolvent_diag(self, rows=slice(None)):
        """E R in Σ0's eigenbasis, (number of z) × (number of eigenvalues) (the z ``rows`` only, if given):
        ρ/(σ + κ) (+ (ρ/(N D))[σ²/(σ + κ)³ + (p33 − p22)σ/(D(σ + κ)²)])."""
        k, r, D = self.kappa[rows, None], self.rho[rows, None], self.D[rows, None]
        y = 1.0 / (self.sigma[None, :] + k)
        out = r * y
        if self.order == "corrected":
            e = (self.p[(3, 3)] - self.p[(2, 2)])[rows, None]
            x = self.sigma[None, :] * y
            out += (r / (self.n_eff * D)) * (x * x * y + (e / D) * x * y)
        return out


# ----------------------------------------------------------------------------------------------------
# averaged measures (eq.13–eq.15, eq.14 with a finite reference: X.4)
# ----------------------------------------------------------------------------------------------------


def _qc(q, c):
    qq = validate.finite_array("q", q)
    if np.any(qq <= 0):
        raise InputError("q", "has an entry <= 0", "q = (1 − ᾱ_t)/ᾱ_t > 0")
    return qq, validate.nonnegative("c", c)


def _eq(q, c, spectrum, n, estimated_mean, order, multiplicities):
    qq, cc = _qc(q, c)
    return qq, cc, NextOrder.from_spectrum(qq + cc, spectrum, n, estimated_mean, order=order,
                                           multiplicities=multiplicities)


def test_loss(q, spectrum, n_samples, *, c=0.0, estimated_mean=False, order="corrected", multiplicities=None):
    """eq.13: E L_test,t = d − 2q E Tr R + q² E Tr R² + q E Tr RΣ0R + q E δᵀR²δ, z = q + c (summed over d)."""
    qq, _, e = _eq(q, c, spectrum, n_samples, estimated_mean, order, multiplicities)
    return e.d - 2 * qq * e.tr_R + qq**2 * e.tr_R2 + qq * e.tr_R_Sigma_R + qq * e.delta_R2_delta


test_loss.__test__ = False  # not a pytest test


def train_loss(q, spectrum, n_samples, *, c=0.0, estimated_mean=False, order="corrected", multiplicities=None):
    """eq.13 (training, penalty excluded): E L_train,t = d − q E Tr R − q c E Tr R²."""
    qq, cc, e = _eq(q, c, spectrum, n_samples, estimated_mean, order, multiplicities)
    return e.d - qq * e.tr_R - qq * cc * e.tr_R2


def gap(q, spectrum, n_samples, *, c=0.0, estimated_mean=False, order="corrected", multiplicities=None):
    """eq.10 averaged: E(L_test − L_train) = q[z E Tr R² − E Tr R + E Tr RΣ0R + E δᵀR²δ]."""
    qq, cc, e = _eq(q, c, spectrum, n_samples, estimated_mean, order, multiplicities)
    return qq * ((qq + cc) * e.tr_R2 - e.tr_R + e.tr_R_Sigma_R + e.delta_R2_delta)


def _own(qf, e):
    """E Tr R(Σ0 + q)R + E δᵀR²δ of one model, flat over z."""
    return (np.atleast_1d(e.tr_R_Sigma_R) + qf * np.atleast_1d(e.tr_R2) + np.atleast_1d(e.delta_R2_delta)).ravel()


def alignment_two_models(q, spectrum, n_samples, n_prime=None, *, c=0.0, estimated_mean=False, order="corrected",
                         multiplicities=None):
    """X.4: E‖ε_N − ε_N′‖² over noised test inputs, two denoisers from independent training sets of sizes N, N′
    (same z = q + c, same mean variant):
        q[E Tr R(Σ0+q)R + E δᵀR²δ + E Tr R′(Σ0+q)R′ + E δ′ᵀR′²δ′ − 2 Σ_i (σ_i + q) E[R]_ii E[R′]_ii].
    ``n_prime=None`` (or ∞): the population model R′ = (Σ0 + z)⁻¹, δ′ = 0 — eq.14."""
    qq, cc = _qc(q, c)
    zz = qq + cc
    qf, zf = np.atleast_1d(qq).ravel(), np.atleast_1d(zz).ravel()
    e = NextOrder.from_spectrum(zz, spectrum, n_samples, estimated_mean, order=order, multiplicities=multiplicities)
    sig, w = e.sigma_true, e.weights
    population = n_prime is None or (isinstance(n_prime, float) and np.isinf(n_prime))
    e2 = None if population else NextOrder.from_spectrum(zz, spectrum, n_prime, estimated_mean, order=order,
                                                          multiplicities=multiplicities)
    own2 = np.empty(qf.size) if population else _own(qf, e2)
    cross = np.empty(qf.size)
    step = max(1, int(2**15 // sig.size))
    for a in range(0, qf.size, step):
        rows = slice(a, a + step)
        wq = sig[None, :] + qf[rows, None]
        if population:
            r2 = 1.0 / (sig[None, :] + zf[rows, None])
            own2[rows] = (wq * r2 * r2) @ w
        else:
            r2 = e2.mean_resolvent_diag(rows)
        cross[rows] = (wq * e.mean_resolvent_diag(rows) * r2) @ w
    return e._out(qf * (_own(qf, e) + own2 - 2 * cross))


def alignment(q, spectrum, n_samples, *, c=0.0, estimated_mean=False, order="corrected", multiplicities=None):
    """eq.14: E‖ε_N − ε_∞‖² (X.4 with N′ = ∞)."""
    return alignment_two_models(q, spectrum, n_samples, None, c=c, estimated_mean=estimated_mean, order=order,
                                multiplicities=multiplicities)


def logdet(z, spectrum, n_samples, *, estimated_mean=False, order="corrected", multiplicities=None):
    """E ln det(C + z) ≍ Σ ln(σ + κ) + (N − d) ln ρ − df1 (+ ½ ln D)."""
    return NextOrder.from_spectrum(z, spectrum, n_samples, estimated_mean, order=order,
                                   multiplicities=multiplicities).logdet


def kl(eps, spectrum, n_samples, *, estimated_mean=False, order="corrected", multiplicities=None):
    """eq.15: 2 E DKL(N(μ0, Σ0) ‖ N(m, C + ε)) = E Tr Σ0R + E δᵀRδ − d + E ln det(C + ε) − ln det Σ0; returns E DKL."""
    e = NextOrder.from_spectrum(eps, spectrum, n_samples, estimated_mean, order=order, multiplicities=multiplicities)
    return 0.5 * (e.tr_Sigma_R + e.delta_R_delta - e.d + e.logdet - float(e.weights @ np.log(e.sigma_true)))
