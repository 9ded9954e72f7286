"""eq.2 / eq.6 — training loss of the affine denoiser with the noise average done exactly.

L_t(W, b) = (1/N) Σ_μ E_ε ‖ε − W(a_t x^μ + s_t ε) − b‖² + γ_t ‖W‖_F²
          = Tr[(I − s_t W)(I − s_t W)ᵀ] + ᾱ_t Tr[W C Wᵀ] + ‖a_t W m + b‖² + γ_t ‖W‖_F²,
with m the empirical mean and C = (1/N) Σ_μ (x^μ − m)(x^μ − m)ᵀ (estimated-mean convention, any W, b).
Known-mean variant (C = (1/N) Σ x xᵀ, m = 0): the same formula holds for the bias-free model b = 0.
The loss is summed over the d output directions (not divided by d); one timestep.
"""


from functools import partial

import numpy as np
import sympy as sp
from array_api_compat import array_namespace

from lindiff_verify.simulation.streaming import normal_statistic, stream_moments
from lindiff_verify.verification import checks, tolerance
from lindiff_verify.verification.registry import Case, Derivation, Mutant, Outcome, PaperRef, Variable

d = sp.Symbol("d", integer=True, positive=True)
N = sp.Symbol("N", integer=True, positive=True)
abar = sp.Symbol("alphabar", positive=True)
gamma = sp.Symbol("gamma", nonnegative=True)
W = sp.MatrixSymbol("W", d, d)
C = sp.MatrixSymbol("C", d, d)
m = sp.MatrixSymbol("m", d, 1)
b = sp.MatrixSymbol("b", d, 1)
I = sp.Identity(d)
a_t, s_t = sp.sqrt(abar), sp.sqrt(1 - abar)
_v = a_t * W * m + b

statement = {
    "noise_term": sp.Trace((I - s_t * W) * (I - s_t * W).T),
    "data_term": abar * sp.Trace(W * C * W.T),
    "mean_term": sp.Trace(_v.T * _v),
    "penalty": gamma * sp.Trace(W * W.T),
}


def _explicit(expr, n, mats, scalars):
    """Evaluate a MatrixSymbol expression for a concrete dimension n with explicit matrices."""
    return checks.explicit_matrices(expr, d, n, mats, scalars)


def _loss(st, n, mats, scalars):
    return sum((_explicit(st[k], n, mats, scalars) for k in ("noise_term", "data_term", "mean_term", "penalty")), sp.Integer(0))


# -- check 1: exact noise average by symbolic expansion ---------------------------------------------------
def _algebra(st):
    n, n_samp = 2, 3
    eps = sp.symbols("e0:%d" % n, real=True)
    Wm = sp.Matrix(n, n, sp.symbols("w0:%d" % (n * n), real=True))
    bm = sp.Matrix(sp.symbols("b0:%d" % n, real=True))
    xs = [sp.Matrix(sp.symbols(f"x{mu}_0:{n}", real=True)) for mu in range(n_samp)]
    e = sp.Matrix(eps)
    total = sp.Integer(0)
    for x in xs:
        r = e - Wm * (a_t * x + s_t * e) - bm
        total += sp.expand((r.T * r)[0, 0])
    # E over ε ~ N(0, I): ε_i → 0, ε_i ε_j → δ_ij (the polynomial has degree ≤ 2 in ε)
    poly = sp.Poly(total, *eps)
    avg = sp.Integer(0)
    for mon, coeff in poly.terms():
        if sum(mon) == 0:
            avg += coeff
        elif sum(mon) == 2 and max(mon) == 2:
            avg += coeff
    lhs = avg / n_samp + gamma * sum(w**2 for w in Wm)
    mean = sum(xs, sp.zeros(n, 1)) / n_samp
    Cm = sum(((x - mean) * (x - mean).T for x in xs), sp.zeros(n, n)) / n_samp
    rhs = _loss(st, n, {W: Wm, C: Cm, m: mean, b: bm}, {N: n_samp})
    return {"E_ε of the per-sample loss (d=2, N=3) minus eq.6": lhs - rhs}


# -- check 2: Monte Carlo over explicitly sampled noise ------------------------------------------------------
def _mc_cases(ctx):
    return ctx.pick(quick=[(3, 4, 0.3, 0.0), (3, 4, 0.8, 0.5), (4, 6, 0.6, 0.2)],
                    full=[(3, 4, 0.3, 0.0), (3, 4, 0.8, 0.5), (4, 6, 0.6, 0.2), (6, 10, 0.05, 1.0), (6, 3, 0.95, 0.1)])


NOISE_BATCH = 1 << 16  # noise draws per batch (a batch is one task on a cluster)


def _residual_sq(Wn, bn, x, a, s, e):
    """‖ε − W(a x + s ε) − b‖² for each noise draw ε (the rows of ``e``), in ``e``'s array namespace."""
    xp = array_namespace(e)
    W_, b_, x_ = xp.asarray(Wn), xp.asarray(bn), xp.asarray(x)
    r = e - (a * x_ + s * e) @ W_.T - b_
    return xp.sum(r * r, axis=1)


def _noise_average(ctx, name, n_noise, Wn, bn, x, ab):
    """Streamed Monte Carlo average of the per-sample loss over ε ~ N(0, I) drawn with ctx.xp."""
    stat = partial(_residual_sq, Wn, bn, x, float(np.sqrt(ab)), float(np.sqrt(1 - ab)))
    return stream_moments(normal_statistic(stat, (x.size,), ctx.xp), ctx.batch_seeds(name, n_noise, NOISE_BATCH),
                          map=ctx.map)


def _mc_reference(ctx):
    rng = ctx.rng("mc")  # the training sets, W and b of the cases
    n_noise = ctx.paths(quick=20000, full=200000, what="noise draws per training sample")
    out = []
    for i, (dim, n_samp, ab, g) in enumerate(_mc_cases(ctx)):
        x = rng.standard_normal((n_samp, dim)) * rng.uniform(0.5, 2.0, dim) + rng.uniform(-1.5, 1.5, dim)
        Wn = rng.standard_normal((dim, dim)) / np.sqrt(dim)  # arbitrary, non-symmetric
        bn = rng.standard_normal(dim) * 0.5
        per_sample_means, per_sample_vars = [], []
        for mu in range(n_samp):
            sq = _noise_average(ctx, f"noise case {i} sample {mu}", n_noise, Wn, bn, x[mu], ab)
            per_sample_means.append(float(sq.mean))
            per_sample_vars.append(float(sq.var) / sq.n)
        mc = float(np.mean(per_sample_means)) + g * float(np.sum(Wn * Wn))
        se = float(np.sqrt(np.sum(per_sample_vars))) / n_samp  # stratified mean over the N samples
        mean = x.mean(axis=0)
        Cn = (x - mean).T @ (x - mean) / n_samp
        out.append(({"d": dim, "N": n_samp, "alphabar": ab, "gamma": g}, Wn, bn, Cn, mean, mc, se))
    return out


def _mc_compare(st, ref, ctx):
    out = Outcome()
    for params, Wn, bn, Cn, mean, mc, se in ref:
        val = float(_loss(st, params["d"], {W: Wn, C: Cn, m: mean.reshape(-1, 1), b: bn.reshape(-1, 1)},
                          {abar: params["alphabar"], gamma: params["gamma"], N: params["N"]}))
        tol = tolerance.monte_carlo(se)
        out.cases.append(Case({**params, "se": se}, val, mc, tol))
    return out


eq2_eq6 = Derivation(
    id="eq.6",
    title="Training loss with the exact noise average (eq.2 → eq.6)",
    paper_ref=PaperRef("eq.6", "§2–3.1 Training loss", note="eq.2 defines the loss, eq.6 is its noise average"),
    statement=statement,
    display=lambda st: [sp.Eq(sp.Symbol("L_t"), sum(st.values(), sp.Integer(0)))],
    variables=[
        Variable(W, "weight matrix of the affine denoiser (any d×d matrix)", "ℝ^{d×d}"),
        Variable(b, "bias", "ℝ^d"),
        Variable(C, "empirical covariance (1/N) Σ (x − m)(x − m)ᵀ", "C ⪰ 0"),
        Variable(m, "empirical mean of the training set", "ℝ^d"),
        Variable(abar, "ᾱ_t", sp.Interval.open(0, 1)),
        Variable(gamma, "ridge penalty γ_t", sp.Interval(0, sp.oo)),
    ],
    assumptions=["ε ~ N(0, I), average over ε exact (E ε = 0, E εεᵀ = I)", "x_t = a_t x_0 + s_t ε (eq.1)",
                 "C with the 1/N normalisation and the estimated mean (known-mean data: C = (1/N)Σxxᵀ with b = 0)",
                 "loss summed over the d output directions, one timestep"],
    checks=[
        checks.symbolic("sympy: expand E_ε‖ε − W x_t − b‖² (d=2, N=3)", _algebra, simplify=sp.expand,
                        description="per-sample loss expanded as a polynomial in ε, moments E ε_i = 0, E ε_iε_j = δ_ij, "
                                    "averaged over 3 symbolic samples; compared with eq.6 at the explicit m and C"),
        checks.numeric("Monte Carlo over sampled noise", "montecarlo", _mc_compare, reference=_mc_reference,
                       description="explicit ε draws for each training sample, arbitrary non-symmetric W and b"),
    ],
    mutants=[
        Mutant("a_t instead of ᾱ_t in the data term", "√ᾱ Tr[W C Wᵀ]",
               replace={"data_term": a_t * sp.Trace(W * C * W.T)}),
        Mutant("missing s_t in the noise term", "Tr[(I − W)(I − W)ᵀ]",
               replace={"noise_term": sp.Trace((I - W) * (I - W).T)}),
        Mutant("mean term without a_t", "‖W m + b‖²", replace={"mean_term": sp.Trace((W * m + b).T * (W * m + b))}),
        Mutant("N − 1 instead of N in C", "ᾱ N/(N − 1) Tr[W C Wᵀ] (unbiased covariance)",
               replace={"data_term": abar * N / (N - 1) * sp.Trace(W * C * W.T)}),
    ],
    claim_kind="exact",
    regime="any W, b; any training set with N ≥ 1; 0 < ᾱ < 1; γ ≥ 0",
    notes="The identity is the bias–variance split of (1/N)Σ_μ‖aWx^μ + b‖² = ‖aWm + b‖² + ᾱTr[WCWᵀ] plus "
          "E_ε‖(I − sW)ε‖² = Tr[(I − sW)(I − sW)ᵀ].",
)


# ======================================================================================================
# eq.2 — the per-sample noise average (one training point x; the building block of eq.6)
x0 = sp.MatrixSymbol("x", d, 1)
_u = a_t * W * x0 + b
statement_eq2 = {
    "noise_term": sp.Trace((I - s_t * W) * (I - s_t * W).T),
    "signal_term": sp.Trace(_u.T * _u),
}


def _loss2(st, n, mats, scalars):
    return _explicit(st["noise_term"], n, mats, scalars) + _explicit(st["signal_term"], n, mats, scalars)


def _algebra2(st):
    n = 2
    eps = sp.symbols("e0:%d" % n, real=True)
    Wm = sp.Matrix(n, n, sp.symbols("w0:%d" % (n * n), real=True))
    bm = sp.Matrix(sp.symbols("b0:%d" % n, real=True))
    x = sp.Matrix(sp.symbols("x0:%d" % n, real=True))
    e = sp.Matrix(eps)
    r = e - Wm * (a_t * x + s_t * e) - bm
    poly = sp.Poly(sp.expand((r.T * r)[0, 0]), *eps)
    avg = sum((cf for mon, cf in poly.terms() if sum(mon) == 0 or (sum(mon) == 2 and max(mon) == 2)), sp.Integer(0))
    return {"E_ε‖ε − W(a x + s ε) − b‖² minus eq.2 average (d=2)": avg - _loss2(st, n, {W: Wm, b: bm, x0: x}, {})}


def _mc2_reference(ctx):
    rng = ctx.rng("mc")  # x, W and b of the cases
    n_noise = ctx.paths(quick=40000, full=400000, what="noise draws per case")
    out = []
    for i, (dim, ab) in enumerate(ctx.pick(quick=[(2, 0.3), (4, 0.8)], full=[(2, 0.3), (4, 0.8), (8, 0.05), (8, 0.97)])):
        x = rng.standard_normal(dim) + 1.0
        Wn = rng.standard_normal((dim, dim)) / np.sqrt(dim)
        bn = rng.standard_normal(dim)
        sq = _noise_average(ctx, f"noise case {i}", n_noise, Wn, bn, x, ab)
        out.append(({"d": dim, "alphabar": ab}, Wn, bn, x, float(sq.mean), float(np.sqrt(sq.var / sq.n))))
    return out


def _mc2_compare(st, ref, ctx):
    out = Outcome()
    for params, Wn, bn, x, mc, se in ref:
        val = float(_loss2(st, params["d"], {W: Wn, b: bn.reshape(-1, 1), x0: x.reshape(-1, 1)}, {abar: params["alphabar"]}))
        tol = tolerance.monte_carlo(se)
        out.cases.append(Case({**params, "se": se}, val, mc, tol))
    return out


eq2 = Derivation(
    id="eq.2",
    title="Noise average of the per-sample denoising loss",
    paper_ref=PaperRef("eq.2", "§2 Linear diffusion models", note="the average over infinitely many noise draws"),
    statement=statement_eq2,
    display=lambda st: [sp.Eq(sp.Symbol("E‖ε − W xₜ − b‖²"), st["noise_term"] + st["signal_term"])],
    variables=[
        Variable(W, "weight matrix (any d×d matrix)", "ℝ^{d×d}"),
        Variable(b, "bias", "ℝ^d"),
        Variable(x0, "one clean training sample x_0", "ℝ^d"),
        Variable(abar, "ᾱ_t", sp.Interval.open(0, 1)),
    ],
    assumptions=["ε ~ N(0, I)", "x_t = a_t x_0 + s_t ε (eq.1)", "summed over the d output directions"],
    checks=[
        checks.symbolic("sympy: expand in ε and take Gaussian moments (d=2)", _algebra2, simplify=sp.expand),
        checks.numeric("Monte Carlo over sampled noise", "montecarlo", _mc2_compare, reference=_mc2_reference),
    ],
    mutants=[
        Mutant("noise term (I + sW)", "sign of the cross term flipped", replace={"noise_term": sp.Trace((I + s_t * W) * (I + s_t * W).T)}),
        Mutant("signal term without a_t", "‖W x + b‖²", replace={"signal_term": sp.Trace((W * x0 + b).T * (W * x0 + b))}),
        Mutant("noise term without cross term", "d + s² Tr[W Wᵀ]",
               replace={"noise_term": d + (1 - abar) * sp.Trace(W * W.T)}),
    ],
    claim_kind="exact",
    regime="any W, b, x_0; 0 < ᾱ < 1",
)
