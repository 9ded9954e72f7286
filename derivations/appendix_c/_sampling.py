r"""Shared symbols and references of Appendix C (sampling dynamics, C.6–C.9); not a derivation file.

Conventions (ours; the paper's symbols were lost). One eigen-direction of C with eigenvalue λ, regularisation
c (λ' = λ + c), mean component m. Noising time t ∈ [0, T] with ᾱ(t) = exp(−∫_0^t β), a = √ᾱ,
v(t) = ᾱ(λ + c) + 1 − ᾱ. The sampler runs t from T down to 0; in the continuum limit (C.1–C.3) it is the
reverse SDE x(t − dt) = x + (½β x + β ∇log p) dt + √(β dt) ξ with ∇log p = −(x − a m)/v (eq.8), whose
Fokker–Planck equation (C.5) in reverse time keeps a Gaussian with mean μ(t), variance Σ(t).
Moment ODEs in forward t (C.6):  dμ/dt = −β(½ − 1/v) μ − β a m / v,   dΣ/dt = −β(1 − 2/v) Σ − β.
"""


from __future__ import annotations

import functools

import mpmath
import sympy as sp

from lindiff_verify.verification import checks, tolerance
from lindiff_verify.verification.registry import Outcome

half = sp.Rational(1, 2)
lam = sp.Symbol("lambda", nonnegative=True)
c = sp.Symbol("c", nonnegative=True)
m = sp.Symbol("m", real=True)
beta = sp.Symbol("beta", positive=True)
ab = sp.Symbol("alphabar", positive=True)
abT = sp.Symbol("alphabar_T", positive=True)
mu = sp.Symbol("mu", real=True)
S = sp.Symbol("Sigma", positive=True)
muT = sp.Symbol("mu_T", real=True)
ST = sp.Symbol("Sigma_T", positive=True)
t = sp.Symbol("t", nonnegative=True)
x = sp.Symbol("x", real=True)

lc = lam + c
v = ab * lc + 1 - ab
vT = abT * lc + 1 - abT

# ---------------------------------------------------------------- C.6 moment ODEs (forward time t)
C6 = {"dmean": -beta * (half - 1 / v) * mu - beta * sp.sqrt(ab) * m / v,
      "dvar": -beta * (1 - 2 / v) * S - beta}

# ---------------------------------------------------------------- C.7 / C.8 solutions from t = T (ᾱ_T) to t
P = sp.sqrt(abT) * v / (vT * sp.sqrt(ab))  # propagator of x − a m
C7 = {"mean": sp.sqrt(ab) * m + P * (muT - sp.sqrt(abT) * m)}
C8 = {"var": v + P**2 * (ST - vT)}

# ---------------------------------------------------------------- C.9 closed forms at t = 0 from N(0, 1)
C9 = {"mean": m * (1 - abT * lc / vT), "var": lc + abT**2 * lc**2 * (1 - lc) / vT**2}


def _f(expr, *syms):
    return checks.mp_lambdify(syms, expr)


# ---------------------------------------------------------------- references shared by several checks
def _vp(bmin, bmax):
    bmin, bmax = mpmath.mpf(bmin), mpmath.mpf(bmax)
    return (lambda u: bmin + u * (bmax - bmin)), (lambda u: mpmath.exp(-(bmin * u + (bmax - bmin) * u**2 / 2)))


#: cases for the high-precision ODE integrations: schedule (β_min, β_max) on t ∈ [0, 1], λ, c, m, start, end time
ODE_CASES = [
    # C.3.1 constant β and C.3.2 linear β with the same ᾱ_T = e^{-1.55}: the closed forms must agree with both
    {"schedule": "constant", "bmin": "1.55", "bmax": "1.55", "lam": "3", "c": "0", "m": "2", "muT": "0", "ST": "1", "t_end": "0"},
    {"schedule": "linear", "bmin": "0.1", "bmax": "3", "lam": "3", "c": "0", "m": "2", "muT": "0", "ST": "1", "t_end": "0"},
    {"schedule": "linear", "bmin": "0.1", "bmax": "3", "lam": "0.2", "c": "0.5", "m": "-1", "muT": "0", "ST": "1", "t_end": "0"},
    {"schedule": "constant", "bmin": "2", "bmax": "2", "lam": "0.05", "c": "0.25", "m": "1.5", "muT": "0.3", "ST": "2", "t_end": "0.4"},
]


@functools.lru_cache(maxsize=None)
def _integrate_c6(key: tuple, dps: int):
    """Integrate the C.6 moment ODEs from t = 1 down to t_end with mpmath.odefun (Taylor series) at ``dps``."""
    p = dict(key)
    with mpmath.workdps(dps):
        bf, abf = _vp(p["bmin"], p["bmax"])
        L = mpmath.mpf(p["lam"]) + mpmath.mpf(p["c"])
        mm = mpmath.mpf(p["m"])

        def F(tau, y):  # tau = 1 − t (sampling time), so d/dtau = −d/dt
            u = 1 - tau
            b, a2 = bf(u), abf(u)
            vv = a2 * L + 1 - a2
            return [b * (mpmath.mpf(1) / 2 - 1 / vv) * y[0] + b * mpmath.sqrt(a2) * mm / vv, b * (1 - 2 / vv) * y[1] + b]

        sol = mpmath.odefun(F, 0, [mpmath.mpf(p["muT"]), mpmath.mpf(p["ST"])])
        y = sol(1 - mpmath.mpf(p["t_end"]))
        return {"mean": y[0], "var": y[1], "alphabar_T": abf(mpmath.mpf(1)), "alphabar": abf(mpmath.mpf(p["t_end"]))}


def _ode_reference(ctx):
    cases = ODE_CASES if ctx.full else ODE_CASES[:3]
    return [(p, _integrate_c6(tuple(sorted(p.items())), ctx.dps)) for p in cases]


def _ode_compare(entries, start_from_zero: bool):
    def compare(st, ref, ctx):
        out = Outcome()
        syms = (lam, c, m, ab, abT, muT, ST)
        for p, r in ref:
            if start_from_zero and (p["muT"] != "0" or p["ST"] != "1" or p["t_end"] != "0"):
                continue
            args = [mpmath.mpf(p[k]) for k in ("lam", "c", "m")] + [r["alphabar"], r["alphabar_T"],
                                                                     mpmath.mpf(p["muT"]), mpmath.mpf(p["ST"])]
            for e in entries:
                val = _f(st[e], *syms)(*args)
                tol = tolerance.precision(ctx.dps, scale=max(1.0, abs(float(r[e]))))
                out.cases.append(checks.mp_case({**p, "entry": e}, val, r[e], tol))
        return out

    return compare
