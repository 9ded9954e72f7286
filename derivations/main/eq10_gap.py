"""eq.10 — train–test gap of the (regularised) optimal linear denoiser, with a general γ_t (docs/mathematics.md §F.4).

For W_t = s_t(ᾱ_t C + (1 − ᾱ_t + γ_t)I)^{-1} (the eq.8 optimum of the loss with penalty γ_t‖W‖²), b_t = −a_t W_t m,
δ = μ0 − m:
L_t^test − L_t^train = Σ_i ᾱ(1 − ᾱ)(Σ̃_ii − λ_i + (u_iᵀδ)²) / (ᾱλ_i + 1 − ᾱ + γ_t)²   (the paper's: "γ_t in the
denominator of 10"); its corollary for γ_t = c·ᾱ_t is the c-form with (ᾱ(λ_i + c) + 1 − ᾱ)² (``summand_c``).
Σ̃_ii = u_iᵀΣ0u_i; "train" excludes the penalty; summed over the d directions, one timestep.
The identity holds for any C ⪰ 0 and m (not only the empirical ones), which the checks use.
"""

from functools import partial

import numpy as np
import sympy as sp
from array_api_compat import array_namespace

from lindiff_verify.model import schedules
from lindiff_verify.simulation.streaming import normal_statistic, stream_moments
from lindiff_verify.verification import checks, tolerance
from lindiff_verify.theory.denoiser import LinearDenoiser, training_loss
from lindiff_verify.verification.registry import Case, Derivation, Mutant, Outcome, PaperRef, Variable

lam = sp.Symbol("lambda", nonnegative=True)
sig = sp.Symbol("Sigma_ii", nonnegative=True)
q = sp.Symbol("q", real=True)  # u_iᵀ δ
c = sp.Symbol("c", nonnegative=True)
gam = sp.Symbol("gamma_t", nonnegative=True)
abar = sp.Symbol("alphabar", positive=True)

summand = abar * (1 - abar) * (sig - lam + q**2) / (abar * lam + 1 - abar + gam) ** 2
summand_c = abar * (1 - abar) * (sig - lam + q**2) / (abar * (lam + c) + 1 - abar) ** 2


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
    W = (s * (abar * Cd + (1 - abar + gam) * sp.eye(n)).inv())
    b = -a * W * mvec
    A = sp.eye(n) - s * W

    def loss(M, mu):
        v = a * W * mu + b
        return (A * A.T).trace() + abar * (W * M * W.T).trace() + (v.T * v)[0, 0]

    gap = loss(S0, mu0) - loss(Cd, mvec)
    trace_form = abar * (W * (S0 - Cd + delta * delta.T) * W.T).trace()
    eig_sum = sum((st["summand"].xreplace({lam: lams[i], sig: S0[i, i], q: delta[i]}) for i in range(n)), sp.Integer(0))
    return {"test − train − ᾱTr[W(Σ0 − C + δδᵀ)Wᵀ]": gap - trace_form, "test − train − Σ_i summand_i": gap - eig_sum,
            "corollary: summand(γ_t = cᾱ_t) − summand_c": st["summand"].xreplace({gam: c * abar}) - st["summand_c"]}


def _simplify(e):
    """Exact value at one rational point first (ᾱ = 9/25: √ᾱ and √(1 − ᾱ) rational); nonzero proves the residual
    is not identically 0 and is returned; otherwise the residual is simplified exactly."""
    pt = {abar: sp.Rational(9, 25), c: sp.Rational(3, 11), gam: sp.Rational(2, 13)}
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


def _eval_sum(st, Cn, mvec, S0, mu0, ab, g, entry="summand"):
    """Σ_i of a statement entry at penalty γ_t = g: ``summand`` directly, ``summand_c`` at c = g/ᾱ (its corollary)."""
    f = checks.lambdify((lam, sig, q, abar, gam, c), st[entry])
    ev, U = np.linalg.eigh(Cn)
    ev = np.clip(ev, 0, None)
    diag = np.einsum("ij,ik,kj->j", U, S0, U)
    qq = U.T @ (mu0 - mvec)
    return float(np.sum(f(ev, diag, qq, ab, g, g / ab) * np.ones_like(ev)))


# -- check 2: Monte Carlo over test data x0 ~ N(μ0, Σ0) and noise ε ----------------------------------------
BATCH = 1 << 16  # test points per batch (a batch is one task on a cluster)


def _test_loss(W, b, mu0, L0, a, s, z):
    """‖ε − W(a x0 + s ε) − b‖² per row of z = [g, ε] (x0 = μ0 + L0 g ~ N(μ0, Σ0)), in z's namespace."""
    xp = array_namespace(z)
    dim = W.shape[0]
    x0 = xp.asarray(mu0) + z[:, :dim] @ xp.asarray(L0.T)
    e = z[:, dim:]
    r = e - (a * x0 + s * e) @ xp.asarray(W.T) - xp.asarray(b)
    return xp.sum(r * r, axis=1)


def _mc_reference(ctx):
    rng = ctx.rng("mc")  # the problems (C, m, μ0, Σ0)
    n = ctx.paths(quick=120000, full=2000000, what="test points and noise draws per case")
    out = []
    for i, (dim, ab, cc) in enumerate(_cases(ctx)):
        Cn, mvec, S0, mu0 = _problem(rng, dim)
        a, s = np.sqrt(ab), np.sqrt(1 - ab)
        W = s * np.linalg.inv(ab * Cn + (1 - ab + cc) * np.eye(dim))  # cc is γ_t
        b = -a * W @ mvec
        stat = partial(_test_loss, W, b, mu0, np.linalg.cholesky(S0), float(a), float(s))
        sq = stream_moments(normal_statistic(stat, (2 * dim,), ctx.xp), ctx.batch_seeds(f"test data case {i}", n, BATCH),
                            map=ctx.map)
        train = float(training_loss(W, b, Cn, mvec, ab, include_penalty=False))  # eq.6, verified separately
        out.append(({"d": dim, "alphabar": ab, "gamma_t": cc}, (Cn, mvec, S0, mu0), float(sq.mean) - train,
                    float(np.sqrt(sq.var / sq.n))))
    return out


def _mc_compare(st, ref, ctx):
    out = Outcome()
    for params, prob, gap_mc, se in ref:
        tol = tolerance.monte_carlo(se)
        for entry in ("summand", "summand_c"):
            val = _eval_sum(st, *prob, params["alphabar"], params["gamma_t"], entry)
            out.cases.append(Case({**params, "entry": entry, "se": se}, val, gap_mc, tol))
    return out


# -- check 3: dense trace formulas at many random problems (no eigen-sum), float64 ---------------------------
def _dense_reference(ctx):
    rng = ctx.rng("dense")
    out = []
    for dim in ctx.pick(quick=[2, 5, 8], full=[2, 5, 8, 16, 32]):
        for ab, cc in ((0.02, 0.0), (0.5, 0.3), (0.98, 1.5)):
            Cn, mvec, S0, mu0 = _problem(rng, dim)
            a, s = np.sqrt(ab), np.sqrt(1 - ab)
            W = s * np.linalg.solve(ab * Cn + (1 - ab + cc) * np.eye(dim), np.eye(dim))  # cc is γ_t
            b = -a * W @ mvec
            A = np.eye(dim) - s * W
            test = np.trace(A @ A.T) + ab * np.trace(W @ S0 @ W.T) + np.sum((a * W @ mu0 + b) ** 2)
            train = np.trace(A @ A.T) + ab * np.trace(W @ Cn @ W.T) + np.sum((a * W @ mvec + b) ** 2)
            out.append(({"d": dim, "alphabar": ab, "gamma_t": cc}, (Cn, mvec, S0, mu0), test - train, abs(test) + abs(train)))
    return out


def _dense_compare(st, ref, ctx):
    out = Outcome()
    for params, prob, gap, scale in ref:
        tol = tolerance.float64(scale=scale * params["d"], n_ops=tolerance.FLOAT64_OPS_LINEAR_ALGEBRA)
        for entry in ("summand", "summand_c"):
            val = _eval_sum(st, *prob, params["alphabar"], params["gamma_t"], entry)
            out.cases.append(Case({**params, "entry": entry}, val, gap, tol))
    return out


# -- check 4: the gap summed over t = 1..T (eq.2's normalisation) on the paper's schedule, dense ----------------------
def _summed_reference(ctx):
    rng = ctx.rng("summed")
    sch = schedules.make_schedule(schedules.PAPER_SCHEDULE)
    a = sch.alphas_cumprod
    out = []
    for dim, cc in ((4, 0.0), (5, 0.1)):
        Cn, mvec, S0, mu0 = _problem(rng, dim)
        g = cc * a  # γ_t = c ᾱ_t
        s = np.sqrt(1 - a)[:, None, None]
        W = s * np.linalg.inv(a[:, None, None] * Cn + (1 - a + g)[:, None, None] * np.eye(dim))
        dm = np.outer(mu0 - mvec, mu0 - mvec)
        per_t = a * np.einsum("tij,jk,tik->t", W, S0 - Cn + dm, W)  # trace form ᾱ Tr[W(Σ0 − C + δδᵀ)Wᵀ]
        out.append(({"d": dim, "c": cc, "gamma_t": "c·ᾱ_t", "schedule": sch.describe(), "normalisation": "total Σ_t"},
                    (Cn, mvec, S0, mu0), a, g, float(per_t.sum()), float(np.abs(per_t).sum())))
    return out


def _compare_summed(st, ref, ctx):
    out = Outcome()
    for params, prob, a, g, total, scale in ref:
        ev, U = np.linalg.eigh(prob[0])
        ev = np.clip(ev, 0, None)
        diag = np.einsum("ij,ik,kj->j", U, prob[2], U)
        qq = U.T @ (prob[3] - prob[1])
        f = checks.lambdify((lam, sig, q, abar, gam, c), st["summand"])
        val = float(np.sum(f(ev[None, :], diag[None, :], qq[None, :], a[:, None], g[:, None], params["c"])
                           * np.ones((a.size, ev.size))))
        tol = tolerance.float64(scale=scale * params["d"], n_ops=1e4)
        out.cases.append(Case(params, val, total, tol))
        out.measurements[f"d={params['d']}, c={params['c']}: gap total Σ_t, per dimension, per dimension and step"] = [
            total, total / params["d"], total / (params["d"] * a.size)]
    return out


_D = abar * lam + 1 - abar + gam  # the general denominator

eq10 = Derivation(
    id="eq.10",
    title="Train–test gap of the optimal linear denoiser (general γ_t; the c-form as its corollary)",
    paper_ref=PaperRef("eq.10", "§3.1 Test and residual loss", note="γ_t in the denominator (docs/mathematics.md §F.4)"),
    statement={"summand": summand, "summand_c": summand_c},
    display=lambda st: [sp.Eq(sp.Symbol("L_t^{test} − L_t^{train}"), sp.Sum(st["summand"], (sp.Symbol("i"), 1, sp.Symbol("d")))),
                        sp.Eq(sp.Symbol("summand (γ_t = c ᾱ_t)"), st["summand_c"])],
    variables=[
        Variable(lam, "eigenvalue λ_i of C", sp.Interval(0, sp.oo)),
        Variable(sig, "Σ̃_ii = u_iᵀΣ0u_i", sp.Interval(0, sp.oo)),
        Variable(q, "u_iᵀδ, δ = μ0 − m", sp.S.Reals),
        Variable(gam, "penalty γ_t of eq.6 (any schedule γ_t ≥ 0)", sp.Interval(0, sp.oo)),
        Variable(c, "regularisation c of the corollary γ_t = c ᾱ_t", sp.Interval(0, sp.oo)),
        Variable(abar, "ᾱ_t", sp.Interval.open(0, 1)),
    ],
    assumptions=["W_t, b_t the eq.8 optimum with penalty γ_t", "train loss without the penalty term",
                 "noise average exact (eq.6) in both losses", "summed over the d eigen-directions of C, one step t "
                 "(the per-t form; eq.2 sums over t = 1..T)", "schedule-independent: holds at every ᾱ_t"],
    checks=[
        checks.symbolic("sympy: test − train from the trace form (d=2, C's eigenbasis); the c-form corollary",
                        _algebra, simplify=_simplify),
        checks.numeric("Monte Carlo over test data and noise", "montecarlo", _mc_compare, reference=_mc_reference,
                       error_model="Monte Carlo: z·SE of the test-loss average (train loss exact), Bonferroni over cases"),
        checks.numeric("dense trace formulas (no eigenbasis)", "numeric", _dense_compare, reference=_dense_reference,
                       error_model="float64 rounding: 1e3·eps·d·(|L_test| + |L_train|)"),
        checks.numeric("summed over t = 1..T on the paper's schedule (eq.2), dense trace form", "numeric",
                       _compare_summed, reference=_summed_reference,
                       error_model="float64 rounding: 1e4·eps·d·Σ_t |gap_t|"),
    ],
    mutants=[
        Mutant("gap without (u_iᵀδ)²", "mean mismatch dropped",
               replace={"summand": abar * (1 - abar) * (sig - lam) / _D**2}),
        Mutant("2γ_t", "penalty doubled", replace={"summand": abar * (1 - abar) * (sig - lam + q**2) / (_D + gam) ** 2}),
        Mutant("γ_t read as c", "ᾱ(λ + γ) + 1 − ᾱ: the general penalty multiplied by ᾱ",
               replace={"summand": summand_c.xreplace({c: gam})}),
        Mutant("denominator not squared", "single power",
               replace={"summand": abar * (1 - abar) * (sig - lam + q**2) / _D}),
        Mutant("missing (1 − ᾱ)", "ᾱ(Σ̃ − λ + q²)/(…)²",
               replace={"summand": abar * (sig - lam + q**2) / _D**2}),
        Mutant("c-form with λ_i + 2c", "regularisation doubled in the corollary",
               replace={"summand_c": abar * (1 - abar) * (sig - lam + q**2) / (abar * (lam + 2 * c) + 1 - abar) ** 2}),
    ],
    schedule="merger_goldt (sum over t = 1..T); per step any ᾱ_t",
    claim_kind="exact",
    regime="any C ⪰ 0, m, μ0, Σ0 ⪰ 0; 0 < ᾱ < 1; γ_t ≥ 0 (c ≥ 0 in the corollary)",
    notes="Implemented by lindiff_verify.theory.denoiser.LinearDenoiser.gap (arbitrary γ_t: Σ_i ᾱ w_ti²(Σ̃_ii − λ_i + (u_iᵀδ)²)). "
          "The checks' problems use γ_t ∈ {0, 0.5, 1} (Monte Carlo) and {0, 0.3, 1.5} (dense); the c-form is evaluated "
          "at c = γ_t/ᾱ_t.",
)
