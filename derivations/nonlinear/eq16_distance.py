r"""§5 — eq.16: relative distance of a denoiser to the linear one per eigen-direction and t (reconstructed).

The definition (docs/mathematics.md §F.9) with its estimator and identities: affine networks against the exact Gaussian
value, the library's estimator against the statement, and linear vs itself / frozen float32 networks = 0; measured, not
judged, on digits (a substitute for the paper's CelebA). Networks are cached on disk
(:mod:`lindiff_verify.simulation.training`); the first run trains them.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from lindiff_verify.model import datasets
from lindiff_verify.simulation import nonlinear as nl
from lindiff_verify.simulation import training
from lindiff_verify.simulation.torch_denoiser import torch_available
from lindiff_verify.theory import reference_denoisers as rd
from lindiff_verify.verification import checks, tolerance
from lindiff_verify.verification.registry import Case, Derivation, Figure, Mutant, Outcome, PaperRef, Variable

from ._common import (MLP_REAL, MLP_REAL_FULL, REAL_TS, SCHED, _digits_split, _gaussian, _net_seed, _plt,
                      _real_measure, _shared_rng, _summarise)

EPS32 = float(np.finfo(np.float32).eps)

P2, Q2, N2 = sp.symbols("P2 Q2 N2", nonnegative=True)  # E(uᵀΔ)², E(uᵀε_lin)², E(uᵀε_net)²
dlt = sp.Symbol("delta", positive=True)
EQ16 = {"distance": P2 / (Q2 + dlt)}
_ARGS16 = (P2, Q2, N2, dlt)


class _Affine:
    """ε(x, t) = W'_t x + b'_t (dense per-t weights) — a network whose eq.16 distance has a closed form."""

    def __init__(self, W, b):
        self.W, self.b = W, b

    def __call__(self, x, t):
        return x @ self.W[t - 1].T + self.b[t - 1]


def _dense(lin):
    T = SCHED.num_train_timesteps
    W = np.stack([lin.W(t) for t in range(1, T + 1)])
    return W, np.stack([lin.b(t) for t in range(1, T + 1)])


def _exact_moment(A, c, U, mu0, Sig0, t):
    """E[(u_iᵀ(A x_t + c))²] for x_t = a x0 + s ε, x0 ~ N(μ0, Σ0): uᵀA K Aᵀu + (uᵀ(a A μ0 + c))²."""
    ab = SCHED.alphas_cumprod[t - 1]
    K = ab * Sig0 + (1 - ab) * np.eye(Sig0.shape[0])
    B = U.T @ A
    return np.sum((B @ K) * B, axis=1) + (U.T @ (np.sqrt(ab) * A @ mu0 + c)) ** 2


def _rows16(net, lin, x0, ts, rng, U):
    """Per-row (p², q², n²) for each t, drawn exactly as :func:`nl.eq16` draws (same stream order)."""
    out = []
    for t in ts:
        xt, _ = nl.noised(x0, SCHED, t, rng)
        el, en = lin(xt, t), net(xt, t)
        out.append((((en - el) @ U) ** 2, (el @ U) ** 2, (en @ U) ** 2))
    return out


@functools.lru_cache(maxsize=64)
def _compiled(expr):
    """The statement, its gradient and Hessian in (P2, Q2, N2), compiled once per expression."""
    f = checks.lambdify(_ARGS16, expr)
    g = [checks.lambdify(_ARGS16, sp.diff(expr, v)) for v in (P2, Q2, N2)]
    H = [[checks.lambdify(_ARGS16, sp.diff(expr, v, w)) for w in (P2, Q2, N2)] for v in (P2, Q2, N2)]
    return f, g, H


def _delta_method(expr, rows, delta):
    """Statement value at the row means, its delta-method SE and a bound on its O(1/n) bias (½|tr HΣ|·2)."""
    f, g, H = _compiled(expr)
    p2, q2, n2 = rows
    n = p2.shape[0]
    m = [p2.mean(0), q2.mean(0), n2.mean(0)]
    Z = np.stack([p2 - m[0], q2 - m[1], n2 - m[2]])  # (3, n, d)
    S = np.einsum("anj,bnj->abj", Z, Z) / (n - 1) / n  # covariance of the means, (3, 3, d)
    shape = m[0].shape
    val = np.broadcast_to(f(*m, delta), shape).astype(float)
    gv = np.stack([np.broadcast_to(gi(*m, delta), shape) for gi in g])
    Hv = np.array([[np.broadcast_to(h(*m, delta), shape) for h in row] for row in H])
    se = np.sqrt(np.clip(np.einsum("aj,abj,bj->j", gv, S, gv), 0, None))
    bias = np.abs(np.einsum("abj,abj->j", Hv, S))
    return val, se, bias


def _setup16(ctx, name):
    rng = ctx.rng(name)
    d = 4
    sig = np.array([3.0, 1.0, 0.3, 0.05])
    mu0 = np.array([0.5, -0.3, 0.2, 0.1])
    lin = rd.linear_denoiser(_gaussian(rng, 40, sig, mu0), SCHED, c=1e-3)
    return rng, d, sig, mu0, lin


TS16 = [1, 10, 100, 500, 1000]
DELTAS16 = [1e-3, 0.5]


def _ref16_affine(ctx):
    rng, d, sig, mu0, lin = _setup16(ctx, "setup")
    W, b = _dense(lin)
    R = rng.standard_normal((d, d))
    Wn = W @ (np.eye(d) + 0.3 * R)
    bn = b + 0.2 * rng.standard_normal(d)
    net = _Affine(Wn, bn)
    U = lin.eigenvectors
    Sig0 = np.diag(sig)
    exact = [(_exact_moment(Wn[t - 1] - W[t - 1], bn[t - 1] - b[t - 1], U, mu0, Sig0, t),
              _exact_moment(W[t - 1], b[t - 1], U, mu0, Sig0, t)) for t in TS16]
    n = ctx.pick(20000, 200000)
    x0 = _gaussian(ctx.rng("x0"), n, sig, mu0)
    rows = _rows16(net, lin, x0, TS16, ctx.rng("noise"), U)
    lib = nl.eq16(net, lin, x0, SCHED, TS16, ctx.rng("noise"))  # same stream: same draws as `rows`
    return {"exact": exact, "rows": rows, "lib": lib, "n": n}


def _cmp16_affine(st, ref, ctx):
    out = Outcome()
    ncase = len(TS16) * 4 * len(DELTAS16)
    for delta in DELTAS16:
        for t, (ex, rows) in zip(TS16, zip(ref["exact"], ref["rows"], strict=True), strict=True):
            val, se, bias = _delta_method(st["distance"], rows, delta)
            reference = ex[0] / (ex[1] + delta)  # the definition (§F.9), from the exact Gaussian moments
            tol = tolerance.monte_carlo(se, n_cases=ncase, bias_bound=bias)
            out.tolerance_model = tol.model
            for i in range(4):
                out.cases.append(Case({"t": t, "direction (ascending λ)": i + 1, "delta": delta, "rows": ref["n"]},
                                      float(val[i]), float(reference[i]), float(tol.value[i])))
    return out


def _cmp16_library(st, ref, ctx):
    """The library's estimator against the statement on the same draws (float64 rounding)."""
    out = Outcome()
    f = checks.lambdify(_ARGS16, st["distance"])
    for delta in DELTAS16:
        lib = ref["lib"].distance(delta)
        for k, rows in enumerate(ref["rows"]):
            v = np.broadcast_to(f(rows[0].mean(0), rows[1].mean(0), rows[2].mean(0), delta), lib[k].shape)
            tol = tolerance.float64(scale=np.maximum(np.abs(lib[k]), 1.0), n_ops=1e3)
            out.tolerance_model = tol.model
            for i in range(lib.shape[1]):
                out.cases.append(Case({"t": TS16[k], "direction": i + 1, "delta": delta}, float(lib[k, i]),
                                      float(v[i]), float(tol.value[i])))
    return out


def _ref16_identity(ctx):
    rng, d, sig, mu0, lin = _setup16(ctx, "setup")
    n = ctx.pick(20000, 200000)
    x0 = _gaussian(ctx.rng("x0"), n, sig, mu0)
    U = lin.eigenvectors
    nets = {"linear vs itself": lin, "frozen float32 network (NumPy)": training.frozen_linear_network(lin)}
    ok, why = torch_available()
    if ok:
        nets["frozen float32 network (PyTorch)"] = training.frozen_linear_network(lin, backend="torch")
    rows = {k: _rows16(v, lin, x0, TS16, ctx.rng(f"noise {k}"), U) for k, v in nets.items()}
    # the float32 rounding bound: |Δ| ≤ 50·eps32·(‖W‖·|x| + |b|) per entry ≤ 50·eps32·(max|ε_lin| + ‖W‖|a m|)·√d
    scale = {t: float(np.max(np.abs(lin(nl.noised(x0[:2000], SCHED, t, ctx.rng("scale"))[0], t)))) + 1.0 for t in TS16}
    # real data: digits (substitute for MNIST/CelebA), networks on N rows against the linear model on all rows
    xtr, xte = _digits_split(ctx)
    cfg = ctx.pick(MLP_REAL, MLP_REAL_FULL)
    measures = {}
    dl_lin, dmaps, dtimes = _real_measure(ctx, "digits MLP", xtr, xte, ctx.pick([100, 400, 1500], [100, 400, 1500]),
                                          lambda x, N: training.train_mlp(x, SCHED, cfg, seed=_net_seed(ctx, N)))
    measures.update(_summarise("digits (substitute), MLP", dmaps, dtimes, 64))
    self_rows = _rows16(dl_lin, dl_lin, xte, TS16, ctx.rng("digits self"), dl_lin.eigenvectors)
    if ctx.full and ok:
        _, umaps, utimes = _real_measure(ctx, "digits U-Net", xtr, xte, [100, 400, 1500],
                                         lambda x, N: training.train_unet(x, SCHED, (8, 8), seed=_net_seed(ctx, N)))
        measures.update(_summarise("digits (substitute), U-Net", umaps, utimes, 64))
    if ctx.full:
        px = datasets.image_patches(6000, 16, rng=_shared_rng(ctx, "patches"))
        _, pmaps, ptimes = _real_measure(ctx, "patches MLP", px[:5000], px[5000:], [100, 400, 1600, 5000],
                                         lambda x, N: training.train_mlp(x, SCHED, cfg, seed=_net_seed(ctx, N)))
        measures.update(_summarise("patches 16×16 (substitute), MLP", pmaps, ptimes, 256))
    measures["PyTorch"] = why if not ok else f"torch {why}: frozen network also checked through the adapter"
    return {"rows": rows, "self_digits": self_rows, "scale": scale, "measures": measures, "n": n, "d": d}


def _cmp16_identity(st, ref, ctx):
    out = Outcome(measurements=dict(ref["measures"]))
    groups = dict(ref["rows"])
    groups["digits: linear vs itself"] = ref["self_digits"]
    ncase = sum(len(TS16) * r[0][0].shape[1] for r in groups.values()) * len(DELTAS16)
    models = []
    for delta in DELTAS16:
        for name, rows_t in groups.items():
            for t, rows in zip(TS16, rows_t, strict=True):
                val, se, bias = _delta_method(st["distance"], rows, delta)
                mc = tolerance.monte_carlo(se, n_cases=ncase, bias_bound=bias)
                d = rows[0].shape[1]
                if "float32" in name:  # rounding of the float32 network: |Δ_i| ≤ 50·eps32·scale·√d, so P2/δ bounded
                    f32 = (50 * EPS32 * ref["scale"][t] * np.sqrt(d)) ** 2 / delta
                    tol = tolerance.combine(mc, tolerance.Tolerance(f32, "float32 rounding of the network: "
                                                                         "(50·eps32·max|ε_lin|·√d)²/δ"))
                else:
                    tol = mc
                models.append(tol.model)
                for i in range(d):
                    out.cases.append(Case({"model": name, "t": t, "direction": i + 1, "delta": delta},
                                          float(val[i]), 0.0, float(np.broadcast_to(tol.value, (d,))[i])))
    out.tolerance_model = "; ".join(sorted(set(models)))
    return out


def _fig_eq16(ctx):
    plt = _plt()
    xtr, xte = _digits_split(ctx)
    cfg = ctx.pick(MLP_REAL, MLP_REAL_FULL)
    Ns = [100, 400, 1500]
    rows = [("MLP", lambda x, N: training.train_mlp(x, SCHED, cfg, seed=_net_seed(ctx, N)))]
    if torch_available()[0] and ctx.full:
        rows.append(("U-Net", lambda x, N: training.train_unet(x, SCHED, (8, 8), seed=_net_seed(ctx, N))))
    fig, axes = plt.subplots(len(rows), len(Ns), figsize=(3.4 * len(Ns) + 1.2, 3.0 * len(rows) + 0.4), squeeze=False,
                             layout="constrained")
    for r, (label, nets) in enumerate(rows):
        _, maps, _ = _real_measure(ctx, f"digits {label}", xtr, xte, Ns, nets)
        for c, N in enumerate(Ns):
            ax = axes[r, c]
            im = ax.imshow(np.log10(maps[N][0] + 1e-6), aspect="auto", origin="lower", cmap="viridis", vmin=-3, vmax=1,
                           extent=(0.5, 64.5, 0, len(REAL_TS)))
            ax.set_yticks(np.arange(len(REAL_TS)) + 0.5, [str(t) for t in REAL_TS], fontsize=6)
            ax.set_title(f"{label}, N = {N}", fontsize=8)
            ax.set_xlabel("eigen-direction i (1 = leading)", fontsize=7)
            ax.set_ylabel("timestep t", fontsize=7)
    fig.colorbar(im, ax=axes, label="log10 D_i(t), δ = 1e-2", shrink=0.8)
    fig.suptitle("eq.16 on 8×8 digits (substitute for the paper's CelebA); authors' schedule", fontsize=9)
    return fig


eq16 = Derivation(
    id="eq.16",
    title="Relative distance of a denoiser to the linear one per eigen-direction and t (reconstructed)",
    paper_ref=PaperRef("eq.16", "§5 Linear and non-linear denoisers",
                       note="reconstruction: the authors' formula is not public (docs/mathematics.md §F.9)"),
    statement=EQ16,
    display=sp.Eq(sp.Symbol("D_i(t)"), sp.Symbol("E[(u_i^T(ε_net − ε_lin))²]") / (sp.Symbol("E[(u_i^T ε_lin)²]") + dlt)),
    variables=[Variable(P2, "E[(u_iᵀ(ε_net − ε_lin))²] over noised test inputs x_t = a_t x_0 + s_t ε", "≥ 0"),
               Variable(Q2, "E[(u_iᵀ ε_lin)²]", "≥ 0"), Variable(N2, "E[(u_iᵀ ε_net)²] (enters mutants only)", "≥ 0"),
               Variable(dlt, "δ, the constant that prevents divergences (named parameter)", "δ > 0")],
    assumptions=["u_i: eigenvectors of the linear model's (reference) covariance", "ε_lin: eq.8 with γ_t = c·ᾱ_t",
                 "expectations over x_0 from held-out data and ε ~ N(0, I)", "authors' schedule (§F.1)"],
    checks=[
        checks.numeric("affine networks: Monte Carlo against the exact Gaussian value", "montecarlo", _cmp16_affine,
                       reference=_ref16_affine,
                       error_model="delta-method SE of the statement at the Monte Carlo moments, Bonferroni z, plus a "
                                   "bound on the O(1/n) ratio bias (|tr HΣ|)",
                       description="d = 4 Gaussian data, ε_net = W'x + b' with W' = W(I + 0.3R): the definition's "
                                   "Gaussian moments in closed form; δ = 1e-3 and 0.5"),
        checks.numeric("library estimator equals the statement on the same draws", "numeric", _cmp16_library,
                       reference=_ref16_affine, error_model="float64 rounding: 1e3·eps·max(|D|, 1)"),
        checks.numeric("identities: linear vs itself = 0; frozen float32 network at the linear weights = 0",
                       "montecarlo", _cmp16_identity, reference=_ref16_identity,
                       error_model="z·SE (delta method) + float32 rounding bound of the network",
                       description="Gaussian d = 4 and digits (linear vs itself); measured, not judged: eq.16 maps of "
                                   "MLPs trained on N = 100, 400, 1500 digits (full: also U-Net and 16×16 patches)"),
    ],
    mutants=[
        Mutant("δ in the numerator too", "(P2 + δ)/(Q2 + δ)", replace={"distance": (P2 + dlt) / (Q2 + dlt)}),
        Mutant("normalised by the network", "P2/(N2 + δ)", replace={"distance": P2 / (N2 + dlt)}),
        Mutant("difference of norms", "(√N2 − √Q2)²/(Q2 + δ)",
               replace={"distance": (sp.sqrt(N2) - sp.sqrt(Q2)) ** 2 / (Q2 + dlt)}),
        Mutant("without δ", "P2/Q2", replace={"distance": P2 / (Q2 + 0 * dlt)}),
    ],
    claim_kind="exact",
    regime="any two denoisers; a definition (reconstructed): its estimator and identities are what is checked",
    notes="Measured, not judged, on substitute real data: see the identity check's measurements and the figure.",
    figures=[Figure("eq16_map", "eq.16 map (eigen-direction × t) per N, digits (substitute)", _fig_eq16,
                    caption="log10 of the reconstructed eq.16 distance between a network trained on N digits and the "
                            "linear model (c = 1e-3) fitted on 1500 digits, δ = 1e-2, over 297 held-out digits; "
                            "direction 1 is the leading eigenvector. Digits substitute for the paper's CelebA.")],
    section="main",
    schedule=SCHED.name,
)
