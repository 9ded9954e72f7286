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
import math

import mpmath
import sympy as sp

from lindiff_verify.verification import checks, tolerance
from lindiff_verify.verification.registry import Case, Outcome

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


# ---------------------------------------------------------------- an independent reference: the discrete sampler itself
CHAIN_STEPS = (4000, 8000)  # steps on t ∈ [t_end, 1]; Richardson over the two


@functools.lru_cache(maxsize=None)
def _ddpm_chain(key: tuple, n: int):
    """Exact mean and variance after n steps of the discrete DDPM sampler (eq.3, σ² = β, ε of eq.8), written from
    its definition and sharing nothing with C.6: from t to t − h with β = 1 − ᾱ(t)/ᾱ(t − h),
    x' = (x − β ε(x)/s)/√(1 − β) + √β z, ε(x) = s(x − a m)/v at ᾱ(t), so
    μ' = A μ + β a m/(v √(1 − β)), Σ' = A² Σ + β, A = (1 − β/v)/√(1 − β). Float64 (the O(h) discretisation
    error dwarfs rounding)."""
    p = dict(key)
    bmin, bmax = float(p["bmin"]), float(p["bmax"])
    L, mm, t_end = float(p["lam"]) + float(p["c"]), float(p["m"]), float(p["t_end"])

    def abar(u):
        return math.exp(-(bmin * u + (bmax - bmin) * u * u / 2))

    mu_, var_ = float(p["muT"]), float(p["ST"])
    h = (1 - t_end) / n
    for k in range(n):
        tk = 1 - k * h
        a2, a2p = abar(tk), abar(tk - h)
        b = 1 - a2 / a2p
        vv = a2 * L + 1 - a2
        A = (1 - b / vv) / math.sqrt(1 - b)
        mu_ = A * mu_ + b * math.sqrt(a2) * mm / (vv * math.sqrt(1 - b))
        var_ = A * A * var_ + b
    return mu_, var_, abar(1.0), abar(t_end)


def _chain_reference(ctx):
    """All ODE cases (the t_end > 0 one too): the discrete chain at n and 2n steps, Richardson 2M(2n) − M(n)."""
    out = []
    for p in ODE_CASES:
        key = tuple(sorted(p.items()))
        (m1, s1, abT_, ab_), (m2, s2, _, _) = (_ddpm_chain(key, n) for n in CHAIN_STEPS)
        out.append((p, {"mean": 2 * m2 - m1, "var": 2 * s2 - s1, "alphabar_T": abT_, "alphabar": ab_},
                    {"mean": abs(m2 - m1), "var": abs(s2 - s1)}))
    return out


def _chain_compare(entries, start_from_zero):
    def compare(st, ref, ctx):
        out = Outcome()
        syms = (lam, c, m, ab, abT, muT, ST)
        for p, r, err in ref:
            if start_from_zero and (p["muT"] != "0" or p["ST"] != "1" or p["t_end"] != "0"):
                continue
            args = [float(p[k]) for k in ("lam", "c", "m")] + [r["alphabar"], r["alphabar_T"], float(p["muT"]),
                                                               float(p["ST"])]
            for e in entries:
                val = float(checks.lambdify(syms, st[e])(*args))
                h = (1 - float(p["t_end"])) / CHAIN_STEPS[1]
                tol = tolerance.combine(
                    tolerance.discretisation(err[e], 2, h, "h", note="the O(h) change between n and 2n steps bounds "
                                             "the O(h²) remainder after Richardson"),
                    tolerance.float64(scale=1 + abs(r[e]), n_ops=10 * CHAIN_STEPS[1]))
                out.cases.append(Case({**p, "entry": e, "steps": f"{CHAIN_STEPS[0]}, {CHAIN_STEPS[1]} (Richardson)"},
                                      val, float(r[e]), tol))
        return out

    return compare


def chain_check(entries, start_from_zero=False):
    """The closed forms against the discrete sampler's exact moments as the step → 0 (a reference of another kind
    than the C.6 ODE: no code of C.6 or of the claims)."""
    return checks.numeric("discrete DDPM sampler (eq.3) in the small-step limit, Richardson in h", "numeric",
                          _chain_compare(entries, start_from_zero), reference=_chain_reference,
                          error_model="discretisation O(h²) after Richardson over 4000 and 8000 steps, bounded by "
                                      "the step-halving change; float64 rounding",
                          description="constant and linear β, regularised and unregularised, a non-standard start "
                                      "and an end time t = 0.4 where v ≠ λ + c")
