"""Appendix C.2 — C.6: the moment ODEs of the reverse dynamics; C.7, C.8: their solutions from t = T."""

from __future__ import annotations

import mpmath
import sympy as sp

from lindiff_verify.verification import checks, tolerance
from lindiff_verify.verification.registry import Derivation, Mutant, Outcome, PaperRef, Variable

from ._sampling import (C6, C7, C8, ST, P, S, _f, _ode_compare, _ode_reference, ab, abT, beta, c, chain_check, half,
                        lam, lc, m, mu, muT, v, vT, x)


# ---------------------------------------------------------------- C.6
def _fokker_planck(st):
    """Insert the Gaussian ansatz into the Fokker–Planck equation (C.5) of the reverse SDE (reverse time τ = −t):
    ∂_τ p = −∂_x[(β(½ − 1/v) x + β a m / v) p] + ½ β ∂_x² p, with ∂_τ p = −(∂_μ p · dμ/dt + ∂_Σ p · dΣ/dt)."""
    p = sp.exp(-(x - mu) ** 2 / (2 * S)) / sp.sqrt(2 * sp.pi * S)
    drift = beta * (half - 1 / v) * x + beta * sp.sqrt(ab) * m / v
    lhs = -(sp.diff(p, mu) * st["dmean"] + sp.diff(p, S) * st["dvar"])
    rhs = -sp.diff(drift * p, x) + half * beta * sp.diff(p, x, 2)
    res = sp.expand(sp.simplify((lhs - rhs) / p))
    poly = sp.Poly(res, x)
    return {f"x^{i} coefficient of (FP residual)/p": co for (i,), co in poly.terms()} or {"FP residual": sp.Integer(0)}


STEP_CASES = [(0.3, 0.0, 0.8, 1.0, 0.5, 1.0), (2.0, 0.5, 0.2, -1.0, 0.1, 3.0), (0.01, 0.0, 0.05, 2.0, 1.5, 0.2)]


def _ddpm_one_step(h, L, a2, mm, m0, s0):
    """eq.3 (σ² = β) with eq.8's ε for one step of size β = b h from ᾱ to ᾱ/(1 − β): exact mean and variance."""
    b = h  # rate 1 per unit time: β_step = h
    vv = a2 * L + 1 - a2
    # ε(x) = s (x − a m)/v, x' = (x − β ε/s)/√(1 − β) + √β z
    A = (1 - b / vv) / mpmath.sqrt(1 - b)
    Bc = b * mpmath.sqrt(a2) * mm / (vv * mpmath.sqrt(1 - b))
    return A * m0 + Bc, A * A * s0 + b


def _step_reference(ctx):
    """Finite differences of the exact one-step DDPM moment map: (moment_t − moment_{t−h})/h as h → 0, at β = 1."""
    out = []
    for (lv, cv, a2, mm, m0, s0) in STEP_CASES:
        L, a2, mm, m0, s0 = (mpmath.mpf(z) for z in (lv + cv, a2, mm, m0, s0))
        res = {}
        for h in (mpmath.mpf(10) ** -12, mpmath.mpf(10) ** -12 / 2):
            m1, s1 = _ddpm_one_step(h, L, a2, mm, m0, s0)
            res[h] = ((m0 - m1) / h, (s0 - s1) / h)
        (dm1, ds1), (dm2, ds2) = res.values()
        out.append(({"lambda": lv, "c": cv, "alphabar": a2, "m": mm, "mu": m0, "Sigma": s0},
                    (2 * dm2 - dm1, 2 * ds2 - ds1), (abs(dm1 - dm2), abs(ds1 - ds2))))
    return out


def _step_compare(st, ref, ctx):
    out = Outcome()
    for p, (dm, ds), (em, es) in ref:
        args = {lam: p["lambda"], c: p["c"], ab: p["alphabar"], m: p["m"], mu: p["mu"], S: p["Sigma"], beta: 1}
        for name, r, e in (("dmean", dm, em), ("dvar", ds, es)):
            val = _f(st[name], *args)(*args.values())
            # first-order Richardson extrapolation; the remaining error is O(h^2) ≤ the step-halving difference
            tol = tolerance.combine(tolerance.discretisation(float(2 * e) + 1e-20, 2, 1e-12, "β"),
                                    tolerance.precision(ctx.dps, scale=1e12))
            out.cases.append(checks.mp_case({**p, "entry": name}, val, r, tol))
    return out


c6 = Derivation(
    id="C.6",
    title="Moment ODEs of the continuous-time sampler (from the Fokker–Planck equation C.5)",
    paper_ref=PaperRef("C.6", "Appendix C.2 Fokker-Planck equation"),
    statement=C6,
    lhs={"dmean": sp.Symbol("dμ/dt"), "dvar": sp.Symbol("dΣ/dt")},
    variables=[
        Variable(lam, "eigenvalue λ of C", sp.Interval(0, sp.oo)), Variable(c, "regularisation c (γ_t = c ᾱ_t)", sp.Interval(0, sp.oo)),
        Variable(m, "component of the empirical mean along the eigenvector", sp.S.Reals),
        Variable(beta, "rate β(t) of the forward SDE", sp.Interval.open(0, sp.oo)), Variable(ab, "ᾱ(t)", sp.Interval.Lopen(0, 1)),
        Variable(mu, "mean of the samples at time t", sp.S.Reals), Variable(S, "variance of the samples at time t", sp.Interval.open(0, sp.oo)),
    ],
    assumptions=["continuum limit β_t → 0 of eq.3 (C.1)", "optimal affine denoiser eq.8 with γ_t = c ᾱ_t",
                 "forward time t; the sampler runs from t = T to t = 0"],
    checks=[
        checks.symbolic("sympy: Gaussian ansatz in the Fokker–Planck equation", _fokker_planck,
                        description="the residual of C.5 divided by the Gaussian density is a polynomial in x; all its coefficients vanish"),
        checks.numeric("mpmath: one-step limit of the DDPM sampler", "mpmath", _step_compare, reference=_step_reference,
                       error_model="O(β²) after first-order Richardson extrapolation, bounded by the step-halving "
                                   "difference; plus mpmath rounding at ctx.dps amplified by 1/β",
                       description="exact moment map of one eq.3 step with β = 1e-12 (in mpmath), divided by the step"),
    ],
    mutants=[
        Mutant("variance drift without factor 2", "dΣ/dt = −β(1 − 1/v)Σ − β", replace={"dvar": -beta * (1 - 1 / v) * S - beta}),
        Mutant("variance source with wrong sign", "dΣ/dt = −β(1 − 2/v)Σ + β", replace={"dvar": -beta * (1 - 2 / v) * S + beta}),
        Mutant("mean source without a", "dμ/dt = −β(½ − 1/v)μ − β m / v",
               replace={"dmean": -beta * (half - 1 / v) * mu - beta * m / v}),
        Mutant("λ instead of λ + c", "v built from λ", transform=lambda st: {k: e.subs(c, 0) for k, e in st.items()}),
    ],
    claim_kind="exact",
    regime="continuous-time limit of the sampler; any schedule β(t) > 0, λ + c > 0 or ᾱ < 1",
)


# ---------------------------------------------------------------- C.7 and C.8
def _solves_c6(entry, c6_entry, start_val):
    """Residuals for "the claimed solution solves C.6 with its initial condition". Along any schedule,
    dᾱ/dt = −β ᾱ, so d/dt f(ᾱ(t)) = −β ᾱ ∂f/∂ᾱ; writing ᾱ = q², ᾱ_T = q_T² makes everything rational."""
    q, qT = sp.symbols("q q_T", positive=True)

    def residuals(st):
        sol = st[entry]
        dsol = -beta * ab * sp.diff(sol, ab)
        rhs = C6[c6_entry].subs(mu if c6_entry == "dmean" else S, sol)
        sq = {ab: q**2, abT: qT**2}
        return {"d/dt solution − C.6 right-hand side": (dsol - rhs).subs(sq),
                "initial condition at t = T": (sol.subs(ab, abT) - start_val).subs(sq)}

    return residuals


def _rational_simplify(e):
    return sp.cancel(sp.together(e))


c7 = Derivation(
    id="C.7",
    title="Solution for the mean of the samples",
    paper_ref=PaperRef("C.7", "Appendix C.2 Fokker-Planck equation",
                       note="the paper's C.7 is an integral solution; this closed propagator form is ours"),
    statement=C7,
    lhs={"mean": sp.Symbol("μ(t)")},
    variables=[Variable(abT, "ᾱ_T at the start of sampling", sp.Interval.open(0, 1)), Variable(ab, "ᾱ(t)", sp.Interval(abT, 1)),
               Variable(muT, "mean of the start distribution", sp.S.Reals), Variable(m, "empirical mean component", sp.S.Reals),
               Variable(lam, "eigenvalue λ of C", sp.Interval(0, sp.oo)), Variable(c, "regularisation", sp.Interval(0, sp.oo))],
    assumptions=["C.6 (verified separately)", "solution written with the propagator P = a_T v(t)/(v_T a(t))"],
    checks=[
        checks.symbolic("sympy: solves C.6 with its initial condition", _solves_c6("mean", "dmean", muT), simplify=_rational_simplify,
                        description="any schedule: dᾱ/dt = −β(t) ᾱ"),
        checks.numeric("mpmath: odefun integration of C.6", "mpmath", _ode_compare(["mean"], False), reference=_ode_reference,
                       description="constant and linear β schedules, regularised and unregularised, non-standard start"),
        chain_check(["mean"]),
    ],
    mutants=[
        Mutant("propagator without a_T/a", "P = v/v_T", replace={"mean": sp.sqrt(ab) * m + v / vT * (muT - sp.sqrt(abT) * m)}),
        Mutant("inverted propagator", "P = a v_T/(a_T v)",
               replace={"mean": sp.sqrt(ab) * m + sp.sqrt(ab) * vT / (v * sp.sqrt(abT)) * (muT - sp.sqrt(abT) * m)}),
        Mutant("fixed point without a", "μ − m transported",
               replace={"mean": m + P * (muT - m)}),
    ],
    claim_kind="exact",
    regime="continuous time, any schedule, any start mean",
)

c8 = Derivation(
    id="C.8",
    title="Solution for the variance of the samples",
    paper_ref=PaperRef("C.8", "Appendix C.2 Fokker-Planck equation",
                       note="the paper's C.8 is an integral solution; this closed propagator form is ours"),
    statement=C8,
    lhs={"var": sp.Symbol("Σ(t)")},
    variables=[Variable(abT, "ᾱ_T at the start of sampling", sp.Interval.open(0, 1)), Variable(ab, "ᾱ(t)", sp.Interval(abT, 1)),
               Variable(ST, "variance of the start distribution", sp.Interval.open(0, sp.oo)),
               Variable(lam, "eigenvalue λ of C", sp.Interval(0, sp.oo)), Variable(c, "regularisation", sp.Interval(0, sp.oo))],
    assumptions=["C.6 (verified separately)"],
    checks=[
        checks.symbolic("sympy: solves C.6 with its initial condition", _solves_c6("var", "dvar", ST), simplify=_rational_simplify,
                        description="any schedule: dᾱ/dt = −β(t) ᾱ"),
        checks.numeric("mpmath: odefun integration of C.6", "mpmath", _ode_compare(["var"], False), reference=_ode_reference),
        chain_check(["var"]),
    ],
    mutants=[
        Mutant("P instead of P²", "Σ = v + P(Σ_T − v_T)", replace={"var": v + P * (ST - vT)}),
        Mutant("no stationary part", "Σ = P² Σ_T", replace={"var": P**2 * ST}),
        Mutant("stationary part λ instead of v", "Σ = λ' + P²(Σ_T − v_T)", replace={"var": lc + P**2 * (ST - vT)}),
    ],
    claim_kind="exact",
    regime="continuous time, any schedule, any start variance",
)
