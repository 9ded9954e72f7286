"""Shared machinery of Appendix D.2–D.4 (replica self-consistency and Stieltjes transform); not a derivation file.

Known-mean Wishart C = (1/N) Σ x xᵀ, x ~ N(0, Σ0), Σ0 with eigenvalues σ_i; α = d/N; ⟨f⟩ = (1/d) Σ_i f(σ_i).
Statements are per-eigenvalue summands plus an assembly formula in which the symbol A (or B) stands for the
spectral average ⟨summand⟩; a statement is evaluated by solving its own fixed point (so a wrong statement
yields a wrong solution, or none: a NaN, which is a disagreement).

Independent references: Silverstein's equation solved directly for g at the working precision (ctx.dps) (bracketed, its own
unique root), exact moments of the limiting law, Monte Carlo over Wishart draws extrapolated in 1/d
(lindiff_verify.theory.extrapolation), and SymPy algebra on a symbolic three-point spectrum with symbolic weights.
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np
from array_api_compat import array_namespace
from scipy import optimize
import sympy as sp

from lindiff_verify.simulation.streaming import stream_dict
from lindiff_verify.simulation.wishart import covariance_eigh, white_wishart_resolvent_statistics
from lindiff_verify.theory.extrapolation import fit_finite_size
from lindiff_verify.verification.checks import judge
from lindiff_verify.verification import checks
from lindiff_verify.verification.registry import Outcome

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


def _real_roots(F, lo, hi, n=600, *, F_grid=None):
    """Roots of a real function on [lo, hi] (log grid scan + brentq), excluding poles. ``F_grid``, when given,
    evaluates F on the whole grid at once (the scan only brackets sign changes; brentq refines with F)."""
    xs = np.geomspace(lo, hi, n)
    with np.errstate(all="ignore"):
        fs = None
        if F_grid is not None:
            try:
                fs = np.asarray(F_grid(xs), dtype=float)
            except (TypeError, ValueError, ZeroDivisionError):  # a statement that does not broadcast: point by point
                fs = None
            if fs is not None and fs.shape != xs.shape:
                fs = None
        if fs is None:
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

    def F_grid(ks):  # F on an array of κ: one lambdified call over (spectrum × grid) instead of one per point
        summ = np.asarray(_lam((sig, kap), sm, "numpy")(spectrum[:, None], ks[None, :]), dtype=complex)
        avg = (weights @ (summ * np.ones((spectrum.size, ks.size))) / weights.sum()).real
        return ks - np.asarray(_lam((z, alpha, kap, A), fp, "numpy")(zv, alpha_v, ks, avg), dtype=float)

    hi = 10 * (float(zv) + alpha_v * float(np.max(spectrum)) + 1)
    roots = _real_roots(F, 1e-14 * hi, hi, F_grid=F_grid)
    if not roots:
        return float("nan") if not mp else mpmath.mpf("nan")
    r = max(roots)
    if not mp:
        return r
    fpl = _lam((z, alpha, kap, A), fp, "mpmath")
    sp_m = _mpf(spectrum)
    w_m = [mpmath.mpf(float(x)) for x in weights]
    zm, am = mpmath.mpf(zv), mpmath.mpf(alpha_v)
    Fm = lambda k: k - fpl(zm, am, k, _avg_mp(sm, (kap,), sp_m, w_m, k))
    return _mp_refine(Fm, r, (r * (1 - 1e-9), r * (1 + 1e-9)))


def silverstein_mp(zv, spectrum, weights, alpha_v):
    """Reference: g(−z) from Silverstein's equation g = ⟨1/(σ(1 − α + α z g) + z)⟩ solved directly at the
    working precision on its unique root with h = 1 − α + α z g > 0 (G is increasing there). Returns (g, h)."""
    sp_m = _mpf(spectrum)
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


def _mpf(values) -> list:
    """A float array as mpmath numbers (the high-precision references start from the float64 spectrum)."""
    return [mpmath.mpf(float(v)) for v in values]


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


WHITE_BATCH = 4096  # white draws per batch (a batch is one task on a cluster): O(d) memory per draw
DENSE_BATCH = 1000  # dense draws per batch: O(N d) memory per draw


def _white_resolvent_draws(d, n, zs, xp, rng, k):
    """(1/d) Tr(C + z)⁻¹ of k white Wishart draws (tridiagonal Laguerre path, O(d) per z), in namespace ``xp``."""
    tr = white_wishart_resolvent_statistics(d, n, list(zs), rng=rng, batch=k, xp=xp).trace_inv / d
    return {zv: tr[:, j] for j, zv in enumerate(zs)}


def white_mc(ctx):
    """(1/d) Tr(C + z)⁻¹ for Σ0 = I (tridiagonal Laguerre draws), d ∈ {50, 100, 200, 400}, fixed α;
    fits v∞ + b/d per (α, z). Draw counts make SE(v∞) ≈ 0.05 % (quick) so a 1 % error is ≥ 10 SE."""
    ds = ctx.pick(quick=[50, 100, 200, 400], full=[50, 100, 200, 400, 800])
    budget = ctx.paths(quick=6000, full=40000, what="Wishart draws × d per α")
    fits = {}
    for a in WHITE_ALPHAS:
        means, ses = {zv: [] for zv in MC_Z}, {zv: [] for zv in MC_Z}
        for d in ds:
            n = int(round(d / a))
            nd = max(8, int(budget * (2 if a > 1 else 1) / d))
            mom = stream_dict(functools.partial(_white_resolvent_draws, d, n, MC_Z, ctx.xp),
                              ctx.batch_seeds(f"white alpha={a} d={d}", nd, WHITE_BATCH), map=ctx.map)
            for zv in MC_Z:
                means[zv].append(float(mom[zv].mean))
                ses[zv].append(float(np.sqrt(mom[zv].var / mom[zv].n)))
        for zv in MC_Z:
            fits[(a, zv)] = fit_finite_size(ds, means[zv], ses[zv])
    return fits


TRACES = ("trR", "trSigmaR", "trRSigmaR")


def _two_level_draws(spec, n, zs, xp, rng, k):
    """(1/d) Tr R, (1/d) Tr Σ0 R, (1/d) Tr R Σ0 R (R = (C + z)⁻¹) of k dense draws, per z, in ``xp``."""
    lam, U = covariance_eigh(spec, n, rng=rng, batch=k, xp=xp)
    xp = array_namespace(lam)
    st = xp.sum(U**2 * xp.asarray(spec)[None, :, None], axis=1)  # u_jᵀ Σ0 u_j, (k, d)
    out = {}
    for zv in zs:
        r = 1.0 / (lam + zv)
        for name, q in zip(TRACES, (r, st * r, st * r * r), strict=True):
            out[(zv, name)] = xp.mean(q, axis=1)
    return out


def two_level_mc(ctx):
    """Dense draws, Σ0 = diag(0.5 × d/2, 2 × d/2), α = 2, d ∈ {16, 32, 64, 128}: (1/d) Tr R, (1/d) Tr Σ0 R,
    (1/d) Tr R Σ0 R (R = (C + z)⁻¹) per z, each extrapolated in 1/d."""
    ds = ctx.pick(quick=[16, 32, 64, 128], full=[16, 32, 64, 128, 256])
    # quick: SE small enough that a 1 % error in Q is ≥ 9 SE
    budget = ctx.paths(quick=16000, full=64000, what="dense Wishart draws × d")
    a = 2.0
    M = {key: [] for key in ((zv, name) for zv in MC_Z for name in TRACES)}
    S = {key: [] for key in M}
    for d in ds:
        n = int(round(d / a))
        nd = max(8, int(budget / d))
        spec = np.repeat(TWO_LEVEL, d // 2)
        mom = stream_dict(functools.partial(_two_level_draws, spec, n, MC_Z, ctx.xp),
                          ctx.batch_seeds(f"two-level dense d={d}", nd, DENSE_BATCH), map=ctx.map)
        for key in M:
            M[key].append(float(mom[key].mean))
            S[key].append(float(np.sqrt(mom[key].var / mom[key].n)))
    return {key: fit_finite_size(ds, M[key], S[key]) for key in M}


def _mc_outcome(items):
    """items: (params, fit, claim value) → Outcome with extrapolation-judged cases and fit measurements."""
    out = Outcome()
    for params, fit, val in items:
        out.cases.append(judge(params, fit, val, note="on the 1/d-extrapolated mean"))
        label = ", ".join(f"{k}={v}" for k, v in params.items())
        out.measurements[f"{label}: finite-size slope b"] = fit.slope
        out.measurements[f"{label}: slope SE"] = fit.slope_se
        out.measurements[f"{label}: chi2/dof"] = fit.chi2 / max(fit.dof, 1)
        out.measurements[f"{label}: extrapolated SE"] = fit.se
    return out


MC_MODEL = ("Monte Carlo over Wishart draws at several d (fixed α), weighted fit v∞ + b/d; tolerance z·SE(v∞), "
            "Bonferroni z over the cases (tolerance.monte_carlo)")


def _silverstein_ref(ctx):
    return {(name, a, zv): silverstein_mp(zv, spec, wts, a)
            for name, spec, wts in _spectra(ctx) for a, zv in MP_GRID}
