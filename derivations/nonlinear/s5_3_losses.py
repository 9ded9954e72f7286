r"""§5 — S5.3: train and test loss of any denoiser by Monte Carlo; the linear model's equal eq.6 and eq.13.

Our id (docs/nonlinear.md): per training set, the Monte Carlo losses of the linear model against their exact forms
(eq.6 at eq.8, eq.13 before averaging), and the fig. 3a–c style curves of linear and MLP denoisers against N.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from lindiff_verify.simulation import nonlinear as nl
from lindiff_verify.simulation import training
from lindiff_verify.theory import reference_denoisers as rd
from lindiff_verify.verification import checks, tolerance
from lindiff_verify.verification.registry import Case, Derivation, Figure, Mutant, Outcome, PaperRef, Variable

from ._common import MLP51, MLP_REAL, SCHED, _digits, _gaussian, _net_seed, _plt

w_, sq, lam_, St, dm = sp.symbols("w s lambda Sigma_tilde delta_i", real=True)
S53 = {"train": (1 - sq * w_) ** 2 + (1 - sq**2) * w_**2 * lam_,
       "test": (1 - sq * w_) ** 2 + (1 - sq**2) * w_**2 * (St + dm**2)}
_A53 = (w_, sq, lam_, St, dm)
_TS53 = [1, 20, 200, 900]


def _ref53(ctx):
    rng = ctx.rng("data")
    out = []
    for d, N, c in ((6, 20, 0.0), (6, 4, 0.1)):
        Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
        sig = np.geomspace(2.0, 0.1, d)
        Sig0 = Q @ np.diag(sig) @ Q.T
        mu0 = 0.5 * rng.standard_normal(d)
        X = rng.standard_normal((N, d)) @ np.diag(np.sqrt(sig)) @ Q.T + mu0
        lin = rd.linear_denoiser(X, SCHED, c=c)
        ntest = ctx.pick(20000, 200000)
        xte = rng.standard_normal((ntest, d)) @ np.diag(np.sqrt(sig)) @ Q.T + mu0
        train = nl.denoiser_loss(lin, X, SCHED, _TS53, ctx.rng(f"train {N}"), repeats=ctx.pick(4000, 40000))
        test = nl.denoiser_loss(lin, xte, SCHED, _TS53, ctx.rng(f"test {N}"))
        U = lin.eigenvectors
        out.append(({"d": d, "N": N, "c": c}, lin, np.asarray(lin.model.eigenvalues),
                    np.sum(U * (Sig0 @ U), axis=0), U.T @ (mu0 - np.asarray(lin.model.mean)), train, test))
    return out


def _cmp53(st, ref, ctx):
    ftr, fte = (checks.lambdify(_A53, st[k]) for k in ("train", "test"))
    out = Outcome()
    ncase = len(ref) * len(_TS53) * 2
    for p, lin, lam, Stl, dlt_i, train, test in ref:
        w_all = np.asarray(lin.model.coefficients())
        for j, t in enumerate(_TS53):
            w, s = w_all[t - 1], float(SCHED.sqrt_one_minus_alphas_cumprod[t - 1])
            exact_tr = float(np.sum(np.broadcast_to(ftr(w, s, lam, Stl, dlt_i), w.shape)))
            exact_te = float(np.sum(np.broadcast_to(fte(w, s, lam, Stl, dlt_i), w.shape)))
            for kind, val, mc in (("train (on the training rows)", exact_tr, train), ("test (fresh rows of p0)", exact_te, test)):
                tol = tolerance.monte_carlo(mc.se[j], n_cases=ncase)
                out.tolerance_model = tol.model
                out.cases.append(Case({**p, "t": t, "loss": kind}, val, float(mc.mean[j]), tol.value))
    return out


def _fig_losses(ctx):
    """fig. 3a–c: train and test loss (per dimension, mean over t) against N, linear exact and MLP by Monte Carlo."""
    plt = _plt()
    ts = [10, 50, 200, 600]
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    d = 8
    sig = np.geomspace(2.0, 0.2, d)
    xd = _digits()[ctx.rng("loss digits").permutation(1797)]
    sets = [("Gaussian d = 8", lambda N: _gaussian(ctx.rng(f"loss train {N}"), N, sig), _gaussian(ctx.rng("loss test"), 2000, sig),
             ctx.pick([4, 16, 64, 256], [4, 8, 16, 32, 64, 128, 256, 1024]), MLP51),
            ("digits (substitute for MNIST)", lambda N: xd[:N], xd[1500:], ctx.pick([25, 100, 400, 1500], [25, 50, 100, 200, 400, 800, 1500]), MLP_REAL)]
    for ax, (label, train_rows, xte, Ns, cfg) in zip(axes, sets, strict=True):
        curves = {k: [] for k in ("linear train", "linear test", "MLP train", "MLP test")}
        for N in Ns:
            X = train_rows(N)
            dd = X.shape[1]
            lin = rd.linear_denoiser(X, SCHED, c=1e-3)
            net = training.train_mlp(X, SCHED, cfg, seed=_net_seed(ctx, N))
            for k, den in (("linear", lin), ("MLP", net)):
                rep = max(1, 4000 // N)
                curves[f"{k} train"].append(nl.denoiser_loss(den, X, SCHED, ts, ctx.rng(f"tr {label} {k} {N}"),
                                                             repeats=max(rep, 2)).mean.mean() / dd)
                curves[f"{k} test"].append(nl.denoiser_loss(den, xte, SCHED, ts, ctx.rng(f"te {label} {k} {N}")).mean.mean() / dd)
        for k, v in curves.items():
            ax.loglog(Ns, v, ("o-" if "test" in k else "s--"), label=k, color="C0" if "linear" in k else "C1")
        ax.set_xlabel("N")
        ax.set_ylabel("loss / d, mean over t")
        ax.set_title(label, fontsize=8)
        ax.legend(fontsize=7)
    fig.suptitle("Train and test loss against N (fig. 3a–c style), t ∈ {10, 50, 200, 600}, authors' schedule", fontsize=9)
    fig.tight_layout()
    return fig


def _s53_algebra(st):
    """The per-direction loss from the noising process: ε and x0 independent, E ε² = 1, E ε = 0."""
    a2 = 1 - sq**2
    noise = sp.expand((1 - sq * w_) ** 2)  # E(ε − s w ε)²
    return {"train = eq.6 per direction": st["train"] - (noise + a2 * w_**2 * lam_),
            "test = eq.13 before averaging, per direction": st["test"] - (noise + a2 * w_**2 * (St + dm**2))}


s53 = Derivation(
    id="S5.3",
    title="Train and test loss of any denoiser by Monte Carlo; the linear model's equal eq.6 and eq.13 per training set",
    paper_ref=PaperRef("S5.3", "§4.1 and §5 (fig. 3a–c)", note="our id; per-training-set forms of the train (eq.6 at eq.8) and test "
                       "(eq.13 before averaging) losses; the Monte Carlo estimator is what non-linear models use"),
    statement=S53,
    display=[sp.Eq(sp.Symbol("L_t^train"), sp.Sum(S53["train"], (sp.Symbol("i"), 1, sp.Symbol("d")))),
             sp.Eq(sp.Symbol("L_t^test"), sp.Sum(S53["test"], (sp.Symbol("i"), 1, sp.Symbol("d"))))],
    variables=[Variable(w_, "w_ti = s_t/(ᾱ_t(λ_i + c) + 1 − ᾱ_t) (eq.8)", "> 0"), Variable(sq, "s_t", "(0, 1)"),
               Variable(lam_, "eigenvalue λ_i of C", "≥ 0"), Variable(St, "Σ̃_ii = u_iᵀ Σ0 u_i", "≥ 0"),
               Variable(dm, "u_iᵀ(μ0 − m)", "real")],
    assumptions=["losses summed over d, per t, without the penalty", "estimated mean, b_t = −a_t W_t m"],
    checks=[checks.numeric("Monte Carlo train/test loss of the linear model against the exact forms", "montecarlo",
                           _cmp53, reference=_ref53, error_model="Monte Carlo z·SE (Bonferroni over (set, t, kind))",
                           description="d = 6, N = 20 (c = 0) and N = 4 < d (c = 0.1), rotated Σ0, μ0 ≠ 0"),
            checks.symbolic("sympy: eq.6 per eigen-direction from x_t = a x0 + s ε", _s53_algebra,
                            description="E(ε − w x_t − b)² with b = −a w m and a² = 1 − s²: (1 − s w)² + a² w² E(x0 − m)², "
                                        "E(x0 − m)² = λ_i (training set) or Σ̃_ii + (u_iᵀδ)² (p0)")],
    mutants=[
        Mutant("test loss without the mean shift", "no (u_iᵀδ)²",
               replace={"test": (1 - sq * w_) ** 2 + (1 - sq**2) * w_**2 * St}),
        Mutant("test loss with λ_i instead of Σ̃_ii", "train form",
               replace={"test": (1 - sq * w_) ** 2 + (1 - sq**2) * w_**2 * (lam_ + dm**2)}),
        Mutant("train loss with (1 − w)²", "s_t dropped", replace={"train": (1 - w_) ** 2 + (1 - sq**2) * w_**2 * lam_}),
    ],
    claim_kind="exact",
    regime="any training set, any t; the Monte Carlo estimators apply to any denoiser",
    figures=[Figure("fig3abc_losses", "Train and test loss against N, linear and MLP (fig. 3a–c style)", _fig_losses,
                    caption="Linear: eq.8 (c = 1e-3) by Monte Carlo; MLP: scikit-learn network. Digits substitute for "
                            "the paper's MNIST/CelebA.")],
    section="main",
    schedule=SCHED.name,
)
