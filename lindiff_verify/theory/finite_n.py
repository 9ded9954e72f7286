"""Exact finite-N Wishart references for the averaged KL divergence (docs/mathematics.md §D.21–D.22, §E).

Gaussian data, ε = 0, sampling distribution p_s = N(m, C) (estimated mean) or N(0, C) (known mean).
With n the Wishart degrees of freedom of N·C (n = N known mean, n = N − 1 estimated mean):

* E Tr(C⁻¹ Σ0) = N d / (n − d − 1)                       (E W⁻¹ = Σ⁻¹/(n − d − 1), n > d + 1);
* E ln det C − ln det Σ0 = d ln(2/N) + Σ_{i=1..d} ψ((n − i + 1)/2)            (n ≥ d);
* estimated mean: δ = m − μ0 ~ N(0, Σ0/N) independent of C, so E δᵀC⁻¹δ = E Tr(C⁻¹Σ0)/N;
* E DKL = ½[(1 + e_m) E Tr(C⁻¹Σ0) − d + E ln det C − ln det Σ0], e_m = 1/N (estimated) or 0 (known).

All are independent of the spectrum of Σ0. Proportional limit (d, N → ∞, α = d/N fixed):
E DKL = d F(α) + G(α) + O(1/d) with F, G_known, G_est below. Float64 functions take plain numbers;
``*_mp`` functions return mpmath numbers at the working precision.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from scipy.special import digamma

from ..model import validate
from ..model.errors import InputError

__all__ = [
    "dof",
    "expected_trace_inverse",
    "expected_logdet",
    "expected_kl",
    "digamma_sum_mp",
    "expected_kl_mp",
    "kl_series",
    "kl_series_value",
    "F",
    "G_known",
    "G_est",
    "F_mp",
]


def dof(d: int, n_samples: int, estimated_mean: bool, *, need: str = "inverse") -> tuple[int, int, int]:
    """Validated (d, N, n): n = N or N − 1; ``need`` = "inverse" (n > d + 1) or "logdet" (n ≥ d)."""
    d = validate.positive_int("d", d)
    N = validate.n_samples(n_samples, estimated_mean=estimated_mean, name="n_samples")
    n = N - 1 if estimated_mean else N
    lo = d + 2 if need == "inverse" else d
    if n < lo:
        shift = 1 if estimated_mean else 0
        raise InputError(
            "n_samples",
            f"is {N} with d = {d} ({'estimated' if estimated_mean else 'known'} mean)",
            f"n_samples >= d + {lo - d + shift} (E C⁻¹ needs n > d + 1)" if need == "inverse"
            else f"n_samples >= d + {shift} (C invertible)",
        )
    return d, N, n


# ----------------------------------------------------------------------------------------------------
# float64
# ----------------------------------------------------------------------------------------------------


def expected_trace_inverse(d, n_samples, *, estimated_mean=False) -> float:
    """E Tr(C⁻¹ Σ0) = N d/(n − d − 1)."""
    d, N, n = dof(d, n_samples, estimated_mean)
    return N * d / (n - d - 1)


def _digamma_sum(d: int, n: int) -> float:
    return float(np.sum(digamma((n - np.arange(1, d + 1) + 1) / 2.0)))


def expected_logdet(d, n_samples, *, estimated_mean=False) -> float:
    """E ln det C − ln det Σ0 = d ln(2/N) + Σ_{i=1..d} ψ((n − i + 1)/2)."""
    d, N, n = dof(d, n_samples, estimated_mean, need="logdet")
    return d * math.log(2.0 / N) + _digamma_sum(d, n)


def expected_kl(d, n_samples, *, estimated_mean=False) -> float:
    """Exact E DKL(p0 ‖ N(m, C)) at ε = 0 (docs/mathematics.md §D.22 exact reference)."""
    d, N, n = dof(d, n_samples, estimated_mean)
    em = 1.0 / N if estimated_mean else 0.0
    return 0.5 * ((1 + em) * N * d / (n - d - 1) - d + d * math.log(2.0 / N) + _digamma_sum(d, n))


# ----------------------------------------------------------------------------------------------------
# mpmath
# ----------------------------------------------------------------------------------------------------


def _psi_run(a, k):
    """Σ_{j=0..k−1} ψ(a + j) = (a + k − 1) ψ(a + k) − (a − 1) ψ(a) − k (telescoping ψ(x + 1) = ψ(x) + 1/x)."""
    if k == 0:
        return mpmath.mpf(0)
    return (a + k - 1) * mpmath.digamma(a + k) - (a - 1) * mpmath.digamma(a) - k


def digamma_sum_mp(d: int, n: int, *, direct: bool = False):
    """Σ_{i=1..d} ψ((n − i + 1)/2) in mpmath, O(1) by splitting into two unit-step runs (or ``direct``)."""
    d = validate.positive_int("d", d)
    n = validate.positive_int("n", n)
    if n < d:
        raise InputError("n", f"is {n} with d = {d}", "n >= d")
    if direct:
        return mpmath.fsum(mpmath.digamma(mpmath.mpf(n - i + 1) / 2) for i in range(1, d + 1))
    k_odd, k_even = (d + 1) // 2, d // 2  # i odd: n/2 − j ; i even: (n − 1)/2 − j
    a_odd = mpmath.mpf(n) / 2 - (k_odd - 1)
    a_even = mpmath.mpf(n - 1) / 2 - (k_even - 1)
    return _psi_run(a_odd, k_odd) + _psi_run(a_even, k_even)




def expected_kl_mp(d, n_samples, *, estimated_mean=False):
    """Exact E DKL at ε = 0 in mpmath (working precision)."""
    d, N, n = dof(d, n_samples, estimated_mean)
    em = mpmath.mpf(1) / N if estimated_mean else mpmath.mpf(0)
    tr = (1 + em) * mpmath.mpf(N) * d / (n - d - 1)
    return (tr - d + d * mpmath.log(mpmath.mpf(2) / N) + digamma_sum_mp(d, n)) / 2


# ----------------------------------------------------------------------------------------------------
# exact 1/N series at fixed d (SymPy, from the digamma asymptotic series)
# ----------------------------------------------------------------------------------------------------


def kl_series(order: int = 3, *, estimated_mean=False):
    """[c_1(d), ..., c_order(d)] (SymPy polynomials in d) with E DKL = Σ_k c_k(d)/N^k + O(N^-(order+1)).

    Derived from ψ(x) ~ ln x − 1/(2x) − Σ_k B_{2k}/(2k x^{2k}) term by term in u = 1/N, then summed
    over i = 1..d exactly (Faulhaber). Independent of :func:`expected_kl`'s digamma evaluation.
    """
    import sympy as sp

    order = validate.positive_int("order", order)
    u, i, dd = sp.symbols("u i d", positive=True)
    shift = 1 if estimated_mean else 0  # n = N − shift
    # ψ((n − i + 1)/2) − ln(N/2) with x = (1 − (i − 1 + shift) u)/(2u)
    r = 1 - (i - 1 + shift) * u
    x_inv = 2 * u / r
    psi = sp.log(r) - x_inv / 2
    for k in range(1, order // 2 + 2):
        psi -= sp.bernoulli(2 * k) / (2 * k) * x_inv ** (2 * k)
    per_i = sp.series(psi, u, 0, order + 1).removeO()
    per_i = sp.expand(per_i)
    logdet_sum = sum(sp.summation(per_i.coeff(u, k), (i, 1, dd)) * u**k for k in range(1, order + 1))
    # trace term: (1 + e_m) N d/(n − d − 1) − d with N = 1/u
    em = u if estimated_mean else 0
    tr = (1 + em) * dd / (1 - (dd + 1 + shift) * u) - dd
    total = sp.expand(sp.series(tr + logdet_sum, u, 0, order + 1).removeO()) / 2
    return [sp.factor(sp.expand(total.coeff(u, k))) for k in range(1, order + 1)]


def kl_series_value(d, n_samples, order: int = 2, *, estimated_mean=False) -> float:
    """Truncated 1/N series Σ_{k ≤ order} c_k(d)/N^k (float)."""
    import sympy as sp

    cs = kl_series(order, estimated_mean=estimated_mean)
    dd = sp.Symbol("d", positive=True)
    d = validate.positive_int("d", d)
    N = validate.positive_int("n_samples", n_samples)
    return float(sum(c.subs(dd, d) / sp.Integer(N) ** (k + 1) for k, c in enumerate(cs)))


# ----------------------------------------------------------------------------------------------------
# proportional limit
# ----------------------------------------------------------------------------------------------------


def _alpha(alpha) -> float:
    a = validate.positive("alpha", alpha)
    if a >= 1:
        raise InputError("alpha", f"is {a!r}", "0 < alpha < 1 (alpha = d/N; the KL diverges for d ≥ N at ε = 0)")
    return a


def F(alpha) -> float:
    """F(α) = ½[α/(1 − α) − 1 − ((1 − α)/α) ln(1 − α)]: E DKL/d as d → ∞ at fixed α."""
    a = _alpha(alpha)
    return 0.5 * (a / (1 - a) - 1 - (1 - a) / a * math.log1p(-a))


def G_known(alpha) -> float:
    """G_known(α) = ½[α/(1 − α)² + ½ ln(1 − α)]: the O(1) term, known mean."""
    a = _alpha(alpha)
    return 0.5 * (a / (1 - a) ** 2 + 0.5 * math.log1p(-a))


def G_est(alpha) -> float:
    """G_est(α) = ½[α/(1 − α) + 2α/(1 − α)² + (3/2) ln(1 − α)]: the O(1) term, estimated mean."""
    a = _alpha(alpha)
    return 0.5 * (a / (1 - a) + 2 * a / (1 - a) ** 2 + 1.5 * math.log1p(-a))


def F_mp(alpha):
    """F(α) in mpmath at the working precision."""
    a = mpmath.mpf(alpha)
    _alpha(float(a))
    return (a / (1 - a) - 1 - (1 - a) / a * mpmath.log1p(-a)) / 2

