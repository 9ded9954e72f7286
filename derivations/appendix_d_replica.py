"""Appendix D.2–D.4 — the replica self-consistency (D.11 / eq.12) and the Stieltjes transform (D.12–D.16).

Known-mean Wishart C = (1/N) Σ x xᵀ, x ~ N(0, Σ0), Σ0 with eigenvalues σ_i; α = d/N; ⟨f⟩ = (1/d) Σ_i f(σ_i).
Statements are per-eigenvalue summands plus an assembly formula in which the symbol A (or B) stands for the
spectral average ⟨summand⟩; a statement is evaluated by solving its own fixed point (so a wrong statement
yields a wrong solution, or none: a NaN, which is a disagreement).

Independent references: Silverstein's equation solved directly for g at 50 digits (bracketed, its own
unique root), exact moments of the limiting law, Monte Carlo over Wishart draws extrapolated in 1/d
(lindiff_verify.theory.extrapolation), and SymPy algebra on a symbolic three-point spectrum with symbolic weights.
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np
import sympy as sp
from scipy import optimize

from lindiff_verify.verification import checks, tolerance
from lindiff_verify.theory.extrapolation import fit_finite_size, judge
from lindiff_verify.verification.registry import Case, Derivation, Figure, Mutant, Outcome, PaperRef, Variable
from lindiff_verify.theory.stieltjes import solve_kappa_mp, solve_zeta
from lindiff_verify.simulation.wishart import covariance_eigh, white_wishart_eigenvalues

z = sp.Symbol("z", positive=True)
kap = sp.Symbol("kappa", positive=True)
sig = sp.Symbol("sigma", positive=True)
alpha = sp.Symbol("alpha", positive=True)
g = sp.Symbol("g")
h = sp.Symbol("h")
zeta = sp.Symbol("zeta", positive=True)
w = sp.Symbol("w")
A = sp.Symbol("A")  # stands for the spectral average ⟨summand⟩

_i, _d = sp.Symbol("i", integer=True, positive=True), sp.Symbol("d", integer=True, positive=True)
_sig_i = sp.Symbol("sigma_i", positive=True)


def _avg(summand):
    """(1/d) Σ_i summand(σ_i): the spectral average, for display."""
    return sp.Sum(summand.subs(sig, _sig_i), (_i, 1, _d)) / _d

B = sp.Symbol("B")  # a second spectral average
R101 = sp.Rational(101, 100)

# ------------------------------------------------------------------------------------------------------
# shared machinery
# ------------------------------------------------------------------------------------------------------

# a symbolic three-point spectrum σ1, σ2, σ3 with weights p1, p2, 1 − p1 − p2 (any spectrum's identities
# that are linear in spectral averages hold for it iff they hold in general)
_s = sp.symbols("sigma1:4", positive=True)
_p1, _p2 = sp.symbols("p1 p2", positive=True)
_p = (_p1, _p2, 1 - _p1 - _p2)


def sym_avg(expr):
    """⟨expr⟩ over the symbolic three-point spectrum."""
    return sum(pj * expr.subs(sig, sj) for pj, sj in zip(_p, _s))


@functools.lru_cache(maxsize=512)
def _lam(args, expr, module):
    """Cached sympy.lambdify (statements are evaluated many times inside root finders)."""
    return sp.lambdify(args, expr, module)


def _avg_np(expr, args, spectrum, weights, *vals):
    f = _lam((sig,) + tuple(args), expr, "numpy")
    v = np.asarray(f(spectrum, *vals), dtype=complex) * np.ones_like(spectrum)
    return complex(v @ weights / weights.sum())


def _avg_mp(expr, args, spectrum, weights, *vals):
    f = _lam((sig,) + tuple(args), expr, "mpmath")
    tot = mpmath.fsum(wi * f(si, *vals) for si, wi in zip(spectrum, weights))
    return tot / mpmath.fsum(weights)


def _real_roots(F, lo, hi, n=600):
    """Roots of a real function on [lo, hi] (log grid scan + brentq), excluding poles."""
    xs = np.geomspace(lo, hi, n)
    with np.errstate(all="ignore"):
        fs = np.array([F(x) for x in xs])
    roots = []
    for a, b, fa, fb in zip(xs[:-1], xs[1:], fs[:-1], fs[1:]):
        if np.isfinite(fa) and np.isfinite(fb) and fa * fb < 0:
            r = optimize.brentq(F, a, b, xtol=1e-300, rtol=1e-15, maxiter=200)
            if abs(F(r)) < 1e-8 * (1 + abs(fa) + abs(fb)):  # a sign change across a pole is not a root
                roots.append(r)
    return roots


def _mp_refine(F, x0, lo_hi):
    """Refine a root of F at the working precision (bracketed Anderson–Björk, then a Newton polish)."""
    a, b = lo_hi
    try:
        r = mpmath.findroot(F, (mpmath.mpf(a), mpmath.mpf(b)), solver="anderson")
        return mpmath.findroot(F, r)
    except (ValueError, ZeroDivisionError):
        return mpmath.mpf("nan")


def kappa_from_statement(st, zv, spectrum, weights, alpha_v, *, mp=False):
    """Solve κ = fixed_point(z, α, κ, ⟨summand(σ, κ)⟩) (D.11 form); the largest positive root (NaN if none)."""
    fp, sm = st["fixed_point"], st["summand"]

    def F(k):
        avg = _avg_np(sm, (kap,), spectrum, weights, k).real
        return k - float(_lam((z, alpha, kap, A), fp, "numpy")(zv, alpha_v, k, avg))

    hi = 10 * (float(zv) + alpha_v * float(np.max(spectrum)) + 1)
    roots = _real_roots(F, 1e-14 * hi, hi)
    if not roots:
        return float("nan") if not mp else mpmath.mpf("nan")
    r = max(roots)
    if not mp:
        return r
    fpl = _lam((z, alpha, kap, A), fp, "mpmath")
    sp_m = [mpmath.mpf(float(s)) for s in spectrum]
    w_m = [mpmath.mpf(float(x)) for x in weights]
    zm, am = mpmath.mpf(zv), mpmath.mpf(alpha_v)
    Fm = lambda k: k - fpl(zm, am, k, _avg_mp(sm, (kap,), sp_m, w_m, k))
    return _mp_refine(Fm, r, (r * (1 - 1e-9), r * (1 + 1e-9)))


def silverstein_mp(zv, spectrum, weights, alpha_v):
    """Reference: g(−z) from Silverstein's equation g = ⟨1/(σ(1 − α + α z g) + z)⟩ solved directly at the
    working precision on its unique root with h = 1 − α + α z g > 0 (G is increasing there). Returns (g, h)."""
    sp_m = [mpmath.mpf(float(s)) for s in spectrum]
    w_m = [mpmath.mpf(float(x)) for x in weights]
    d = mpmath.fsum(w_m)
    zm, am = mpmath.mpf(zv), mpmath.mpf(alpha_v)

    def G(gg):
        hh = 1 - am + am * zm * gg
        return gg - mpmath.fsum(wi / (si * hh + zm) for si, wi in zip(sp_m, w_m)) / d

    lo = max(mpmath.mpf(0), (am - 1) / (am * zm))
    hi = 1 / zm
    gg = mpmath.findroot(G, (lo, hi), solver="anderson")
    gg = mpmath.findroot(G, gg)
    return gg, 1 - am + am * zm * gg


def _spectra(ctx):
    """Test spectra (values, multiplicities): random levels, a power law, a two-level spectrum."""
    rng = ctx.rng("spectra")
    return [
        ("random 5 levels", rng.uniform(0.1, 4.0, 5), rng.integers(1, 6, 5).astype(float)),
        ("power law i^-1.5, d = 40", np.arange(1, 41, dtype=float) ** -1.5, np.ones(40)),
        ("two-level {0.5, 2}", np.array([0.5, 2.0]), np.array([1.0, 1.0])),
    ]


def _symbolic(name, residuals, **kw):
    """checks.symbolic with rational-function cancellation (exact; far faster than simplify on these sums)."""
    return checks.symbolic(name, residuals, simplify=lambda e: sp.cancel(sp.together(e)), **kw)


MP_GRID = [(a, zv) for a in (0.3, 1.0, 2.5) for zv in (1e-3, 0.1, 10.0)]


# --- Monte Carlo references ---------------------------------------------------------------------------

WHITE_ALPHAS = (0.5, 2.0)
MC_Z = (0.2, 1.0)
TWO_LEVEL = np.array([0.5, 2.0])


def white_mc(ctx):
    """(1/d) Tr(C + z)⁻¹ for Σ0 = I (tridiagonal Laguerre draws), d ∈ {50, 100, 200, 400}, fixed α;
    fits v∞ + b/d per (α, z). Draw counts make SE(v∞) ≈ 0.05 % (quick) so a 1 % error is ≥ 10 SE."""
    ds = ctx.pick(quick=[50, 100, 200, 400], full=[50, 100, 200, 400, 800])
    budget = ctx.pick(quick=6000, full=40000)
    fits = {}
    for a in WHITE_ALPHAS:
        rng = ctx.rng(f"white alpha={a}")
        means, ses = {zv: [] for zv in MC_Z}, {zv: [] for zv in MC_Z}
        for d in ds:
            n = int(round(d / a))
            nd = max(8, int(budget * (2 if a > 1 else 1) / d))
            ev = white_wishart_eigenvalues(d, n, rng=rng, batch=nd)
            for zv in MC_Z:
                v = (1.0 / (ev + zv)).mean(axis=1)
                means[zv].append(v.mean())
                ses[zv].append(v.std(ddof=1) / np.sqrt(nd))
        for zv in MC_Z:
            fits[(a, zv)] = fit_finite_size(ds, means[zv], ses[zv])
    return fits


def two_level_mc(ctx):
    """Dense draws, Σ0 = diag(0.5 × d/2, 2 × d/2), α = 2, d ∈ {16, 32, 64, 128}: (1/d) Tr R, (1/d) Tr Σ0 R,
    (1/d) Tr R Σ0 R (R = (C + z)⁻¹) per z, each extrapolated in 1/d."""
    ds = ctx.pick(quick=[16, 32, 64, 128], full=[16, 32, 64, 128, 256])
    budget = ctx.pick(quick=16000, full=64000)  # quick: SE small enough that a 1 % error in Q is ≥ 9 SE
    a = 2.0
    rng = ctx.rng("two-level dense")
    zs = np.array(MC_Z)
    M, S = [], []
    for d in ds:
        n = int(round(d / a))
        nd = max(8, int(budget / d))
        spec = np.repeat(TWO_LEVEL, d // 2)
        lam, U = covariance_eigh(spec, n, rng=rng, batch=nd)
        st = (U**2).transpose(0, 2, 1) @ spec  # u_jᵀ Σ0 u_j, (b, d)
        r = 1.0 / (lam[:, None, :] + zs[None, :, None])
        q = np.stack([r.mean(-1), (st[:, None, :] * r).mean(-1), (st[:, None, :] * r * r).mean(-1)], -1)
        M.append(q.mean(0))
        S.append(q.std(0, ddof=1) / np.sqrt(nd))
    M, S = np.array(M), np.array(S)
    names = ("trR", "trSigmaR", "trRSigmaR")
    return {(zv, names[k]): fit_finite_size(ds, M[:, j, k], S[:, j, k]) for j, zv in enumerate(MC_Z) for k in range(3)}


def _mc_outcome(items, n_cases):
    """items: (params, fit, claim value) → Outcome with extrapolation-judged cases and fit measurements."""
    out = Outcome()
    for params, fit, val in items:
        out.cases.append(judge(params, fit, val, n_cases=n_cases))
        label = ", ".join(f"{k}={v}" for k, v in params.items())
        out.measurements[f"{label}: finite-size slope b"] = fit.slope
        out.measurements[f"{label}: slope SE"] = fit.slope_se
        out.measurements[f"{label}: chi2/dof"] = fit.chi2 / max(fit.dof, 1)
        out.measurements[f"{label}: extrapolated SE"] = fit.se
    out.tolerance_model = tolerance.monte_carlo(1.0, n_cases).model + " on the 1/d-extrapolated mean"
    return out


MC_MODEL = ("Monte Carlo over Wishart draws at several d (fixed α), weighted fit v∞ + b/d; tolerance z·SE(v∞), "
            "Bonferroni z over the cases (tolerance.monte_carlo)")


# ------------------------------------------------------------------------------------------------------
# D.11 — the replica self-consistency
# ------------------------------------------------------------------------------------------------------

d11_statement = {
    "summand": sig / (sig + kap),
    "fixed_point": z + alpha * kap * A,  # κ = z + (κ/N) Σ σ_i/(σ_i + κ), A = ⟨σ/(σ + κ)⟩, αA·κ = (κ/N)Σ…
    "resolvent": kap / (z * (sig + kap)),  # E[(C + z)⁻¹] ≈ (κ/z)(Σ0 + κ)⁻¹, diagonal in Σ0's basis
}


def _d11_mp_compare(st, ref, ctx):
    out = Outcome(tolerance_model=tolerance.precision(ctx.dps).model)
    for name, spec, wts in _spectra(ctx):
        for a, zv in MP_GRID:
            gref, href = ref[(name, a, zv)]
            k = kappa_from_statement(st, zv, spec, wts, a, mp=True)
            sp_m = [mpmath.mpf(float(s)) for s in spec]
            w_m = [mpmath.mpf(float(x)) for x in wts]
            val = _avg_mp(st["resolvent"], (kap, z), sp_m, w_m, k, mpmath.mpf(zv))
            valS = _avg_mp(sig * st["resolvent"], (kap, z), sp_m, w_m, k, mpmath.mpf(zv))
            refS = (1 - href) / (a * href)  # ⟨σ/(σh + z)⟩ = (1 − h)/(α h) from Silverstein's equation
            for lab, v, r in (("(1/d)Tr R", val, gref), ("(1/d)Tr Σ0 R", valS, refS)):
                tol = tolerance.precision(ctx.dps, scale=max(abs(float(r)), 1.0)).value
                p = {"spectrum": name, "alpha": a, "z": zv, "quantity": lab}
                out.cases.append(checks.mp_case(p, v if mpmath.isfinite(v) else mpmath.mpf("nan"), r, tol)
                                 if mpmath.isfinite(v) else Case(p, float("nan"), float(r), tol))
    return out


def _silverstein_ref(ctx):
    return {(name, a, zv): silverstein_mp(zv, spec, wts, a)
            for name, spec, wts in _spectra(ctx) for a, zv in MP_GRID}


def _mp_quadratic_residual(st):
    """σ = 1: the fixed point is a quadratic in κ; g = resolvent must then satisfy the MP quadratic at w = −z,
    −α z g² − (1 − α + z) g + 1 = 0 (remainder of its numerator modulo the κ-polynomial must vanish)."""
    fp = st["fixed_point"].subs(A, st["summand"].subs(sig, 1))
    poly = sp.numer(sp.together(kap - fp))
    gg = st["resolvent"].subs(sig, 1)
    mpq = sp.numer(sp.together(-alpha * z * gg**2 - (1 - alpha + z) * gg + 1))
    return {"MP quadratic modulo the σ = 1 fixed point": sp.rem(sp.expand(mpq), sp.expand(poly), kap)}


def _d11_mc_compare(st, ref, ctx):
    items = []
    for zv in MC_Z:
        k = kappa_from_statement(st, zv, TWO_LEVEL, np.ones(2), 2.0)
        val = _avg_np(st["resolvent"], (kap, z), TWO_LEVEL, np.ones(2), k, zv).real
        valS = _avg_np(sig * st["resolvent"], (kap, z), TWO_LEVEL, np.ones(2), k, zv).real
        items.append(({"alpha": 2.0, "z": zv, "quantity": "(1/d)Tr R"}, ref[(zv, "trR")], val))
        items.append(({"alpha": 2.0, "z": zv, "quantity": "(1/d)Tr Σ0 R"}, ref[(zv, "trSigmaR")], valS))
    return _mc_outcome(items, len(items))


D11 = Derivation(
    id="D.11",
    title="Replica self-consistency for κ and the mean resolvent",
    paper_ref=PaperRef("D.11", "Appendix D.2", note="reconstructed (MATH.md §D)"),
    statement=d11_statement,
    display=[sp.Eq(kap, z + (kap / sp.Symbol("N")) * sp.Sum(sp.Symbol("sigma_i") / (sp.Symbol("sigma_i") + kap),
                                                                 (sp.Symbol("i"), 1, sp.Symbol("d")))),
             sp.Eq(sp.Symbol("E[(C+z)^{-1}]"), (kap / z) * sp.Symbol("(Sigma_0+kappa)^{-1}"))],
    variables=[Variable(z, "resolvent argument (q_t + c)", "z > 0"),
               Variable(kap, "replica order parameter κ = z/ζ", "κ > 0"),
               Variable(sig, "eigenvalue σ_i of Σ0", "σ > 0"),
               Variable(alpha, "α = d/N", "α > 0"),
               Variable(A, "spectral average ⟨σ/(σ + κ)⟩ = (1/d)Σ σ_i/(σ_i + κ)", "0 < A < 1")],
    assumptions=["known-mean Wishart C (N·C ~ W_d(N, Σ0))", "replica-symmetric saddle point", "d, N → ∞ at fixed α"],
    checks=[
        checks.numeric("mpmath 50 digits vs Silverstein's equation", "mpmath", _d11_mp_compare,
                       reference=_silverstein_ref,
                       error_model="mpmath at ctx.dps digits (tolerance.precision); the reference solves D.12 "
                                   "directly for g, not via κ",
                       description="κ from the claimed fixed point; (1/d)Σ resolvent and (1/d)Σ σ·resolvent against g(−z) "
                                   "and (1 − h)/(αh) from Silverstein's equation, 3 spectra × α ∈ {0.3, 1, 2.5} × z ∈ {1e-3, 0.1, 10}"),
        _symbolic("sympy: Marchenko–Pastur case", _mp_quadratic_residual,
                        description="for σ = 1 the resolvent trace satisfies the MP quadratic modulo the fixed point"),
        checks.numeric("Wishart Monte Carlo, 1/d-extrapolated", "montecarlo", _d11_mc_compare,
                       reference=two_level_mc, error_model=MC_MODEL,
                       description="(1/d)E Tr(C+z)⁻¹ and (1/d)E Tr Σ0(C+z)⁻¹, Σ0 two-level {0.5, 2}, α = 2, "
                                   "d ∈ {16..128}, z ∈ {0.2, 1}"),
    ],
    mutants=[
        Mutant("resolvent ×101/100", "1 % error in E(C+z)⁻¹", replace={"resolvent": R101 * d11_statement["resolvent"]}),
        Mutant("fixed point ×101/100", "κ = 1.01·(z + (κ/N)Σ…)", replace={"fixed_point": R101 * d11_statement["fixed_point"]}),
        Mutant("sign of the sum flipped", "κ = z − (κ/N)Σ σ/(σ+κ)", replace={"fixed_point": z - alpha * kap * A}),
        Mutant("(σ+z) for (σ+κ) in the resolvent", "E R ≈ (κ/z)(Σ0 + z)⁻¹",
               replace={"resolvent": kap / (z * (sig + z))}),
    ],
    claim_kind="asymptotic",
    regime="d, N → ∞ at fixed α = d/N, any z > 0, any spectrum; O(1/d) corrections at finite d (measured slope reported)",
    notes="MATH.md §D: single-d deviations are O(1/d); the Monte Carlo check extrapolates in 1/d.",
)


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
    out = Outcome(tolerance_model=tolerance.precision(ctx.dps).model)
    ql = _lam((alpha, B), st["weighted_sum"], "mpmath")
    for name, spec, wts in _spectra(ctx):
        sp_m = [mpmath.mpf(float(s)) for s in spec]
        w_m = [mpmath.mpf(float(x)) for x in wts]
        for a, zv in MP_GRID:
            kref, dkref = ref[(name, a, zv)]
            k = kappa_from_statement(st, zv, spec, wts, a, mp=True)
            Q = ql(mpmath.mpf(a), _avg_mp(st["weighted_summand"], (kap,), sp_m, w_m, kref))
            for lab, v, r in (("κ", k, kref), ("1/(1 − Q) = dκ/dz", 1 / (1 - Q), dkref)):
                p = {"spectrum": name, "alpha": a, "z": zv, "quantity": lab}
                tol = tolerance.precision(ctx.dps, scale=max(abs(float(r)), 1.0) * 10**3).value  # mp.diff step
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
    return _mc_outcome(items, len(items))


EQ12 = Derivation(
    id="eq.12",
    title="Self-consistency for κ and the weighted sum Q",
    paper_ref=PaperRef("eq.12", "§4 Structured data", note="reconstructed (MATH.md §D)"),
    statement=eq12_statement,
    display=[sp.Eq(kap, z + alpha * kap * _avg(sig / (sig + kap))), sp.Eq(sp.Symbol("Q"), alpha * _avg(sig**2 / (sig + kap) ** 2))],
    variables=[Variable(z, "q_t + c", "z > 0"), Variable(kap, "κ(z)", "κ > 0"), Variable(sig, "eigenvalue of Σ0", "σ > 0"),
               Variable(alpha, "d/N", "α > 0"), Variable(A, "⟨σ/(σ+κ)⟩", "(0, 1)"), Variable(B, "⟨σ²/(σ+κ)²⟩", "(0, 1)")],
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


# ------------------------------------------------------------------------------------------------------
# D.12 — Silverstein's equation for the Stieltjes transform
# ------------------------------------------------------------------------------------------------------

d12_statement = {"summand": 1 / (sig * (1 - alpha - alpha * w * g) - w)}  # g = ⟨summand⟩


def g_from_d12(st, zv, spectrum, weights, a):
    """Real w = −z: the root g of g = ⟨summand⟩ with 1 − α + α z g > 0 (physical); NaN if none."""
    def F(gg):
        return gg - _avg_np(st["summand"], (alpha, w, g), spectrum, weights, a, -zv, gg).real
    lo = max(0.0, (a - 1) / (a * zv)) + 1e-14 / zv
    roots = [r for r in _real_roots(F, lo, 2.0 / zv, n=400)]
    return roots[0] if roots else float("nan")


def _d12_sym(st):
    """σ = 1: g − summand must be, up to a factor free of g, the MP quadratic α w g² − (1 − α − w) g + 1."""
    num = sp.numer(sp.together(g - st["summand"].subs(sig, 1)))
    ratio = sp.cancel(num / (alpha * w * g**2 - (1 - alpha - w) * g + 1))
    return {"MP quadratic (ratio independent of g)": sp.diff(ratio, g)}


def _moments_ref(ctx):
    """Exact moments of the limiting law: m1 = ⟨σ⟩, m2 = ⟨σ²⟩ + α⟨σ⟩²; and the large-|w| remainder bound."""
    out = {}
    for name, spec, wts in _spectra(ctx):
        p = wts / wts.sum()
        for a in (0.3, 1.0, 2.5):
            s1 = mpmath.fsum(mpmath.mpf(float(x)) * mpmath.mpf(float(y)) for x, y in zip(p, spec))
            s2 = mpmath.fsum(mpmath.mpf(float(x)) * mpmath.mpf(float(y)) ** 2 for x, y in zip(p, spec))
            out[(name, a)] = (s1, s2 + a * s1**2, float(np.max(spec)) * (1 + np.sqrt(a)) ** 2)
    return out


def _moment_compare(solve_g):
    """−w g(w) = 1 + m1/w + m2/w² + O(|w|⁻³) at w = R e^{iπ/3}: normalisation, mean and second moment."""

    def compare(st, ref, ctx):
        out = Outcome()
        for name, spec, wts in _spectra(ctx):
            sp_m = [mpmath.mpf(float(s)) for s in spec]
            w_m = [mpmath.mpf(float(x)) for x in wts]
            for a in (0.3, 1.0, 2.5):
                m1, m2, lmax = ref[(name, a)]
                R = mpmath.mpf(10) ** 8 * lmax
                wv = R * mpmath.expjpi(mpmath.mpf(1) / 3)
                gg = solve_g(st, wv, sp_m, w_m, mpmath.mpf(a))
                t = -wv * gg
                est = [t, (t - 1) * wv, (t - 1 - m1 / wv) * wv**2]
                refs = [1, m1, m2]
                # truncation: |Σ_{k>j} m_k w^{-k}|·|w|^j ≤ (λ+/R)·λ+^j/(1 − λ+/R); rounding loses 2·8 digits
                for j, (lab, v, r) in enumerate(zip(("normalisation ∫ρ", "mean ∫xρ", "second moment ∫x²ρ"), est, refs)):
                    trunc = (lmax / float(R)) * lmax**j / (1 - lmax / float(R))
                    tol = trunc + tolerance.precision(ctx.dps, scale=float(R) ** j).value
                    p = {"spectrum": name, "alpha": a, "moment": lab}
                    v = mpmath.re(v) if mpmath.isfinite(v) else mpmath.mpf("nan")
                    out.cases.append(checks.mp_case(p, v, r, tol) if mpmath.isfinite(v) else Case(p, float("nan"), float(r), tol))
        out.tolerance_model = ("series truncation bound (λ+/|w|)·λ+^j/(1 − λ+/|w|) at |w| = 10⁸ λ+ "
                               "(tolerance.discretisation-type bound) + mpmath rounding")
        return out

    return compare


def _solve_g_d12(st, wv, sp_m, w_m, a):
    f = _lam((sig, alpha, w, g), st["summand"], "mpmath")
    d = mpmath.fsum(w_m)
    G = lambda gg: gg - mpmath.fsum(wi * f(si, a, wv, gg) for si, wi in zip(sp_m, w_m)) / d
    try:
        return mpmath.findroot(G, -1 / wv)
    except (ValueError, ZeroDivisionError):
        return mpmath.mpc("nan")


def _white_mc_compare_g(g_of):
    def compare(st, ref, ctx):
        items = []
        for a in WHITE_ALPHAS:
            for zv in MC_Z:
                items.append(({"Sigma0": "I", "alpha": a, "z": zv, "quantity": "(1/d)Tr(C+z)⁻¹"}, ref[(a, zv)],
                              g_of(st, zv, np.ones(1), np.ones(1), a)))
        return _mc_outcome(items, len(items))

    return compare


D12 = Derivation(
    id="D.12",
    title="Stieltjes transform of the Wishart spectrum (generalised Marchenko–Pastur)",
    paper_ref=PaperRef("D.12", "Appendix D.4", note="Silverstein's equation (MATH.md §D)"),
    statement=d12_statement,
    display=sp.Eq(g, _avg(1 / (sig * (1 - alpha - alpha * w * g) - w))),
    variables=[Variable(w, "argument of g(w) = (1/d)E Tr(C − w)⁻¹", "w ∉ [0, ∞)"), Variable(g, "Stieltjes transform", "Im g > 0 for Im w > 0"),
               Variable(sig, "eigenvalue of Σ0", "σ > 0"), Variable(alpha, "d/N", "α > 0")],
    assumptions=["known-mean Wishart C", "d, N → ∞ at fixed α"],
    checks=[
        _symbolic("sympy: Marchenko–Pastur quadratic", _d12_sym,
                        description="for Σ0 = I, D.12 is (up to a g-free factor) the MP quadratic α w g² − (1 − α − w) g + 1 = 0"),
        checks.numeric("mpmath: exact moments at large |w|", "mpmath", _moment_compare(_solve_g_d12),
                       reference=_moments_ref,
                       error_model="series truncation bound at |w| = 10⁸ λ+ plus 50-digit rounding",
                       description="normalisation, mean ⟨σ⟩ and second moment ⟨σ²⟩ + α⟨σ⟩² of the law from the expansion "
                                   "−w g = 1 + m1/w + m2/w² + …, 3 spectra × α ∈ {0.3, 1, 2.5}"),
        checks.numeric("Wishart Monte Carlo (Σ0 = I), 1/d-extrapolated", "montecarlo",
                       _white_mc_compare_g(g_from_d12), reference=white_mc, error_model=MC_MODEL,
                       description="(1/d)E Tr(C+z)⁻¹ = g(−z) for Σ0 = I, α ∈ {0.5, 2}, z ∈ {0.2, 1}, d ∈ {50..400} (tridiagonal draws)"),
    ],
    mutants=[
        Mutant("summand ×101/100", "1 % error", replace={"summand": R101 * d12_statement["summand"]}),
        Mutant("sign of α w g flipped", "1 − α + α w g", replace={"summand": 1 / (sig * (1 - alpha + alpha * w * g) - w)}),
        Mutant("1 + α instead of 1 − α", "σ(1 + α − α w g) − w", replace={"summand": 1 / (sig * (1 + alpha - alpha * w * g) - w)}),
    ],
    claim_kind="asymptotic",
    regime="d, N → ∞ at fixed α; the point mass 1 − 1/α at 0 for α > 1 is part of the law",
)


# ------------------------------------------------------------------------------------------------------
# D.13 — the same equation for h = 1 − α − α w g
# ------------------------------------------------------------------------------------------------------

d13_statement = {
    "h_summand": sig * h / (sig * h - w),
    "h_fixed_point": 1 - alpha * A,  # h = 1 − α⟨σh/(σh − w)⟩
    "g_summand": 1 / (sig * h - w),  # g = ⟨1/(σh − w)⟩
}


def _d13_sym(st):
    gg = sym_avg(st["g_summand"])
    lhs = st["h_fixed_point"].subs(A, sym_avg(st["h_summand"]))
    return {"h equation minus the definition h = 1 − α − α w g": sp.together(lhs - (1 - alpha - alpha * w * gg))}


def g_from_d13(st, zv, spectrum, weights, a):
    fpl = _lam((alpha, A), st["h_fixed_point"], "numpy")

    def F(hh):
        return hh - float(fpl(a, _avg_np(st["h_summand"], (h, w), spectrum, weights, hh, -zv).real))

    roots = _real_roots(F, 1e-12, 2.0)
    if not roots:
        return float("nan")
    return _avg_np(st["g_summand"], (h, w), spectrum, weights, roots[-1], -zv).real


def _solve_g_d13(st, wv, sp_m, w_m, a):
    fh = _lam((sig, h, w), st["h_summand"], "mpmath")
    fg = _lam((sig, h, w), st["g_summand"], "mpmath")
    fp = _lam((alpha, A), st["h_fixed_point"], "mpmath")
    d = mpmath.fsum(w_m)
    H = lambda hh: hh - fp(a, mpmath.fsum(wi * fh(si, hh, wv) for si, wi in zip(sp_m, w_m)) / d)
    try:
        hh = mpmath.findroot(H, mpmath.mpf(1))
    except (ValueError, ZeroDivisionError):
        return mpmath.mpc("nan")
    return mpmath.fsum(wi * fg(si, hh, wv) for si, wi in zip(sp_m, w_m)) / d


D13 = Derivation(
    id="D.13",
    title="Silverstein's equation written for h = 1 − α − α w g",
    paper_ref=PaperRef("D.13", "Appendix D.4"),
    statement=d13_statement,
    display=[sp.Eq(h, 1 - alpha * _avg(sig * h / (sig * h - w))), sp.Eq(g, _avg(1 / (sig * h - w)))],
    variables=[Variable(h, "h = 1 − α − α w g", "Im h ≤ 0 for Im w > 0; h ∈ (0, 1] for w < 0"),
               Variable(w, "argument", "w ∉ [0, ∞)"), Variable(sig, "eigenvalue of Σ0", "σ > 0"), Variable(alpha, "d/N", "α > 0")],
    assumptions=["known-mean Wishart C", "d, N → ∞ at fixed α"],
    checks=[
        _symbolic("sympy: equivalent to D.12", _d13_sym,
                        description="with g = ⟨1/(σh − w)⟩, the h equation is the definition h = 1 − α − α w g (three-point spectrum)"),
        checks.numeric("mpmath: exact moments at large |w|", "mpmath", _moment_compare(_solve_g_d13),
                       reference=_moments_ref, error_model="series truncation bound at |w| = 10⁸ λ+ plus 50-digit rounding",
                       description="normalisation, mean and second moment of the law from g solved via h"),
        checks.numeric("Wishart Monte Carlo (Σ0 = I), 1/d-extrapolated", "montecarlo",
                       _white_mc_compare_g(g_from_d13), reference=white_mc, error_model=MC_MODEL,
                       description="g(−z) from the h equation against (1/d)E Tr(C+z)⁻¹"),
    ],
    mutants=[
        Mutant("h equation ×101/100", "h = 1.01(1 − α⟨…⟩)", replace={"h_fixed_point": R101 * (1 - alpha * A)}),
        Mutant("g summand ×101/100", "1 % error in g", replace={"g_summand": R101 / (sig * h - w)}),
        Mutant("sign of w flipped", "σh/(σh + w)", replace={"h_summand": sig * h / (sig * h + w), "g_summand": 1 / (sig * h + w)}),
    ],
    claim_kind="asymptotic",
    regime="d, N → ∞ at fixed α",
)


# ------------------------------------------------------------------------------------------------------
# D.14 — the replica order parameter gives the Stieltjes transform
# ------------------------------------------------------------------------------------------------------

d14_statement = {"g_summand": 1 / (zeta * sig + z)}  # g(−z) = ⟨1/(ζσ + z)⟩, ζ from D.11


def g_from_d14(st, zv, spectrum, weights, a):
    n = 1000  # ζ depends on (spectrum, N) only through α and the normalised weights
    zt = float(solve_zeta(zv, spectrum, n, multiplicities=weights * (a * n) / weights.sum()))
    return _avg_np(st["g_summand"], (zeta, z), spectrum, weights, zt, zv).real


def _mp_mults(wts, a, n):
    """Multiplicities w·(α n)/Σw in mpmath, so that d/N equals the float α exactly as in the reference."""
    tot = mpmath.fsum(mpmath.mpf(float(x)) for x in wts)
    return [mpmath.mpf(float(x)) * mpmath.mpf(a) * n / tot for x in wts]


def _d14_mp_compare(st, ref, ctx):
    out = Outcome(tolerance_model=tolerance.precision(ctx.dps).model)
    for name, spec, wts in _spectra(ctx):
        sp_m = [mpmath.mpf(float(s)) for s in spec]
        w_m = [mpmath.mpf(float(x)) for x in wts]
        for a, zv in MP_GRID:
            gref, _ = ref[(name, a, zv)]
            n = 1000  # κ depends on (spectrum, N) only through α and the normalised weights
            k = solve_kappa_mp(zv, list(spec), n, dps=ctx.dps, multiplicities=_mp_mults(wts, a, n))
            zt = mpmath.mpf(zv) / k
            v = _avg_mp(st["g_summand"], (zeta, z), sp_m, w_m, zt, mpmath.mpf(zv))
            p = {"spectrum": name, "alpha": a, "z": zv}
            out.cases.append(checks.mp_case(p, v, gref, tolerance.precision(ctx.dps, scale=max(abs(float(gref)), 1.0)).value))
    return out


D14 = Derivation(
    id="D.14",
    title="Stieltjes transform from the replica order parameter",
    paper_ref=PaperRef("D.14", "Appendix D.4"),
    statement=d14_statement,
    display=sp.Eq(sp.Function("g")(-z), _avg(1 / (zeta * sig + z))),
    variables=[Variable(zeta, "ζ = z/κ (D.11)", "0 < ζ ≤ 1"), Variable(z, "z > 0", "z > 0"), Variable(sig, "eigenvalue of Σ0", "σ > 0")],
    assumptions=["ζ solves D.11", "d, N → ∞ at fixed α"],
    checks=[
        checks.numeric("mpmath 50 digits vs Silverstein's equation", "mpmath", _d14_mp_compare, reference=_silverstein_ref,
                       error_model="mpmath at ctx.dps digits (tolerance.precision)",
                       description="ζ from lindiff_verify.theory.stieltjes.solve_kappa_mp; g from D.12 solved directly"),
        checks.numeric("Wishart Monte Carlo (Σ0 = I), 1/d-extrapolated", "montecarlo",
                       _white_mc_compare_g(g_from_d14), reference=white_mc, error_model=MC_MODEL,
                       description="⟨1/(ζσ + z)⟩ against (1/d)E Tr(C+z)⁻¹"),
    ],
    mutants=[
        Mutant("×101/100", "1 % error", replace={"g_summand": R101 / (zeta * sig + z)}),
        Mutant("no replica correction (ζ = 1)", "⟨1/(σ + z)⟩, the N → ∞ value", replace={"g_summand": 1 / (sig + z)}),
        Mutant("ζ in the wrong place", "⟨1/(σ + ζz)⟩", replace={"g_summand": 1 / (sig + zeta * z)}),
    ],
    claim_kind="asymptotic",
    regime="d, N → ∞ at fixed α, z > 0",
)


# ------------------------------------------------------------------------------------------------------
# D.15 — D.14 inserted into the definition of h: the self-consistency identical to D.13
# ------------------------------------------------------------------------------------------------------

d15_statement = {"zeta_summand": zeta * sig / (zeta * sig + z), "zeta_fixed_point": 1 - alpha * A}


def _d15_sym(st):
    claim = st["zeta_fixed_point"].subs(A, sym_avg(st["zeta_summand"]))
    via_d14 = 1 - alpha + alpha * z * sym_avg(1 / (zeta * sig + z))  # h = 1 − α − α w g at w = −z, g from D.14
    d13 = (1 - alpha * A).subs(A, sym_avg(d13_statement["h_summand"])).subs({h: zeta, w: -z})
    return {"D.14 inserted into h = 1 − α + α z g": sp.together(claim - via_d14),
            "identical to D.13 at h = ζ, w = −z": sp.together(claim - d13)}


def _d15_mp_compare(st, ref, ctx):
    out = Outcome(tolerance_model=tolerance.precision(ctx.dps).model)
    fp = _lam((alpha, A), st["zeta_fixed_point"], "mpmath")
    for name, spec, wts in _spectra(ctx):
        sp_m = [mpmath.mpf(float(s)) for s in spec]
        w_m = [mpmath.mpf(float(x)) for x in wts]
        for a, zv in MP_GRID:
            _, href = ref[(name, a, zv)]
            am, zm = mpmath.mpf(a), mpmath.mpf(zv)
            H = lambda zt: zt - fp(am, _avg_mp(st["zeta_summand"], (zeta, z), sp_m, w_m, zt, zm))
            fpf = _lam((alpha, A), st["zeta_fixed_point"], "numpy")
            Hf = lambda x: x - float(fpf(a, _avg_np(st["zeta_summand"], (zeta, z), spec, wts, x, zv).real))
            roots = _real_roots(Hf, 1e-14, 1.5, n=300)
            p = {"spectrum": name, "alpha": a, "z": zv}
            tol = tolerance.precision(ctx.dps).value
            if not roots:
                out.cases.append(Case(p, float("nan"), float(href), tol))
                continue
            r = roots[-1]
            v = _mp_refine(H, r, (r * (1 - 1e-9), r * (1 + 1e-9)))
            out.cases.append(checks.mp_case(p, v, href, tol) if mpmath.isfinite(v) else Case(p, float("nan"), float(href), tol))
    return out


D15 = Derivation(
    id="D.15",
    title="Self-consistency for ζ from D.14 (identical to D.13)",
    paper_ref=PaperRef("D.15", "Appendix D.4"),
    statement=d15_statement,
    display=sp.Eq(zeta, 1 - alpha * _avg(zeta * sig / (zeta * sig + z))),
    variables=[Variable(zeta, "ζ = z/κ", "(0, 1]"), Variable(z, "z", "z > 0"), Variable(alpha, "d/N", "α > 0"), Variable(sig, "σ_i", "σ > 0")],
    assumptions=["D.14", "d, N → ∞ at fixed α"],
    checks=[
        _symbolic("sympy: D.14 into h; identical to D.13", _d15_sym,
                        description="three-point spectrum with symbolic weights"),
        checks.numeric("mpmath 50 digits vs Silverstein's h", "mpmath", _d15_mp_compare, reference=_silverstein_ref,
                       error_model="mpmath at ctx.dps digits (tolerance.precision)",
                       description="ζ solving the claim against h = 1 − α + α z g(−z), g from D.12 solved directly"),
    ],
    mutants=[
        Mutant("×101/100", "ζ = 1.01(1 − α⟨…⟩)", replace={"zeta_fixed_point": R101 * (1 - alpha * A)}),
        Mutant("sign flipped", "ζ = 1 + α⟨…⟩", replace={"zeta_fixed_point": 1 + alpha * A}),
        Mutant("z and ζσ swapped", "⟨z/(ζσ + z)⟩", replace={"zeta_summand": z / (zeta * sig + z)}),
    ],
    claim_kind="asymptotic",
    regime="d, N → ∞ at fixed α, z > 0",
)


# ------------------------------------------------------------------------------------------------------
# D.16 — the spectrum-free relation ζ = 1 − α + α z g(−z)
# ------------------------------------------------------------------------------------------------------

d16_statement = {"zeta": 1 - alpha + alpha * z * g}


def _d16_sym(st):
    claim = st["zeta"].subs(g, sym_avg(1 / (zeta * sig + z)))  # D.14
    return {"D.14 + D.11 ⇒ D.16": sp.together(claim - (1 - alpha * sym_avg(zeta * sig / (zeta * sig + z))))}


def _d16_mc_compare(st, ref, ctx):
    out = Outcome()
    f = _lam((alpha, z, g), st["zeta"], "numpy")
    dfdg = _lam((alpha, z, g), sp.diff(st["zeta"], g), "numpy")
    n_cases = len(WHITE_ALPHAS) * len(MC_Z)
    for a in WHITE_ALPHAS:
        for zv in MC_Z:
            fit = ref[(a, zv)]
            zt = float(solve_zeta(zv, np.ones(1), 1000, multiplicities=[a * 1000]))
            val = float(f(a, zv, fit.value))
            se = abs(float(dfdg(a, zv, fit.value))) * fit.se  # linear propagation of SE(ĝ∞)
            tol = tolerance.monte_carlo(se, n_cases)
            p = {"Sigma0": "I", "alpha": a, "z": zv, "fit slope b of g": fit.slope}
            out.cases.append(Case(p, val, zt, float(tol.value)))
            out.measurements[f"alpha={a}, z={zv}: finite-size slope of (1/d)Tr R"] = fit.slope
            out.tolerance_model = tol.model + " (SE propagated through the claim)"
    return out


def _d16_mp_compare(st, ref, ctx):
    out = Outcome(tolerance_model=tolerance.precision(ctx.dps).model)
    f = _lam((alpha, z, g), st["zeta"], "mpmath")
    for name, spec, wts in _spectra(ctx):
        for a, zv in MP_GRID:
            gref, _ = ref[(name, a, zv)]
            n = 1000
            k = solve_kappa_mp(zv, list(spec), n, dps=ctx.dps, multiplicities=_mp_mults(wts, a, n))
            zt = mpmath.mpf(zv) / k
            v = f(mpmath.mpf(a), mpmath.mpf(zv), gref)
            out.cases.append(checks.mp_case({"spectrum": name, "alpha": a, "z": zv}, v, zt, tolerance.precision(ctx.dps).value))
    return out


D16 = Derivation(
    id="D.16",
    title="Spectrum-free relation between ζ and the Stieltjes transform",
    paper_ref=PaperRef("D.16", "Appendix D.4", note="paper fig. D.1"),
    statement=d16_statement,
    display=sp.Eq(zeta, 1 - alpha + alpha * z * sp.Function("g")(-z)),
    variables=[Variable(zeta, "ζ = z/κ (D.11)", "(0, 1]"), Variable(g, "g(−z) = (1/d)E Tr(C + z)⁻¹", "g > 0"),
               Variable(alpha, "d/N", "α > 0"), Variable(z, "z", "z > 0")],
    assumptions=["d, N → ∞ at fixed α", "any spectrum of Σ0"],
    checks=[
        _symbolic("sympy: D.14 + D.11 ⇒ D.16", _d16_sym, description="three-point spectrum with symbolic weights"),
        checks.numeric("mpmath 50 digits: ζ (solve_kappa_mp) vs g (Silverstein)", "mpmath", _d16_mp_compare,
                       reference=_silverstein_ref, error_model="mpmath at ctx.dps digits (tolerance.precision)",
                       description="3 spectra × α ∈ {0.3, 1, 2.5} × z ∈ {1e-3, 0.1, 10}"),
        checks.numeric("Wishart Monte Carlo (Σ0 = I), 1/d-extrapolated", "montecarlo", _d16_mc_compare,
                       reference=white_mc, error_model=MC_MODEL + "; SE propagated linearly through the claim",
                       description="1 − α + α z ĝ∞ (Monte Carlo g extrapolated in 1/d) against ζ from D.11"),
    ],
    mutants=[
        Mutant("×101/100", "1 % error", replace={"zeta": R101 * d16_statement["zeta"]}),
        Mutant("sign of α z g flipped", "1 − α − α z g", replace={"zeta": 1 - alpha - alpha * z * g}),
        Mutant("1/α for α", "N/d in place of d/N", replace={"zeta": 1 - 1 / alpha + z * g / alpha}),
    ],
    claim_kind="asymptotic",
    regime="d, N → ∞ at fixed α, any spectrum, z > 0 (spectrum-free)",
)


# ------------------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------------------


def _fig_mp(ctx):
    import matplotlib.pyplot as plt

    from lindiff_verify.theory.marchenko_pastur import (marchenko_pastur_density, marchenko_pastur_edges,
                                                 marchenko_pastur_point_mass)

    fig, ax = plt.subplots(figsize=(6, 4))
    d = 400
    for a, col in ((0.25, "C0"), (0.5, "C1"), (2.0, "C2")):
        ev = white_wishart_eigenvalues(d, int(d / a), rng=ctx.rng(f"fig2a {a}"), batch=20).ravel()
        lo, hi = marchenko_pastur_edges(a)
        ax.hist(ev[ev > 1e-9], bins=60, density=False, weights=np.full((ev > 1e-9).sum(), 1 / ev.size / ((hi - lo) / 60)),
                alpha=0.3, color=col)
        x = np.linspace(max(lo, 1e-4), hi, 400)
        ax.plot(x, marchenko_pastur_density(x, a), color=col, label=f"α = {a}")
        pm = marchenko_pastur_point_mass(a)
        if pm > 0:
            ax.annotate(f"point mass {pm:.2f} at 0", (0, 0.9), color=col)
    ax.set_xlabel("eigenvalue λ of C")
    ax.set_ylabel("density")
    ax.legend()
    return fig


def _fig_d1(ctx):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    zs = np.geomspace(1e-2, 10, 12)
    d = 200
    for a, col in ((0.5, "C0"), (2.0, "C1")):
        n = int(d / a)
        spec = np.repeat(TWO_LEVEL, d // 2)
        lam, _ = covariance_eigh(spec, n, rng=ctx.rng(f"figD1 {a}"), batch=10)
        gmc = (1 / (lam[:, None, :] + zs[None, :, None])).mean(axis=(0, 2))
        ax.plot(zs, solve_zeta(zs, spec, n), color=col, label=f"ζ from D.11, α = {a}")
        ax.plot(zs, 1 - a + a * zs * gmc, "o", color=col, mfc="none", label=f"1 − α + α z ĝ (d = {d})")
    ax.set_xscale("log")
    ax.set_xlabel("z")
    ax.set_ylabel("ζ")
    ax.legend()
    return fig


def _fig_extrap(ctx):
    import matplotlib.pyplot as plt

    fits = white_mc(ctx)
    fig, ax = plt.subplots(figsize=(6, 4))
    for (a, zv), f in fits.items():
        x = 1 / f.d
        pts = ax.errorbar(x, f.values, yerr=f.se_points, fmt="o", label=f"α = {a}, z = {zv}")
        xx = np.linspace(0, x.max(), 50)
        ax.plot(xx, f.value + f.slope * xx, "-", lw=0.8, color=pts[0].get_color())  # the fit in its points' colour
    ax.set_xlabel("1/d")
    ax.set_ylabel("(1/d) E Tr(C + z)⁻¹")
    ax.legend(fontsize=7)
    return fig


D12.figures = [Figure("fig2a", "Marchenko–Pastur densities (paper fig. 2a)", _fig_mp,
                      caption="MP densities for α = 0.25, 0.5, 2 against histograms of tridiagonal Wishart draws (d = 400); "
                              "for α > 1 a point mass 1 − 1/α sits at 0."),
               Figure("extrapolation", "Finite-size extrapolation in 1/d", _fig_extrap,
                      caption="Monte Carlo (1/d)E Tr(C+z)⁻¹ against 1/d with the weighted fit v∞ + b/d.")]
D16.figures = [Figure("figD1", "D.16 against simulations (paper fig. D.1)", _fig_d1,
                      caption="ζ from D.11 and 1 − α + α z ĝ(−z) from Wishart draws, two-level Σ0, d = 200.")]

DERIVATIONS = [D11, EQ12, D12, D13, D14, D15, D16]
