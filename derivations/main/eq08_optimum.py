"""eq.8 — the optimal affine denoiser (minimiser of the eq.6 loss).

W_t* = s_t (ᾱ_t C + (1 − ᾱ_t + γ_t) I)^{-1},   b_t* = −a_t W_t* m.
For the paper's γ_t = c ᾱ_t: W_t* = (s_t/ᾱ_t)(C + z_t I)^{-1}, z_t = (1 − ᾱ_t)/ᾱ_t + c (C → C + cI).
In the statement, ``W_t`` inside "b" stands for the statement's own "W" entry.
"""

from functools import partial

import numpy as np
import sympy as sp
from array_api_compat import array_namespace

from lindiff_verify.model.backend import standard_normal, to_numpy
from lindiff_verify.verification import checks, tolerance
from lindiff_verify.verification.registry import Case, Derivation, Mutant, Outcome, PaperRef, Variable

d = sp.Symbol("d", integer=True, positive=True)
abar = sp.Symbol("alphabar", positive=True)
gamma = sp.Symbol("gamma", nonnegative=True)
c = sp.Symbol("c", nonnegative=True)
C = sp.MatrixSymbol("C", d, d)
m = sp.MatrixSymbol("m", d, 1)
Wt = sp.MatrixSymbol("W_t", d, d)
I = sp.Identity(d)
a_t, s_t = sp.sqrt(abar), sp.sqrt(1 - abar)

statement = {
    "W": s_t * sp.Inverse(abar * C + (1 - abar + gamma) * I),
    "b": -a_t * Wt * m,
}


def _explicit(expr, n, mats, scalars):
    return checks.explicit_matrices(expr, d, n, mats, scalars, adjugate_inverse=True)


def _optimum(st, n, Cm, mm, scalars):
    Wm = sp.ImmutableMatrix(_explicit(st["W"], n, {C: Cm}, scalars))
    bm = sp.ImmutableMatrix(_explicit(st["b"], n, {Wt: Wm, m: mm}, scalars))
    return Wm, bm


def _numeric_optimum(st, Cn, mn, ab, g):
    n = Cn.shape[0]
    Wm, bm = _optimum(st, n, Cn, mn.reshape(-1, 1), {abar: ab, gamma: g})
    return np.array(Wm, dtype=float), np.array(bm, dtype=float).ravel()


# symbolic 2×2 data: C symmetric, m arbitrary
_c = sp.symbols("c11 c12 c22", real=True)
_C2 = sp.Matrix([[_c[0], _c[1]], [_c[1], _c[2]]])
_m2 = sp.Matrix(sp.symbols("m1 m2", real=True))


def _eq6_loss(Wm, bm):
    """eq.6 (verified in main/eq02_eq06_training_loss.py), written out for explicit 2×2 matrices."""
    A = sp.eye(2) - s_t * Wm
    v = a_t * Wm * _m2 + bm
    return (A * A.T).trace() + abar * (Wm * _C2 * Wm.T).trace() + (v.T * v)[0, 0] + gamma * (Wm * Wm.T).trace()


def _stationarity(st):
    wsym = sp.symbols("w11 w12 w21 w22", real=True)
    bsym = sp.symbols("b1 b2", real=True)
    Wm, bm = sp.Matrix(2, 2, wsym), sp.Matrix(bsym)
    L = sp.expand(_eq6_loss(Wm, bm))
    varz = list(wsym) + list(bsym)
    Wc, bc = _optimum(st, 2, _C2, _m2, {})
    at = dict(zip(varz, list(Wc) + list(bc), strict=True))
    res = {f"∂L/∂{v} at eq.8": sp.diff(L, v).xreplace(at) for v in varz}
    # Hessian (constant): the Schur complement S of the bias block must satisfy S W* = 2 s I; S is
    # 2((1 − ᾱ + γ) I + ᾱ C) ≻ 0 for C ⪰ 0, so the stationary point is the unique minimum.
    H = sp.hessian(L, varz)
    row = [0, 1, 4]  # first row of W and b_1 (the rows of W decouple)
    Hr = H.extract(row, row)
    schur = Hr[:2, :2] - Hr[:2, 2:] * Hr[2:, :2] / Hr[2, 2]
    prod = schur * Wc - 2 * s_t * sp.eye(2)
    for i in range(2):
        for j in range(2):
            res[f"Hessian Schur complement · W* − 2 s I [{i}{j}]"] = prod[i, j]
    return res


def _simplify(e):
    """Exact test at one rational point first (ᾱ = 9/25 makes √ᾱ, √(1 − ᾱ) rational): a nonzero value proves
    the residual is not identically 0 and is returned as is; otherwise the residual is simplified exactly."""
    pt = {abar: sp.Rational(9, 25), gamma: sp.Rational(2, 7), c: sp.Rational(3, 11)}
    pt.update({sym: sp.Rational(k + 2, 3 + k) for k, sym in enumerate(sorted(e.free_symbols - set(pt), key=str))})
    pt[_c[1]] = sp.Rational(1, 5)  # keep the 2×2 C positive definite at the test point
    v = sp.nsimplify(e.xreplace(pt)) if e.free_symbols else e
    v = sp.cancel(sp.together(v))
    if v != 0:
        return v
    return sp.cancel(sp.together(e))


def _equivalent_form(st):
    Wc, _ = _optimum(st, 2, _C2, _m2, {gamma: c * abar})
    z = (1 - abar) / abar + c
    other = (s_t / abar) * (_C2 + z * sp.eye(2)).inv()
    return {f"W*(γ = cᾱ) − (s/ᾱ)(C + zI)^(-1) [{i}{j}]": Wc[i, j] - other[i, j] for i in range(2) for j in range(2)}


# -- Monte Carlo: least squares on explicitly sampled noise -------------------------------------------------
def _ls_batch(x, ab, xp, item):
    """Gram matrix ZᵀZ and cross term Zᵀε of one batch, Z = [a x + s ε, 1], ε ~ N(0, I) drawn in ``xp``."""
    seq, n_rep = item
    X0 = xp.asarray(np.repeat(x, n_rep, axis=0))
    E = standard_normal(np.random.default_rng(seq), tuple(X0.shape), xp)
    xp = array_namespace(E)
    Z = xp.concat([ab**0.5 * X0 + (1 - ab) ** 0.5 * E, xp.ones((X0.shape[0], 1), dtype=E.dtype)], axis=1)
    return to_numpy(Z.T @ Z), to_numpy(Z.T @ E)


def _ls_reference(ctx):
    """Ridge least squares of ε on (x_t, 1) over explicit noise draws, bias-corrected by the delete-a-batch
    jackknife: the plain estimator's O(1/n) ratio bias is removed, leaving O(1/n²), and the jackknife gives its SE."""
    rng = ctx.rng("ls")  # the training sets
    n_rep = ctx.paths(quick=1500, full=15000, what="noise draws per training sample per jackknife batch")
    n_batch = 20
    out = []
    for i, (dim, n_samp, ab, cc) in enumerate(ctx.pick(
            quick=[(3, 4, 0.3, 0.0), (3, 5, 0.7, 1.0)],
            full=[(3, 4, 0.3, 0.0), (3, 5, 0.7, 1.0), (5, 3, 0.9, 0.5), (5, 20, 0.05, 0.2)])):
        x = rng.standard_normal((n_samp, dim)) * rng.uniform(0.5, 1.5, dim) + rng.uniform(-1, 1, dim)
        g = cc * ab
        P = np.diag([g] * dim + [0.0])
        # one jackknife batch = n_rep noise draws per training sample, drawn in ctx.xp (one cluster task each)
        parts = ctx.map(partial(_ls_batch, x, float(ab), ctx.xp), ctx.batch_seeds(f"noise case {i}", n_batch * n_rep, n_rep))
        grams, cross = [p[0] for p in parts], [p[1] for p in parts]
        rows = n_rep * n_samp

        def ridge(G, H, n):  # ε ≈ W x_t + b minimising the mean squared error + γ‖W‖²
            theta = np.linalg.solve(G / n + P, H / n)
            return np.concatenate([theta[:dim].T.ravel(), theta[dim]])

        G, H = sum(grams), sum(cross)
        full = ridge(G, H, n_batch * rows)
        loo = np.array([ridge(G - grams[k], H - cross[k], (n_batch - 1) * rows) for k in range(n_batch)])
        jack = n_batch * full - (n_batch - 1) * loo.mean(axis=0)
        se = np.sqrt((n_batch - 1) / n_batch * np.sum((loo - loo.mean(axis=0)) ** 2, axis=0))
        mean = x.mean(axis=0)
        Cn = (x - mean).T @ (x - mean) / n_samp
        out.append(({"d": dim, "N": n_samp, "alphabar": ab, "gamma": g}, Cn, mean, jack, se, n_batch, rows))
    return out


_JACKKNIFE = "delete-a-batch jackknife SE of the bias-corrected least-squares estimate (remaining bias O(1/n²))"


def _ls_compare(st, ref, ctx):
    out = Outcome()
    for params, Cn, mean, ls, se, n_batch, rows in ref:
        Wn, bn = _numeric_optimum(st, Cn, mean, params["alphabar"], params["gamma"])
        val = np.concatenate([Wn.ravel(), bn])
        # jackknife SE with a Student-t quantile (n_batch − 1 dof) at the Bonferroni level; the jackknife
        # removes the O(1/n) ratio bias of least squares, the remaining O(1/n²) (n = 6·10⁴ rows) is negligible
        tol = tolerance.student_t(se, n_batch - 1, note=_JACKKNIFE)
        for k in range(val.size):
            out.cases.append(Case({**params, "entry": k}, float(val[k]), float(ls[k]), tol[k]))
    out.measurements["batches"] = ref[0][5]
    return out


eq8 = Derivation(
    id="eq.8",
    title="Optimal affine denoiser W_t*, b_t*",
    paper_ref=PaperRef("eq.8", "§3.1 Optimal linear denoiser", note="eq.5 defines the affine model"),
    statement=statement,
    lhs={"W": sp.Symbol("W_t^*"), "b": sp.Symbol("b_t^*")},
    variables=[
        Variable(C, "empirical covariance", "C ⪰ 0"),
        Variable(m, "empirical mean", "ℝ^d"),
        Variable(abar, "ᾱ_t", sp.Interval.open(0, 1)),
        Variable(gamma, "ridge penalty γ_t (paper: c ᾱ_t)", sp.Interval(0, sp.oo)),
        Variable(c, "regularisation strength", sp.Interval(0, sp.oo)),
    ],
    assumptions=["loss eq.6 (exact noise average)", "C ⪰ 0 and γ ≥ 0 so that ᾱC + (1 − ᾱ + γ)I ≻ 0"],
    checks=[
        checks.symbolic("sympy: gradient of eq.6 vanishes; Hessian Schur complement · W* = 2sI (≻ 0)", _stationarity,
                        simplify=_simplify),
        checks.symbolic("sympy: γ = cᾱ form equals (s/ᾱ)(C + zI)^(-1)", _equivalent_form, simplify=_simplify),
        checks.numeric("least squares on sampled noise", "montecarlo", _ls_compare, reference=_ls_reference,
                       description="ridge least squares ε ≈ W x_t + b over explicit noise draws, 20 independent batches"),
    ],
    mutants=[
        Mutant("λ + 2c", "penalty counted twice: s(ᾱC + (1 − ᾱ + 2γ)I)^(-1)",
               replace={"W": s_t * sp.Inverse(abar * C + (1 - abar + 2 * gamma) * I)}),
        Mutant("b sign flipped", "b = +a W m", replace={"b": a_t * Wt * m}),
        Mutant("missing s_t", "(ᾱC + (1 − ᾱ + γ)I)^(-1)", replace={"W": sp.Inverse(abar * C + (1 - abar + gamma) * I)}),
        Mutant("a_t instead of ᾱ_t", "s(aC + (1 − ᾱ + γ)I)^(-1)",
               replace={"W": s_t * sp.Inverse(a_t * C + (1 - abar + gamma) * I)}),
    ],
    claim_kind="exact",
    regime="C ⪰ 0, 0 < ᾱ < 1, γ ≥ 0",
)
