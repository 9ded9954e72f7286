"""X.2 — the proportional-limit KL E DKL = d·F(α) + G(α) + O(1/d) (ours; docs/mathematics.md §D, §F.5).

Not in the paper: inserting the paper's D.21 (ζ0 = 1 − α, α = d/N) into eq.15 at ε → 0 gives
F(α) = ½[α/(1 − α) − 1 − ((1 − α)/α) ln(1 − α)] = α/4 + 5α²/12 + …, and the exact inverse-Wishart /
digamma references give the O(1) terms G_known(α) = ½[α/(1 − α)² + ½ ln(1 − α)] (known mean) and
G_est(α) = ½[α/(1 − α) + 2α/(1 − α)² + (3/2) ln(1 − α)] (estimated mean; the e_m = 1/N variant is ours too).
"""

import functools

import mpmath
import numpy as np
import sympy as sp

from lindiff_verify.theory import finite_n
from lindiff_verify.verification import checks, tolerance
from lindiff_verify.verification.registry import Case, Derivation, Mutant, Outcome, PaperRef, Variable

from ..appendix_d import _wishart_mc as _mc
from ..appendix_d.kl_asymptote import N, _simp, al, d, zeta0

F_expr = (al / (1 - al) - 1 - (1 - al) / al * sp.log(1 - al)) / 2
G_known_expr = (al / (1 - al) ** 2 + sp.log(1 - al) / 2) / 2
G_est_expr = (al / (1 - al) + 2 * al / (1 - al) ** 2 + sp.Rational(3, 2) * sp.log(1 - al)) / 2


def _eq15_limit(st):
    """eq.15 at ε → 0 per dimension: κ → 0, df1 → d, ρ → 1/ζ0: 2E DKL/d → ρ − 2 + (1/α − 1) ln ρ."""
    rho = 1 / st["zeta0"]
    lim = (rho - 2 + (1 / al - 1) * sp.log(rho)) / 2
    ser = sp.series(st["F"], al, 0, 3).removeO()
    return {"F = lim eq.15/d with ζ0": sp.expand_log(st["F"] - lim, force=True),
            "F = α/4 + 5α²/12 + O(α³) (N ≫ d)": sp.expand(ser - al / 4 - 5 * al**2 / 12)}


def _proportional_reference(ctx):
    """Exact E DKL (digamma sums, mpmath) at d and 2d with N = d/α: F_ref = (E(2d) − E(d))/d,
    G_ref = 2E(d) − E(2d) (Richardson, removes the O(1/d) term); error bound from the level d/10."""
    out = []
    for num, den in ((1, 10), (1, 2), (3, 4)):
        for est in (False, True):
            levels = {}
            for dd in (4 * 10**5, 4 * 10**6):
                e1 = finite_n.expected_kl_mp(dd, dd * den // num, estimated_mean=est)
                e2 = finite_n.expected_kl_mp(2 * dd, 2 * dd * den // num, estimated_mean=est)
                levels[dd] = ((e2 - e1) / dd, 2 * e1 - e2)
            (f_lo, g_lo), (f_hi, g_hi) = levels[4 * 10**5], levels[4 * 10**6]
            out.append(({"alpha": f"{num}/{den}", "mean": "estimated" if est else "known", "d": 4 * 10**6},
                        mpmath.mpf(num) / den, f_hi, g_hi, abs(f_hi - f_lo), abs(g_hi - g_lo)))
    return out


def _compare_proportional(st, ref, ctx):
    fF = checks.mp_lambdify((al,), st["F"])
    fG = {False: checks.mp_lambdify((al,), st["G_known"]), True: checks.mp_lambdify((al,), st["G_est"])}
    out = Outcome()
    why = "discretisation O(1/d): bound = change of the Richardson value from d/10 to d"
    for params, a, f_ref, g_ref, f_err, g_err in ref:
        est = params["mean"] == "estimated"
        out.cases.append(checks.mp_case({**params, "term": "F"}, fF(a), f_ref, tolerance.bound(float(f_err) + 1e-20, why)))
        out.cases.append(checks.mp_case({**params, "term": "G"}, fG[est](a), g_ref, tolerance.bound(float(g_err) + 1e-20, why)))
    return out


def _mc_proportional_reference(ctx):
    """Wishart Monte Carlo (Σ0 = I, tridiagonal path) of E DKL/d at α = 1/2 for d = 25..200, WLS fit a + b/d."""
    ds = ctx.pick(quick=(25, 50, 100), full=(25, 50, 100, 200, 400))
    draws = ctx.paths(quick=800, full=6000, what="Wishart draws per d")  # quick: detects ≈ 1.8 % (2.1 % at 600)
    rows = []
    for dd in ds:
        kl = _mc.kl_moments(ctx, f"wishart d={dd}", dd, 2 * dd, False, draws)
        rows.append((dd, float(kl.mean) / dd, float(np.sqrt(kl.var / kl.n)) / dd))
    x = np.array([[1.0, 1.0 / r[0]] for r in rows])
    y = np.array([r[1] for r in rows])
    w = 1 / np.array([r[2] for r in rows]) ** 2
    cov = np.linalg.inv(x.T @ (w[:, None] * x))
    beta = cov @ (x.T @ (w * y))
    return {"v_inf": beta[0], "se": np.sqrt(cov[0, 0]), "slope": beta[1], "slope_se": np.sqrt(cov[1, 1]),
            "rows": rows}


def _compare_mc_proportional(st, ref, ctx):
    tol = tolerance.monte_carlo(ref["se"])
    val = float(checks.lambdify((al,), st["F"])(0.5))
    return Outcome(cases=[Case({"alpha": 0.5, "extrapolated": "d → ∞"}, val, ref["v_inf"], tol)],
                   measurements={"fitted slope b (E DKL/d = F + b/d)": ref["slope"], "slope SE": ref["slope_se"],
                                 "G_known(1/2) (exact O(1) term, for comparison)": finite_n.G_known(0.5),
                                 "per-d means": [(r[0], r[1], r[2]) for r in ref["rows"]]})


_SERIES_ORDER = 2  # k = 1, 2 (order 3 costs seconds of SymPy summation)
_kl_series = functools.lru_cache(maxsize=None)(finite_n.kl_series)  # once per run, not per mutant


def _series_match(st):
    """The exact 1/N series at fixed d (finite_n.kl_series, from the digamma asymptotics; checked against mpmath in
    D.22), E DKL = Σ_k c_k(d)/N^k with c_k of degree k + 1 in d, regrouped with N = d/α: Σ_k c_k(d) α^k/d^k. Its
    d^1 part is d·Σ_k [d^(k+1)]c_k α^k and its d^0 part Σ_k [d^k]c_k α^k, so the α^k Taylor coefficients of F
    and of G_known / G_est are those coefficients of c_k (known / estimated mean), k = 1, 2."""
    dd = sp.Symbol("d", positive=True)
    res = {}
    for est, g in ((False, "G_known"), (True, "G_est")):
        cs = _kl_series(_SERIES_ORDER, estimated_mean=est)
        serF = sp.series(st["F"], al, 0, _SERIES_ORDER + 1).removeO()
        serG = sp.series(st[g], al, 0, _SERIES_ORDER + 1).removeO()
        for k, ck in enumerate(cs, start=1):
            poly = sp.Poly(sp.expand(ck), dd)
            if not est:
                res[f"[α^{k}] F − [d^{k + 1}] c_{k}"] = serF.coeff(al, k) - poly.coeff_monomial(dd ** (k + 1))
            res[f"[α^{k}] {g} − [d^{k}] c_{k} ({'estimated' if est else 'known'} mean)"] = (
                serG.coeff(al, k) - poly.coeff_monomial(dd**k))
    return res


X2_CHECKS = [
    checks.symbolic("sympy: Taylor coefficients in α against the exact 1/N series (finite_n.kl_series)", _series_match,
                    description="k = 1, 2: α^k coefficients of F, G_known, G_est against the d^(k+1), d^k "
                                "coefficients of the exact c_k(d)"),
    checks.symbolic("sympy: eq.15 limit and small-α series", lambda st: _eq15_limit({**st, "zeta0": zeta0}),
                    simplify=_simp,
                    description="F equals eq.15's ε → 0 limit per dimension with ρ = 1/ζ0 (D.21); F = α/4 + 5α²/12 + …"),
    checks.numeric("exact digamma sums, Richardson in 1/d", "mpmath", _compare_proportional,
                   reference=_proportional_reference,
                   error_model="discretisation O(1/d): Richardson on exact finite-N values, bound from the "
                               "change between d = 4·10^5 and 4·10^6"),
    checks.numeric("Wishart Monte Carlo extrapolated in 1/d", "montecarlo", _compare_mc_proportional,
                   reference=_mc_proportional_reference,
                   error_model="Monte Carlo: WLS fit E DKL/d = F + b/d over d = 25..100 (quick), 25..400 (full), z·SE of the intercept"),
]
X2_MUTANTS = [
    Mutant("F with ln coefficient (1 − α)", "drops 1/α", replace={
        "F": (al / (1 - al) - 1 - (1 - al) * sp.log(1 - al)) / 2}),
    Mutant("F without the ½", "2F", replace={"F": 2 * F_expr}),
    Mutant("F 1 % too large", "1 % error", replace={"F": F_expr * sp.Rational(101, 100)}),
    Mutant("G_known with (1 − α) instead of (1 − α)²", "wrong power",
           replace={"G_known": (al / (1 - al) + sp.log(1 - al) / 2) / 2}),
    Mutant("G_est = G_known", "estimated mean treated as known (N instead of N − 1)",
           replace={"G_est": G_known_expr}),
]



X2 = Derivation(
    id="X.2",
    title="Proportional-limit KL d·F(α) + G(α) at ε → 0 (from D.21's ζ0)",
    paper_ref=PaperRef("X.2", "extension of Appendix D.8", note="ours: F, G_known, G_est are not in the paper"),
    statement={"F": F_expr, "G_known": G_known_expr, "G_est": G_est_expr},
    display=[sp.Eq(sp.Symbol("F"), F_expr), sp.Eq(sp.Symbol("G_known"), G_known_expr),
             sp.Eq(sp.Symbol("G_est"), G_est_expr)],
    variables=[Variable(al, "α = d/N", "0 < α < 1"), Variable(d, "dimension", "d ≥ 1"),
               Variable(N, "number of training samples", "N > d + 1 (known), N > d + 2 (estimated)")],
    assumptions=["Gaussian data", "ε = 0", "N > d", "G terms from the exact finite-N references (ours)",
                 "schedule-independent (no diffusion time enters)"],
    checks=X2_CHECKS,
    mutants=X2_MUTANTS,
    claim_kind="asymptotic",
    regime="ε → 0, d, N → ∞ at fixed α = d/N ∈ (0, 1); corrections O(1/d) beyond G",
    notes="The MC check uses Σ0 = I (E DKL does not depend on Σ0 at ε = 0).",
)
