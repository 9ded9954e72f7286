"""Appendix D.3 — D.12, D.13: Silverstein's equation for the Stieltjes transform g and the same equation for h."""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from lindiff_verify.simulation.wishart import white_wishart_eigenvalues
from lindiff_verify.verification import checks, tolerance
from lindiff_verify.verification.registry import Case, Derivation, Figure, Mutant, Outcome, PaperRef, Variable

from ._replica import (_mpf, MC_MODEL, MC_Z, R101, WHITE_ALPHAS, A, _avg, _avg_np, _lam, _mc_outcome, _real_roots, _spectra,
                       _symbolic, alpha, g, h, sig, sym_avg, w, white_mc)

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


_TRUNCATION = "series truncation bound (λ+/|w|)·λ+^j/(1 − λ+/|w|) at |w| = 10⁸ λ+"


def _moment_compare(solve_g):
    """−w g(w) = 1 + m1/w + m2/w² + O(|w|⁻³) at w = R e^{iπ/3}: normalisation, mean and second moment."""

    def compare(st, ref, ctx):
        out = Outcome()
        for name, spec, wts in _spectra(ctx):
            sp_m = _mpf(spec)
            w_m = _mpf(wts)
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
                    tol = tolerance.combine(tolerance.bound(trunc, _TRUNCATION),
                                            tolerance.precision(ctx.dps, scale=float(R) ** j))
                    p = {"spectrum": name, "alpha": a, "moment": lab}
                    v = mpmath.re(v) if mpmath.isfinite(v) else mpmath.mpf("nan")
                    out.cases.append(checks.mp_case(p, v, r, tol) if mpmath.isfinite(v) else Case(p, float("nan"), float(r), tol))
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
        return _mc_outcome(items)

    return compare


D12 = Derivation(
    id="D.12",
    title="Stieltjes transform of the Wishart spectrum (generalised Marchenko–Pastur)",
    paper_ref=PaperRef("D.12", "Appendix D.4", note="Silverstein's equation (docs/mathematics.md §D)"),
    statement=d12_statement,
    display=lambda st: [sp.Eq(g, _avg(st["summand"]))],
    variables=[Variable(w, "argument of g(w) = (1/d)E Tr(C − w)⁻¹", sp.S.Complexes - sp.Interval(0, sp.oo)), Variable(g, "Stieltjes transform", "Im g > 0 for Im w > 0"),
               Variable(sig, "eigenvalue of Σ0", sp.Interval.open(0, sp.oo)), Variable(alpha, "d/N", sp.Interval.open(0, sp.oo))],
    assumptions=["known-mean Wishart C", "d, N → ∞ at fixed α"],
    checks=[
        _symbolic("sympy: Marchenko–Pastur quadratic", _d12_sym,
                        description="for Σ0 = I, D.12 is (up to a g-free factor) the MP quadratic α w g² − (1 − α − w) g + 1 = 0"),
        checks.numeric("mpmath: exact moments at large |w|", "mpmath", _moment_compare(_solve_g_d12),
                       reference=_moments_ref,
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
    display=lambda st: [sp.Eq(h, st["h_fixed_point"].subs(A, _avg(st["h_summand"]))), sp.Eq(g, _avg(st["g_summand"]))],
    variables=[Variable(h, "h = 1 − α − α w g", "Im h ≤ 0 for Im w > 0; h ∈ (0, 1] for w < 0"),
               Variable(w, "argument", sp.S.Complexes - sp.Interval(0, sp.oo)), Variable(sig, "eigenvalue of Σ0", sp.Interval.open(0, sp.oo)), Variable(alpha, "d/N", sp.Interval.open(0, sp.oo))],
    assumptions=["known-mean Wishart C", "d, N → ∞ at fixed α"],
    checks=[
        _symbolic("sympy: equivalent to D.12", _d13_sym,
                        description="with g = ⟨1/(σh − w)⟩, the h equation is the definition h = 1 − α − α w g (three-point spectrum)"),
        checks.numeric("mpmath: exact moments at large |w|", "mpmath", _moment_compare(_solve_g_d13),
                       reference=_moments_ref,
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
    ax.set_ylabel("density (per eigenvalue, i.e. per dimension)")
    ax.set_title(f"reproduction of fig. 2a: Σ0 = I, d = {d}, N = d/α, known mean, 20 draws; no schedule enters",
                 fontsize=8)
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
                      caption="reproduction — MP densities for α = 0.25, 0.5, 2 against histograms of tridiagonal Wishart draws (d = 400); "
                              "for α > 1 a point mass 1 − 1/α sits at 0."),
               Figure("extrapolation", "Finite-size extrapolation in 1/d", _fig_extrap,
                      caption="Monte Carlo (1/d)E Tr(C+z)⁻¹ against 1/d with the weighted fit v∞ + b/d.")]
