r"""The power-law regime of eq.13/eq.14: how far the leading-order equivalents are from the truth, over d.

Setting (docs/fidelity.md "Power-law regime"): known mean, N·C ~ W_d(N, Σ0), α = d/N, c = 0, σ_i ∝ i^(−k)
normalised by ``normalise`` ("trace": Tr Σ0 = d, the paper's; "top": σ_1 = 1). Per timestep, with q = q_t:

    gap_t   = E L_test,t − E L_train,t = −q E Tr R + q² E Tr R² + q E Tr RΣ0R,      R = (C + q)⁻¹,
    align_t = E L_test,t − Σ σ_i/(σ_i + q)                                             (eq.14 at c = 0).

Three values of each: the leading-order equivalents (eq.13/eq.14 as the paper states them,
:mod:`lindiff_verify.theory.replica`), the next-order real-Gaussian correction (X.1,
:mod:`lindiff_verify.theory.real_gaussian`) and Wishart Monte Carlo. The second-order traces of X.1 are
z-derivatives of its first-order ones, E Tr R² = −∂_z E Tr R and E Tr RΣ0R = −∂_z E Tr Σ0R, taken analytically
through the fixed point (★★) (a finite difference loses the O(1) gap to the O(d) cancellation at d ≳ 10³).
The relative error of the leading form is (leading − reference)/reference; its predictor is df2/df1².
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from ..model import spectra, validate
from ..theory.real_gaussian import corrected_resolvent
from ..theory.replica import Equivalents, averaged_alignment, averaged_test_loss, averaged_train_loss
from .moments import RunningMoments
from .wishart import bartlett_covariance

__all__ = ["leading", "corrected", "monte_carlo", "predictor", "measure"]


def _spectrum(d, k, normalise):
    return spectra.power_law(d, k, normalise=normalise)


def leading(q, sig, n):
    """(gap_t, align_t) from the leading-order equivalents (eq.13, eq.14), c = 0."""
    gap = float(averaged_test_loss(q, sig, n) - averaged_train_loss(q, sig, n))
    return gap, float(averaged_alignment(q, sig, n))


def corrected(q, sig, n):
    """(gap_t, align_t) with the X.1 real-Gaussian correction; ∂_z r_i through (★★) analytically.

    r_i = (1 + g_i)/(q + (1 − τ)σ_i), g_i = σ_i²/(N D (σ_i + κ)²), τ = (1/N) Σ (1 − q r_i), with κ' = 1/D and
    D' = (2/N) Σ σ_i²/(σ_i + κ)³ · κ' (leading order); τ' from differentiating the τ equation.
    """
    s = corrected_resolvent(q, sig, n)
    sg, w, N, k, D, tau, g = s.sigma, s.weights, s.n_eff, s.kappa, s.D, s.tau, s.g
    den = q + (1 - tau) * sg
    r = s.r
    kp = 1.0 / D
    Dp = 2.0 / N * float(w @ (sg**2 / (sg + k) ** 3)) * kp
    gp = g * (-Dp / D - 2 * kp / (sg + k))
    a = -(1 + g) / den**2 + gp / den  # ∂r/∂z at fixed τ (through z and g)
    b = (1 + g) * sg / den**2  # ∂r/∂τ
    tau_p = -float(w @ (r + q * a)) / N / (1.0 + q * float(w @ b) / N)
    rp = a + b * tau_p
    # gap = Σ [−q r − (q² + q σ) r'] ; test = d − 2q Tr R − (q² Tr r' + q Σ σ r')
    gap = float(w @ (-q * r - (q * q + q * sg) * rp))
    test = float(w.sum()) - 2 * q * float(w @ r) - float(w @ ((q * q + q * sg) * rp))
    return gap, test - float(w @ (sg / (sg + q)))


def predictor(q, sig, n):
    """df2/df1² at z = q (the size of the real-Gaussian term relative to the leading gap, docs/mathematics.md §E)."""
    e = Equivalents.from_spectrum(q, sig, n)
    return float(e.df2) / float(e.df1) ** 2


def monte_carlo(qs, sig, n, draws, rng, block=100, xp=None):
    """Wishart Monte Carlo at each q: {q: {"gap": (mean, se), "align": (mean, se), "test": (mean, se)}}.

    N·C = Σ0^{1/2} L Lᵀ Σ0^{1/2}, L the Bartlett factor of W_d(N, I) (exact law; ``wishart.bartlett_covariance``,
    drawn and reduced in the namespace ``xp``). The gap carries the exactly zero-mean control variate
    q Σ_j (C_jj − σ_j)/(σ_j + q)² (E C = Σ0), which removes the O(1/√N) linear fluctuation of the training loss;
    the alignment at c = 0 has none.
    """
    d = sig.size
    acc = {q: RunningMoments() for q in qs}
    done = 0
    while done < draws:
        m = min(block, draws - done)
        c = bartlett_covariance(sig, n, rng=rng, batch=m, xp=xp)
        x = array_namespace(c)
        res = x.linalg.eigh(c)
        lam, sig_x = res.eigenvalues, x.asarray(sig)
        sig_t = x.sum(res.eigenvectors**2 * sig_x[None, :, None], axis=1)
        cjj = x.linalg.diagonal(c)
        for q in qs:
            r = 1 / (lam + q)
            tr_r, tr_r2, tr_rsr = x.sum(r, axis=1), x.sum(r**2, axis=1), x.sum(sig_t * r**2, axis=1)
            test = d - 2 * q * tr_r + q**2 * tr_r2 + q * tr_rsr
            gap = test - (d - q * tr_r) + q * x.sum((cjj - sig_x) / (sig_x + q) ** 2, axis=1)
            acc[q].update(x.stack([gap, test - float(np.sum(sig / (sig + q))), test], axis=1))
        done += m
    out = {}
    for q in qs:
        mu, se = np.asarray(acc[q].mean), np.sqrt(np.asarray(acc[q].var) / acc[q].n)
        out[q] = {key: (float(mu[j]), float(se[j])) for j, key in enumerate(("gap", "align", "test"))}
    return out


def measure(ds, *, k=2.0, normalise="trace", qs=(0.1, 1.0), alpha=0.5, mc_ds=(), mc_draws=None, rng=None):
    """Rows {d, N, q, normalise, predictor, leading and X.1 values, their relative difference, and — for d in
    ``mc_ds`` — the Monte Carlo value with its SE and the leading form's relative error against it}.

    ``mc_draws``: d → number of draws (needed with ``mc_ds``); ``rng``: a seeded Generator."""
    validate.choice("normalise", normalise, spectra.POWER_LAW_NORMALISATIONS)
    a = validate.positive("alpha", alpha)
    rows = []
    for d in ds:
        d = validate.positive_int("d", d)
        n = int(round(d / a))
        sig = _spectrum(d, k, normalise)
        mc = monte_carlo(qs, sig, n, mc_draws[d], rng) if d in mc_ds else None
        for q in qs:
            lg, la = leading(q, sig, n)
            cg, ca = corrected(q, sig, n)
            row = {"d": d, "N": n, "q": q, "k": k, "normalise": normalise, "df2/df1^2": predictor(q, sig, n),
                   "gap leading": lg, "gap X.1": cg, "gap leading/X.1 - 1": lg / cg - 1,
                   "align leading": la, "align X.1": ca, "align leading/X.1 - 1": la / ca - 1}
            if mc is not None:
                (mg, sg), (ma, sa) = mc[q]["gap"], mc[q]["align"]
                row.update({"gap MC": mg, "gap MC se": sg, "gap leading/MC - 1": lg / mg - 1,
                            "gap leading/MC - 1 se": abs(lg) * sg / mg**2, "gap X.1/MC - 1": cg / mg - 1,
                            "align MC": ma, "align MC se": sa, "align leading/MC - 1": la / ma - 1,
                            "align leading/MC - 1 se": abs(la) * sa / ma**2, "align X.1/MC - 1": ca / ma - 1})
            rows.append(row)
    return rows


def rate(rows, key="gap leading/X.1 - 1"):
    """Fitted exponent p of |error| ∝ d^(−p) per (normalise, q), by least squares in log–log over the rows."""
    out = {}
    for nq in sorted({(r["normalise"], r["q"]) for r in rows}):
        sel = [r for r in rows if (r["normalise"], r["q"]) == nq]
        x = np.log([r["d"] for r in sel])
        y = np.log([abs(r[key]) for r in sel])
        out[nq] = float(-np.polyfit(x, y, 1)[0])
    return out


def markdown_table(ds=(40, 80, 160, 320, 640, 1280, 2048, 4096), mc_draws=None, seed=0, k=2.0):
    """The docs/fidelity.md table: both normalisations over ``ds``; Wishart MC at the d in ``mc_draws``
    (d → draws; default 4000/2000/800/300 at d = 40/80/160/320), stream SeedSequence(seed, spawn_key=(9,))."""
    from threadpoolctl import threadpool_limits

    mc_draws = mc_draws or {40: 4000, 80: 2000, 160: 800, 320: 300}
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(9,)))
    lines = []
    for norm in ("top", "trace"):  # this order of draws gives docs/fidelity.md's numbers
        with threadpool_limits(limits=1):
            rows = measure(ds, k=k, normalise=norm, mc_ds=tuple(mc_draws), mc_draws=mc_draws, rng=rng)
        lines += [f"normalise = {norm!r}", "| d | q | df2/df1² | gap: leading vs MC | gap: leading vs X.1 | "
                  "align: leading vs MC | align: leading vs X.1 |", "|---|---|---|---|---|---|---|"]
        for r in rows:
            mc = r.get("gap MC") is not None
            gm = f'{100 * r["gap leading/MC - 1"]:+.2f} ± {100 * r["gap leading/MC - 1 se"]:.2f} %' if mc else "—"
            am = f'{100 * r["align leading/MC - 1"]:+.2f} ± {100 * r["align leading/MC - 1 se"]:.2f} %' if mc else "—"
            lines.append(f'| {r["d"]} | {r["q"]:g} | {r["df2/df1^2"]:.4f} | {gm} | {100 * r["gap leading/X.1 - 1"]:+.2f} % '
                         f'| {am} | {100 * r["align leading/X.1 - 1"]:+.2f} % |')
    return "\n".join(lines)


if __name__ == "__main__":  # python -m lindiff_verify.simulation.power_law_regime (a few minutes on one core)
    print(markdown_table())
