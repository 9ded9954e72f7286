"""§4 — eq.12: the self-consistency for κ and its weighted sum Q (machinery shared with Appendix D.2)."""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from lindiff_verify.verification import checks, tolerance
from lindiff_verify.verification.registry import Case, Derivation, Mutant, Outcome, PaperRef, Variable

from ..appendix_d._replica import (_mpf, MC_MODEL, MC_Z, MP_GRID, R101, TWO_LEVEL, A, B, _avg, _avg_mp, _avg_np, _lam,
                                   _mc_outcome, _spectra, _symbolic, alpha, kap, kappa_from_statement, sig,
                                   silverstein_mp, sym_avg, two_level_mc, z)

# ------------------------------------------------------------------------------------------------------
# eq.12 — the self-consistency and its weighted sum Q
# ------------------------------------------------------------------------------------------------------

eq12_statement = {
    "summand": sig / (sig + kap),
    "fixed_point": z + alpha * kap * A,
    "weighted_summand": sig**2 / (sig + kap) ** 2,
    "weighted_sum": alpha * B,  # Q = (1/N) Σ σ_i²/(σ_i + κ)², B = ⟨σ²/(σ + κ)²⟩
}


def _eq12_sym(st):
    F = kap - st["fixed_point"].subs(A, sym_avg(st["summand"].subs(sig, sig)))
    Q = st["weighted_sum"].subs(B, sym_avg(st["weighted_summand"]))
    dkdz = -sp.diff(F, z) / sp.diff(F, kap)
    return {"dκ/dz − 1/(1 − Q) (implicit differentiation)": sp.together(dkdz - 1 / (1 - Q))}


def _eq12_mp_ref(ctx):
    out = {}
    for name, spec, wts in _spectra(ctx):
        for a, zv in MP_GRID:
            kfun = lambda zz: zz / silverstein_mp(zz, spec, wts, a)[1]  # κ = z/h, h from Silverstein
            k = kfun(mpmath.mpf(zv))
            dk = mpmath.diff(kfun, mpmath.mpf(zv))
            out[(name, a, zv)] = (k, dk)
    return out


def _eq12_mp_compare(st, ref, ctx):
    out = Outcome()
    ql = _lam((alpha, B), st["weighted_sum"], "mpmath")
    for name, spec, wts in _spectra(ctx):
        sp_m = _mpf(spec)
        w_m = _mpf(wts)
        for a, zv in MP_GRID:
            kref, dkref = ref[(name, a, zv)]
            k = kappa_from_statement(st, zv, spec, wts, a, mp=True)
            Q = ql(mpmath.mpf(a), _avg_mp(st["weighted_summand"], (kap,), sp_m, w_m, kref))
            for lab, v, r in (("κ", k, kref), ("1/(1 − Q) = dκ/dz", 1 / (1 - Q), dkref)):
                p = {"spectrum": name, "alpha": a, "z": zv, "quantity": lab}
                tol = tolerance.precision(ctx.dps, scale=max(abs(float(r)), 1.0) * 10**3)  # mp.diff step
                if mpmath.isfinite(v):
                    out.cases.append(checks.mp_case(p, v, r, tol))
                else:
                    out.cases.append(Case(p, float("nan"), float(r), tol))
    return out


def _eq12_mc_compare(st, ref, ctx):
    items = []
    for zv in MC_Z:
        k = kappa_from_statement(st, zv, TWO_LEVEL, np.ones(2), 2.0)
        Q = float(_lam((alpha, B), st["weighted_sum"], "numpy")(2.0, _avg_np(st["weighted_summand"], (kap,), TWO_LEVEL,
                                                                            np.ones(2), k).real))
        rho = k / zv
        T1 = np.mean(TWO_LEVEL / (TWO_LEVEL + k) ** 2)
        items.append(({"alpha": 2.0, "z": zv, "quantity": "(1/d)Tr RΣ0R = ρ²⟨σ/(σ+κ)²⟩/(1 − Q)"},
                      ref[(zv, "trRSigmaR")], rho**2 * T1 / (1 - Q)))
        items.append(({"alpha": 2.0, "z": zv, "quantity": "(1/d)Tr R = ρ⟨1/(σ+κ)⟩"}, ref[(zv, "trR")],
                      rho * np.mean(1 / (TWO_LEVEL + k))))
    return _mc_outcome(items)


EQ12 = Derivation(
    id="eq.12",
    title="Self-consistency for κ and the weighted sum Q",
    paper_ref=PaperRef("eq.12", "§4 Structured data", note="reconstructed (docs/mathematics.md §D)"),
    statement=eq12_statement,
    display=lambda st: [sp.Eq(kap, st["fixed_point"].subs(A, _avg(st["summand"]))),
                        sp.Eq(sp.Symbol("Q"), st["weighted_sum"].subs(B, _avg(st["weighted_summand"])))],
    variables=[Variable(z, "q_t + c", sp.Interval.open(0, sp.oo)), Variable(kap, "κ(z)", sp.Interval.open(0, sp.oo)), Variable(sig, "eigenvalue of Σ0", sp.Interval.open(0, sp.oo)),
               Variable(alpha, "d/N", sp.Interval.open(0, sp.oo)), Variable(A, "⟨σ/(σ+κ)⟩", sp.Interval.open(0, 1)), Variable(B, "⟨σ²/(σ+κ)²⟩", sp.Interval.open(0, 1))],
    assumptions=["known-mean Wishart C", "d, N → ∞ at fixed α"],
    checks=[
        _symbolic("sympy: dκ/dz = 1/(1 − Q)", _eq12_sym,
                        description="implicit differentiation of the fixed point on a symbolic three-point spectrum"),
        checks.numeric("mpmath: κ and dκ/dz from Silverstein's equation", "mpmath", _eq12_mp_compare,
                       reference=_eq12_mp_ref,
                       error_model="mpmath at ctx.dps digits ×10³ for the numerical derivative (tolerance.precision)",
                       description="κ = z/h with h from D.12 solved directly, dκ/dz by mpmath.diff, against the claim's κ and 1/(1 − Q)"),
        checks.numeric("Wishart Monte Carlo, 1/d-extrapolated", "montecarlo", _eq12_mc_compare,
                       reference=two_level_mc, error_model=MC_MODEL,
                       description="(1/d)E Tr RΣ0R ≍ ρ²⟨σ/(σ+κ)²⟩/(1 − Q) and (1/d)E Tr R ≍ ρ⟨1/(σ+κ)⟩, two-level Σ0, α = 2"),
    ],
    mutants=[
        Mutant("Q ×101/100", "1 % error in the weighted sum", replace={"weighted_sum": R101 * alpha * B}),
        Mutant("fixed point ×101/100", "1 % error in the self-consistency",
               replace={"fixed_point": R101 * eq12_statement["fixed_point"]}),
        Mutant("Q with σ instead of σ²", "Q = (1/N)Σ σ/(σ+κ)²", replace={"weighted_summand": sig / (sig + kap) ** 2}),
    ],
    claim_kind="asymptotic",
    regime="d, N → ∞ at fixed α; O(1/d) corrections at finite d",
)
