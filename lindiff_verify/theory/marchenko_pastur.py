"""The Marchenko–Pastur law: D.12 for Σ0 = scale·I (paper fig. 2a).

C = (1/N) Σ_μ x^μ x^μᵀ, x ~ N(0, s I), α = d/N. Edges λ± = s(1 ± √α)², continuous density
    ρ(x) = √((λ+ − x)(x − λ−)) / (2π s α x)  on [λ−, λ+],
plus a point mass 1 − 1/α at 0 when α > 1. The Stieltjes transform g(w) = (1/d) E Tr(C − w)⁻¹ solves
the quadratic s α w g² − (s(1 − α) − w) g + 1 = 0 (D.12 with σ_i = s), whose root on the physical branch is
    g(w) = [s(1 − α) − w + √(w − λ+)·√(w − λ−)] / (2 s α w)   (principal square roots; g ~ −1/w at ∞).
Moments: E(1/d)Tr C = s, E(1/d)Tr C² = s²(1 + α), and in general s^k Σ_j N(k, j) α^{j−1}
(Narayana numbers N(k, j) = C(k, j) C(k, j − 1)/k), exact at finite d for the second moment up to 1/N:
E(1/d)Tr C² = s²(1 + α + 1/N) for real Gaussian data.
"""

from __future__ import annotations

from math import comb

import numpy as np
from scipy import integrate

from ..model import validate

__all__ = [
    "marchenko_pastur_edges",
    "marchenko_pastur_density",
    "marchenko_pastur_point_mass",
    "marchenko_pastur_stieltjes",
    "marchenko_pastur_cdf",
    "marchenko_pastur_moment",
]


def _alpha_scale(alpha, scale):
    return validate.positive("alpha", alpha), validate.positive("scale", scale)


def marchenko_pastur_edges(alpha, *, scale=1.0) -> tuple[float, float]:
    """(λ−, λ+) = s(1 ∓ √α)²."""
    a, s = _alpha_scale(alpha, scale)
    return s * (1 - np.sqrt(a)) ** 2, s * (1 + np.sqrt(a)) ** 2


def marchenko_pastur_point_mass(alpha) -> float:
    """Weight 1 − 1/α of the eigenvalue 0 when α = d/N > 1 (else 0)."""
    a = validate.positive("alpha", alpha)
    return max(0.0, 1.0 - 1.0 / a)


def marchenko_pastur_density(x, alpha, *, scale=1.0):
    """Continuous part of the MP density at x (array); integrates to min(1, 1/α). The point mass at 0
    (α > 1) is :func:`marchenko_pastur_point_mass`."""
    a, s = _alpha_scale(alpha, scale)
    xx = validate.finite_array("x", x)
    lo, hi = marchenko_pastur_edges(a, scale=s)
    inside = (xx > lo) & (xx < hi) & (xx > 0)
    xs = np.where(inside, xx, 1.0)
    out = np.where(inside, np.sqrt(np.clip((hi - xs) * (xs - lo), 0, None)) / (2 * np.pi * s * a * xs), 0.0)
    return out if out.ndim else float(out)


def marchenko_pastur_stieltjes(z, alpha, *, scale=1.0):
    """g(z) = (1/d) E Tr(C − z)⁻¹ in closed form (the quadratic root with Im g > 0 for Im z > 0); z ∉ [0, ∞)."""
    a, s = _alpha_scale(alpha, scale)
    w = validate.off_spectrum("z", z)
    lo, hi = marchenko_pastur_edges(a, scale=s)
    root = np.sqrt(w - hi) * np.sqrt(w - lo)
    g = (s * (1 - a) - w + root) / (2 * s * a * w)
    return g if g.ndim else complex(g)


def marchenko_pastur_moment(k: int, alpha, *, scale=1.0) -> float:
    """lim E(1/d) Tr C^k = s^k Σ_{j=1..k} N(k, j) α^{j−1} (Narayana numbers); k = 0 gives 1."""
    k = validate.positive_int("k", k, minimum=0)
    a, s = _alpha_scale(alpha, scale)
    if k == 0:
        return 1.0
    return s**k * sum(comb(k, j) * comb(k, j - 1) // k * a ** (j - 1) for j in range(1, k + 1))


def marchenko_pastur_cdf(x, alpha, *, scale=1.0):
    """F(x) = P(λ ≤ x), the point mass included (quadrature of the density after x = λ− + (λ+ − λ−) sin²θ)."""
    a, s = _alpha_scale(alpha, scale)
    xx = validate.finite_array("x", x)
    lo, hi = marchenko_pastur_edges(a, scale=s)
    pm = marchenko_pastur_point_mass(a)

    def cont(t):
        if t <= lo:
            return 0.0
        t = min(t, hi)
        th = np.arcsin(np.sqrt((t - lo) / (hi - lo)))
        # dx = 2 (hi − lo) sinθ cosθ dθ, √((hi − x)(x − lo)) = (hi − lo) sinθ cosθ
        f = lambda u: 2 * (hi - lo) ** 2 * (np.sin(u) * np.cos(u)) ** 2 / (
            2 * np.pi * s * a * (lo + (hi - lo) * np.sin(u) ** 2))
        return integrate.quad(f, 0.0, th, epsabs=1e-13, epsrel=1e-12)[0]

    out = np.array([(pm if t >= 0 else 0.0) + cont(t) for t in xx.ravel()]).reshape(xx.shape)
    return out if out.ndim else float(out)
