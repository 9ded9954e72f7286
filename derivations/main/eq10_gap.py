"""eq.10 — train–test gap of the (regularised) optimal linear denoiser.

For W_t = s_t(ᾱ_t(C + cI) + (1 − ᾱ_t)I)^{-1}, b_t = −a_t W_t m, δ = μ0 − m:
L_t^test − L_t^train = Σ_i ᾱ(1 − ᾱ)(Σ̃_ii − λ_i + (u_iᵀδ)²) / (ᾱ(λ_i + c) + 1 − ᾱ)²,
Σ̃_ii = u_iᵀΣ0u_i; "train" excludes the penalty; summed over the d directions, one timestep.
The identity holds for any C ⪰ 0 and m (not only the empirical ones), which the checks use.
"""

import numpy as np
import sympy as sp

from lindiff_verify.verification import checks, tolerance
from lindiff_verify.theory.denoiser import LinearDenoiser, training_loss
from lindiff_verify.verification.registry import Case, Derivation, Mutant, Outcome, PaperRef, Variable

lam = sp.Symbol("lambda", nonnegative=True)
sig = sp.Symbol("Sigma_ii", nonnegative=True)
q = sp.Symbol("q", real=True)  # u_iᵀ δ
c = sp.Symbol("c", nonnegative=True)
abar = sp.Symbol("alphabar", positive=True)

summand = abar * (1 - abar) * (sig - lam + q**2) / (abar * (lam + c) + 1 - abar) ** 2


# -- check 1: SymPy, from the trace form of eq.6 in the eigenbasis of C (traces are rotation invariant) -----
def _algebra(st):
    n = 2
    lams = sp.symbols("lambda1 lambda2", nonnegative=True)
    p = sp.symbols("p11 p12 p22", real=True)
    S0 = sp.Matrix([[p[0], p[1]], [p[1], p[2]]])  # Σ0 in C's eigenbasis: Σ̃ (not diagonal)
    delta = sp.Matrix(sp.symbols("q1 q2", real=True))  # Uᵀδ
    mu0 = sp.Matrix(sp.symbols("mu1 mu2", real=True))
    mvec = mu0 - delta
    Cd = sp.diag(*lams)
    a, s = sp.sqrt(abar), sp.sqrt(1 - abar)
    W = (s * (abar * (Cd + c * sp.eye(n)) + (1 - abar) * sp.eye(n)).inv())
    b = -a * W * mvec
    A = sp.eye(n) - s * W

    def loss(M, mu):
        v = a * W * mu + b
        return (A * A.T).trace() + abar * (W * M * W.T).trace() + (v.T * v)[0, 0]

    gap = loss(S0, mu0) - loss(Cd, mvec)
    trace_form = abar * (W * (S0 - Cd + delta * delta.T) * W.T).trace()
    eig_sum = sum((st["summand"].xreplace({lam: lams[i], sig: S0[i, i], q: delta[i]}) for i in range(n)), sp.Integer(0))
    return {"test − train − ᾱTr[W(Σ0 − C + δδᵀ)Wᵀ]": gap - trace_form, "test − train − Σ_i summand_i": gap - eig_sum}


def _simplify(e):
    """Exact value at one rational point first (ᾱ = 9/25: √ᾱ and √(1 − ᾱ) rational); nonzero proves the residual
    is not identically 0 and is returned; otherwise the residual is simplified exactly."""
    pt = {abar: sp.Rational(9, 25), c: sp.Rational(3, 11)}
    pt.update({sym: sp.Rational(k + 2, k + 3) for k, sym in enumerate(sorted(e.free_symbols - set(pt), key=str))})
    v = sp.cancel(sp.together(e.xreplace(pt)))
    return v if v != 0 else sp.cancel(sp.together(sp.expand(e)))


def _cases(ctx):
    return ctx.pick(quick=[(3, 0.3, 0.0), (4, 0.7, 0.5), (4, 0.05, 1.0)],
                    full=[(3, 0.3, 0.0), (4, 0.7, 0.5), (4, 0.05, 1.0), (6, 0.95, 0.2), (6, 0.5, 2.0)])


def _problem(rng, dim):
    """Arbitrary C ⪰ 0 (rank-deficient half of the time), m, and a population (μ0, Σ0) with Σ0 ≠ C."""
    A = rng.standard_normal((dim, dim - 1))
    Cn = A @ A.T / dim
    B = rng.standard_normal((dim, dim))
    S0 = B @ B.T / dim + 0.2 * np.eye(dim)
    mu0 = rng.uniform(-1, 1, dim)
    mvec = mu0 + rng.uniform(-1.5, 1.5, dim)
    return Cn, mvec, S0, mu0


def _eval_sum(st, Cn, mvec, S0, mu0, ab, cc):
    f = checks.lambdify((lam, sig, q, abar, c), st["summand"])
    ev, U = np.linalg.eigh(Cn)
    ev = np.clip(ev, 0, None)
    diag = np.einsum("ij,ik,kj->j", U, S0, U)
    qq = U.T @ (mu0 - mvec)
    return float(np.sum(f(ev, diag, qq, ab, cc) * np.ones_like(ev)))


# -- check 2: Monte Carlo over test data x0 ~ N(μ0, Σ0) and noise ε ----------------------------------------
def _mc_reference(ctx):
    rng = ctx.rng("mc")
    n = ctx.pick(quick=120000, full=2000000)
    out = []
    for dim, ab, cc in _cases(ctx):
        Cn, mvec, S0, mu0 = _problem(rng, dim)
        a, s = np.sqrt(ab), np.sqrt(1 - ab)
        W = s * np.linalg.inv(ab * (Cn + cc * np.eye(dim)) + (1 - ab) * np.eye(dim))
        b = -a * W @ mvec
        x0 = mu0 + rng.standard_normal((n, dim)) @ np.linalg.cholesky(S0).T
        e = rng.standard_normal((n, dim))
        r = e - (a * x0 + s * e) @ W.T - b
        sq = np.sum(r * r, axis=1)
        train = float(training_loss(W, b, Cn, mvec, ab, include_penalty=False))  # eq.6, verified separately
        out.append(({"d": dim, "alphabar": ab, "c": cc}, (Cn, mvec, S0, mu0), float(sq.mean()) - train,
                    float(sq.std(ddof=1) / np.sqrt(n))))
    return out


def _mc_compare(st, ref, ctx):
    out = Outcome()
    for params, prob, gap_mc, se in ref:
        val = _eval_sum(st, *prob, params["alphabar"], params["c"])
        tol = tolerance.monte_carlo(se)
        out.cases.append(Case({**params, "se": se}, val, gap_mc, tol))
    return out


# -- check 3: dense trace formulas at many random problems (no eigen-sum), float64 ---------------------------
def _dense_reference(ctx):
    rng = ctx.rng("dense")
    out = []
    for dim in ctx.pick(quick=[2, 5, 8], full=[2, 5, 8, 16, 32]):
        for ab, cc in ((0.02, 0.0), (0.5, 0.3), (0.98, 1.5)):
            Cn, mvec, S0, mu0 = _problem(rng, dim)
            a, s = np.sqrt(ab), np.sqrt(1 - ab)
            W = s * np.linalg.solve(ab * (Cn + cc * np.eye(dim)) + (1 - ab) * np.eye(dim), np.eye(dim))
            b = -a * W @ mvec
            A = np.eye(dim) - s * W
            test = np.trace(A @ A.T) + ab * np.trace(W @ S0 @ W.T) + np.sum((a * W @ mu0 + b) ** 2)
            train = np.trace(A @ A.T) + ab * np.trace(W @ Cn @ W.T) + np.sum((a * W @ mvec + b) ** 2)
            out.append(({"d": dim, "alphabar": ab, "c": cc}, (Cn, mvec, S0, mu0), test - train, abs(test) + abs(train)))
    return out


def _dense_compare(st, ref, ctx):
    out = Outcome()
    for params, prob, gap, scale in ref:
        val = _eval_sum(st, *prob, params["alphabar"], params["c"])
        tol = tolerance.float64(scale=scale * params["d"], n_ops=tolerance.FLOAT64_OPS_LINEAR_ALGEBRA)
        out.cases.append(Case(params, val, gap, tol))
    return out


eq10 = Derivation(
    id="eq.10",
    title="Train–test gap of the optimal linear denoiser",
    paper_ref=PaperRef("eq.10", "§3.1 Test and residual loss"),
    statement={"summand": summand},
    display=lambda st: [sp.Eq(sp.Symbol("L_t^{test} − L_t^{train}"), sp.Sum(st["summand"], (sp.Symbol("i"), 1, sp.Symbol("d"))))],
    variables=[
        Variable(lam, "eigenvalue λ_i of C", sp.Interval(0, sp.oo)),
        Variable(sig, "Σ̃_ii = u_iᵀΣ0u_i", sp.Interval(0, sp.oo)),
        Variable(q, "u_iᵀδ, δ = μ0 − m", sp.S.Reals),
        Variable(c, "regularisation (γ_t = c ᾱ_t)", sp.Interval(0, sp.oo)),
        Variable(abar, "ᾱ_t", sp.Interval.open(0, 1)),
    ],
    assumptions=["W_t, b_t the eq.8 optimum with γ_t = cᾱ_t", "train loss without the penalty term",
                 "noise average exact (eq.6) in both losses", "summed over the d eigen-directions of C"],
    checks=[
        checks.symbolic("sympy: test − train from the trace form (d=2, C's eigenbasis)", _algebra, simplify=_simplify),
        checks.numeric("Monte Carlo over test data and noise", "montecarlo", _mc_compare, reference=_mc_reference,
                       error_model="Monte Carlo: z·SE of the test-loss average (train loss exact), Bonferroni over cases"),
        checks.numeric("dense trace formulas (no eigenbasis)", "numeric", _dense_compare, reference=_dense_reference),
    ],
    mutants=[
        Mutant("gap without (u_iᵀδ)²", "mean mismatch dropped",
               replace={"summand": abar * (1 - abar) * (sig - lam) / (abar * (lam + c) + 1 - abar) ** 2}),
        Mutant("λ_i + 2c", "regularisation doubled",
               replace={"summand": abar * (1 - abar) * (sig - lam + q**2) / (abar * (lam + 2 * c) + 1 - abar) ** 2}),
        Mutant("denominator not squared", "single power",
               replace={"summand": abar * (1 - abar) * (sig - lam + q**2) / (abar * (lam + c) + 1 - abar)}),
        Mutant("missing (1 − ᾱ)", "ᾱ(Σ̃ − λ + q²)/(…)²",
               replace={"summand": abar * (sig - lam + q**2) / (abar * (lam + c) + 1 - abar) ** 2}),
    ],
    claim_kind="exact",
    regime="any C ⪰ 0, m, μ0, Σ0 ⪰ 0; 0 < ᾱ < 1; c ≥ 0",
    notes="Implemented by lindiff_verify.theory.denoiser.LinearDenoiser.gap (arbitrary γ_t: Σ_i ᾱ w_ti²(Σ̃_ii − λ_i + (u_iᵀδ)²)).",
)
