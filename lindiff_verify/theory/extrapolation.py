"""Finite-size extrapolation of Monte Carlo means in 1/d (fixed α = d/N).

Deterministic equivalents are exact as d → ∞; at finite d a normalised trace carries an O(1/d)
correction. Given Monte Carlo means v_k ± se_k at sizes d_k we fit, by weighted least squares with
weights 1/se_k²,
    v(d) = v∞ + b/d            (order 1)   or   v(d) = v∞ + b/d + c/d²   (order 2),
and return v∞ with its standard error (from the known per-point SEs, i.e. (XᵀWX)⁻¹), the finite-size
slope b with its SE, and χ² with its p-value (a small p-value says the 1/d model does not describe the
data: the report shows it). :func:`lindiff_verify.verification.checks.judge` turns a fit into a compared case.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..model import validate
from ..model.errors import InputError

__all__ = ["FiniteSizeFit", "fit_finite_size"]


@dataclass(frozen=True)
class FiniteSizeFit:
    """Result of :func:`fit_finite_size` (coefficients in powers of 1/d)."""

    value: float  # v∞
    se: float  # SE of v∞
    slope: float  # b (coefficient of 1/d)
    slope_se: float
    curvature: float | None  # c (coefficient of 1/d²), order 2 only
    curvature_se: float | None
    chi2: float
    dof: int
    p_value: float
    d: np.ndarray
    values: np.ndarray
    se_points: np.ndarray
    order: int

    def predict(self, d):
        x = 1.0 / np.asarray(d, dtype=float)
        out = self.value + self.slope * x
        if self.curvature is not None:
            out = out + self.curvature * x**2
        return out

    def measurements(self, prefix: str = "") -> dict:
        """Numbers for Outcome.measurements: v∞ ± SE, slope ± SE, χ²/dof, p-value, the sizes used."""
        p = f"{prefix}: " if prefix else ""
        m = {f"{p}extrapolated value": self.value, f"{p}extrapolated SE": self.se,
             f"{p}finite-size slope b (v = v∞ + b/d)": self.slope, f"{p}slope SE": self.slope_se,
             f"{p}chi2/dof": self.chi2 / self.dof if self.dof else float("nan"), f"{p}fit p-value": self.p_value,
             f"{p}d values": [int(x) if float(x).is_integer() else float(x) for x in self.d]}
        if self.curvature is not None:
            m[f"{p}curvature c (1/d²)"] = self.curvature
        return m


def fit_finite_size(d, values, se, *, order: int = 1) -> FiniteSizeFit:
    """Weighted least squares of ``values`` (± ``se``) against 1/``d`` with ``order`` + 1 coefficients.

    Needs more distinct sizes than coefficients (so χ² has ≥ 1 degree of freedom), all se > 0.
    """
    order = validate.choice("order", order, (1, 2))
    dd = validate.finite_array("d", d, ndim=1)
    vv = validate.finite_array("values", values, shape=dd.shape)
    ss = validate.finite_array("se", se, shape=dd.shape)
    if np.any(dd <= 0):
        raise InputError("d", "has an entry <= 0", "sizes d > 0")
    if np.any(ss <= 0):
        raise InputError("se", "has an entry <= 0", "standard errors > 0")
    if np.unique(dd).size < order + 2:
        raise InputError("d", f"has {np.unique(dd).size} distinct sizes", f"at least {order + 2} for an order-{order} fit")
    x = 1.0 / dd
    X = np.stack([x**k for k in range(order + 1)], axis=1)
    wts = 1.0 / ss**2
    A = X.T @ (X * wts[:, None])
    cov = np.linalg.inv(A)
    beta = cov @ (X.T @ (wts * vv))
    res = (vv - X @ beta) / ss
    chi2 = float(res @ res)
    dof = dd.size - (order + 1)
    pval = float(stats.chi2.sf(chi2, dof)) if dof > 0 else float("nan")
    sd = np.sqrt(np.diag(cov))
    return FiniteSizeFit(value=float(beta[0]), se=float(sd[0]), slope=float(beta[1]), slope_se=float(sd[1]),
                         curvature=float(beta[2]) if order == 2 else None,
                         curvature_se=float(sd[2]) if order == 2 else None,
                         chi2=chi2, dof=dof, p_value=pval, d=dd, values=vv, se_points=ss, order=order)
