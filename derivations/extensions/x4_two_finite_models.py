"""X.4 — alignment between two finite models (docs/mathematics.md §F.7; ours): E‖ε_N − ε_N′‖² over noised test inputs.

Two optimal affine denoisers trained on independent sets of sizes N and N′ (same z = q + c, same mean variant):
ε(x) = (s/ᾱ) R (x − a m). With x_t = a x0 + s ε, E x_t x_tᵀ = ᾱ(Σ0 + q) (μ0 = 0), per pair of training sets
    A_{N,N′} = q{Tr[(R − R′)(Σ0 + q)(R − R′)] + ‖Rδ − R′δ′‖²},
and averaging over the two independent sets (E δ′ = 0, δ′ independent of the rest)
    E A = q[E Tr R(Σ0+q)R + E δᵀR²δ + E Tr R′(Σ0+q)R′ + E δ′ᵀR′²δ′ − 2 Σ_i (σ_i + q) E[R]_ii E[R′]_ii]:
the fluctuation terms of both sets add; the cross term needs only first-order (diagonal) equivalents.
N′ → ∞: R′ → (Σ0 + z)⁻¹, δ′ → 0, i.e. eq.14. Statement: each model's own term and E[R]_ii from X.5 (leading +
real-Gaussian correction); per eigen-direction symbols σ (Σ0's eigenvalue) for the cross summand.
"""

import numpy as np
import sympy as sp
from threadpoolctl import threadpool_limits

from lindiff_verify.theory.next_order import NextOrder
from lindiff_verify.verification import checks, tolerance
from lindiff_verify.verification.context import stream_key
from lindiff_verify.verification.registry import Case, Derivation, Mutant, Outcome, PaperRef, Variable

from . import _next_order_mc as _mc
from . import x5_next_order_measures as _x5

q, c, z, s = sp.symbols("q c z sigma", positive=True)
_MODEL_SYMS = (sp.Symbol("N", positive=True), sp.Symbol("e_m", positive=True), sp.Symbol("f", positive=True),
               sp.Symbol("rho", positive=True), sp.Symbol("D", positive=True), sp.Symbol("S2", positive=True),
               sp.Symbol("T1", positive=True), *_x5.P.values())
KAP = sp.Symbol("kappa", positive=True)


def _model(tag):
    """{symbol: tagged symbol} for model ``tag`` (a: N, b: N′)."""
    m = {x: sp.Symbol(f"{x.name}_{tag}", positive=True) for x in _MODEL_SYMS}
    m[KAP] = sp.Symbol(f"kappa_{tag}", positive=True)
    return m


A_, B_ = _model("a"), _model("b")


def _pieces(scale, fluct, tag_map, per_n=True):
    """(own term E Tr R(Σ0+q)R + E δᵀR²δ, per-direction E[R]_ii) of one model, in its tagged symbols."""
    st = _x5.build(scale=scale)
    N_, em_, f_, rho_, D_ = (_x5.N, _x5.em, _x5.f, _x5.rho, _x5.D)
    trr2 = st["trR2"] if fluct else _x5.rho**2 * _x5.S2 + st["dTrR2"]
    own = st["trRSR"] + q * trr2 + st["dR2d"]
    sr = s / f_  # the reduced problem's eigenvalue σ' = σ N_eff/N
    p22 = 1 - D_
    r = rho_ / (sr + KAP) + scale * rho_ / ((N_ if per_n else 1) * D_) * (sr**2 / (sr + KAP) ** 3
                                                        + (_x5.P[(3, 3)] - p22) * sr / (D_ * (sr + KAP) ** 2))
    sub = {x: tag_map[x] for x in (*_MODEL_SYMS, KAP)}
    return own.xreplace(sub), r.xreplace(sub)


def build(scale=1, fluct_b=True, cross=2, per_n=True, same=False):
    own_a, r_a = _pieces(scale, True, A_, per_n)
    own_b, r_b = _pieces(scale, fluct_b, B_, per_n)
    return {"own_a": own_a, "own_b": own_b, "r_a": r_a, "r_b": r_b,
            "cross_summand": (s + q) * r_a * (r_a if same else r_b), "A_without_cross": q * (own_a + own_b), "cross_factor": -cross * q}


STATEMENT = build()
MODEL_ARGS = tuple(A_[x] for x in (*_MODEL_SYMS, KAP)) + tuple(B_[x] for x in (*_MODEL_SYMS, KAP))


def _assembler(st):
    """E A(vals_a, vals_b, σ, q) = A_without_cross + cross_factor · Σ_i cross_summand(σ_i) (the sum done numerically)."""
    args = (q, s) + MODEL_ARGS
    summ, base, fac = (checks.lambdify(args, st[k]) for k in ("cross_summand", "A_without_cross", "cross_factor"))

    def value(vals_a, vals_b, sig, qv):
        va = [vals_a[x] for x in (*_MODEL_SYMS, KAP)]
        vb = [vals_b[x] for x in (*_MODEL_SYMS, KAP)]
        total = float(np.sum(np.broadcast_to(summ(qv, sig, *va, *vb), sig.shape)))
        return float(base(qv, 1.0, *va, *vb)) + float(fac(qv, 1.0, *va, *vb)) * total

    return value


# ---------------------------------------------------------------------------------------------- (a) algebra


def _limit(st):
    """N′ → ∞ (κ′ = z, ρ′ = 1, D′ = 1, p′_ab = (sum)/N′ → 0, e_m′ = 0, f′ = 1): E[R′]_ii → 1/(σ + z), the own
    term → Σ(σ+q)/(σ+z)² (per direction (σ+q)/(σ+z)² with S2′, T1′ per-direction), and E A → eq.14 (X.5's align)."""
    u = sp.Symbol("u", positive=True)  # 1/N′
    b = {B_[_x5.rho]: 1, B_[_x5.D]: 1, B_[KAP]: z, B_[_x5.em]: 0, B_[_x5.f]: 1}
    r_lim = sp.limit(st["r_b"].subs(b).subs({B_[x]: sp.Symbol(f"P{x.name}") * u for x in _x5.P.values()})
                     .subs(B_[_x5.N], 1 / u), u, 0)
    own1 = st["own_b"].subs(b).subs({B_[x]: 0 for x in _x5.P.values()})
    own1 = sp.limit(own1.subs(B_[_x5.N], 1 / u), u, 0)
    # per direction: S2′ → 1/(σ+z)², T1′ → σ/(σ+z)²
    own1 = own1.subs({B_[_x5.S2]: 1 / (s + z) ** 2, B_[_x5.T1]: s / (s + z) ** 2})
    return {"E[R′]_ii → (σ + z)⁻¹": r_lim - 1 / (s + z),
            "own term of N′ → (σ + q)/(σ + z)² per direction": own1 - (s + q) / (s + z) ** 2}


def _symmetry(st):
    """E A is symmetric in the two training sets: swapping the tags leaves both parts unchanged."""
    swap = {**{A_[x]: B_[x] for x in A_}, **{B_[x]: A_[x] for x in B_}}
    return {"A_without_cross symmetric": st["A_without_cross"] - st["A_without_cross"].xreplace(swap),
            "cross summand symmetric": st["cross_summand"] - st["cross_summand"].xreplace(swap)}


# ---------------------------------------------------------------------------------------------- (b) Monte Carlo
MC_SPECTRA = ("k=0", "k=2, σ1=1", "k=1, TrΣ0=d")
MC_PAIRS = ((0.5, 2.0), (2.0, 2.0))  # (N/d, N′/d)
MC_QC = ((0.01, 0.0), (0.3, 0.1), (3.0, 0.0))


def _mc_reference(ctx):
    """Pairs of independent dense Wishart draws at d = 50 (both means), A_{N,N′} per pair from the definition."""
    pairs = ctx.pick(quick=300, full=3000)
    ctx.seeds_used.append({"stream": "X.4/pairs", "entropy": ctx.seed, "spawn_key": list(stream_key("X.4", "pairs"))})
    rng = np.random.default_rng(np.random.SeedSequence(ctx.seed, spawn_key=stream_key("X.4", "pairs")))
    out = {}
    with threadpool_limits(limits=1):
        for lab in MC_SPECTRA:
            sig = _mc.spectrum(*_mc.SPECTRA[lab])
            for a, b in MC_PAIRS:
                for est in (False, True):
                    n, n2 = int(round(_mc.D_MC * a)), int(round(_mc.D_MC * b))
                    out[(lab, a, b, est)] = _mc.pair_alignment(sig, n, n2, est, MC_QC, pairs, rng)
    return out


def _vals(sig, n, est, zv, tag):
    e = NextOrder.from_spectrum(zv, sig, n, est, order="leading")
    v = {_x5.N: e.n_eff, _x5.em: (1 / n if est else 0.0), _x5.f: n / e.n_eff, _x5.rho: float(e.rho[0]),
         _x5.D: float(e.D[0]), _x5.S2: float(e.S2[0]), _x5.T1: float(e.T1[0]), KAP: float(e.kappa[0])}
    v.update({_x5.P[k]: float(e.p[k][0]) for k in _x5.P})
    return v


def _mc_compare(st, ref, ctx):
    """E A of the statement (sums from the leading-order solver only) against the pair Monte Carlo; z·SE,
    Bonferroni over all cases; single d = 50, no extrapolation."""
    n_cases = len(ref) * len(MC_QC)
    assemble = _assembler(st)
    out = Outcome()
    zmax = 0.0
    for (lab, a, b, est), (mean, se) in ref.items():
        sig = _mc.spectrum(*_mc.SPECTRA[lab])
        n, n2 = int(round(_mc.D_MC * a)), int(round(_mc.D_MC * b))
        for j, (qv, cv) in enumerate(MC_QC):
            zv = qv + cv
            v = assemble(_vals(sig, n, est, zv, "a"), _vals(sig, n2, est, zv, "b"), sig, qv)
            tol = tolerance.monte_carlo(se[j], n_cases)
            out.tolerance_model = tol.model
            zmax = max(zmax, abs(v - mean[j]) / se[j])
            out.cases.append(Case({"spectrum": lab, "d": _mc.D_MC, "N": n, "N′": n2, "mean": "estimated" if est else "known",
                                   "q": qv, "c": cv}, v, float(mean[j]), float(tol.value)))
    out.measurements["max |statement − MC|/SE"] = zmax
    return out


X4 = Derivation(
    id="X.4", title="Alignment between two finite models, E‖ε_N − ε_N′‖² (leading and next order)",
    paper_ref=PaperRef("X.4", "§F.7 / fig. 1d (reference model trained on a disjoint subset)",
                       note="not in the paper; ours, from the second-order equivalents (X.5)"),
    statement=STATEMENT,
    display=[sp.Eq(sp.Symbol("E A_{N,N′}"), sp.Symbol("A_without_cross") + sp.Symbol("cross_factor")
                   * sp.Sum(sp.Symbol("cross_summand(σ_i)"), (sp.Symbol("i"), 1, sp.Symbol("d")))),
             sp.Eq(sp.Symbol("E[R]_ii"), STATEMENT["r_a"])],
    variables=[Variable(q, "q_t", "q > 0"), Variable(s, "eigenvalue σ_i of Σ0", "σ > 0"),
               Variable(z, "z = q + c", "z > 0")]
              + [Variable(A_[x], f"{x.name} of the set of size N (X.5)", "see X.5") for x in (*_MODEL_SYMS, KAP)]
              + [Variable(B_[x], f"{x.name} of the set of size N′ (X.5)", "see X.5") for x in (*_MODEL_SYMS, KAP)],
    assumptions=["two independent training sets, same regularisation c and mean variant", "X.5's equivalents"],
    checks=[
        checks.symbolic("sympy: N′ → ∞ gives the population model (eq.14)", _limit, simplify=sp.cancel),
        checks.symbolic("sympy: symmetric in the two training sets", _symmetry, simplify=sp.cancel),
        checks.numeric("Monte Carlo over pairs of independent Wishart draws at ONE d = 50", "montecarlo",
                       _mc_compare, reference=_mc_reference,
                       error_model="Monte Carlo z·SE over pairs, Bonferroni over all cases (no extrapolation in d)"),
    ],
    mutants=[
        Mutant("leading form passed off as corrected", "corrections 0", replace=build(scale=0)),
        Mutant("wrong fluctuation coefficient", "corrections doubled", replace=build(scale=2)),
        Mutant("N′ treated as deterministic (its fluctuation dropped)", "no T1²/(N′D′) in the own term of N′",
               replace=build(fluct_b=False)),
        Mutant("cross term counted once", "−q Σ(σ+q)E[R]E[R′]", replace=build(cross=1)),
        Mutant("diagonal correction without 1/N", "ΔE[R]_ii = (ρ/D)[…]", replace=build(per_n=False)),
        Mutant("cross term from one model only", "Σ(σ+q)E[R]_ii²", replace=build(same=True)),
    ],
    claim_kind="asymptotic",
    regime="finite d, N, N′ (z > 0); real Gaussian data; remainder O(1/d) absolute as in X.5",
    notes="N′ = N gives twice the fluctuation part of one model: E A = 2q[E Tr R(Σ0+q)R + E δᵀR²δ − Σ(σ+q)E[R]_ii²].",
)
