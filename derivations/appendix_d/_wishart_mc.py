"""Shared Wishart Monte Carlo for the second-order derivations (eq.13–15, D.17–D.20); not a derivation file.

One reference set per (seed, fidelity): dense Gaussian draws (two-point spectrum σ ∈ {1/2, 2}, half each,
α = d/N = 1/2, known mean) at d = 20, 40, 80; per-dimension traces at a few z.
The random stream is derived from the run seed only (stream "appendix-d-second-order/wishart"), so the
numbers do not depend on which derivations are selected.
"""

from functools import lru_cache

import numpy as np
from threadpoolctl import threadpool_limits  # via scikit-learn; batched small LAPACK calls thrash with many BLAS threads

from lindiff_verify.verification.context import stream_key

ZS = (0.1, 1.0)  # q = z (c = 0) and the ε of the KL terms
C_REG = 0.5  # a regularised case: q = 1, c = 1/2 (z = 3/2)
SIZES = (20, 40, 80)


def spectrum(d):
    return np.array([0.5] * (d // 2) + [2.0] * (d - d // 2))


def _stats(sig, n, est, draws, rng):
    d = sig.size
    rows = []
    done = 0
    while done < draws:
        k = min(250, draws - done)
        g = rng.standard_normal((k, n, d)) * np.sqrt(sig)
        if est:
            m = g.mean(axis=1, keepdims=True)
            x = g - m
        else:
            m = np.zeros((k, 1, d))
            x = g
        c = np.swapaxes(x, 1, 2) @ x / n
        lam, u = np.linalg.eigh(c)
        u2 = u**2  # (k, j, i): weight of population direction j in eigenvector i
        sig_t = np.einsum("kji,j->ki", u2, sig)  # Σ̃_ii
        dlt = np.einsum("kji,kj->ki", u, -m[:, 0, :])  # u_iᵀ δ, δ = μ0 − m
        out = {}
        for z in ZS + (1.5,):
            r = 1 / (lam + z)
            q = z if z != 1.5 else 1.0
            cc = 0.0 if z != 1.5 else C_REG
            tr_r, tr_r2, tr_rsr = r.sum(1), (r**2).sum(1), (sig_t * r**2).sum(1)
            drd = (dlt**2 * r**2).sum(1)
            test = d - 2 * q * tr_r + q**2 * tr_r2 + q * tr_rsr + q * drd
            train = d - q * tr_r - q * cc * tr_r2
            # alignment: M = (Σ0 + q) R∞, R∞ = (Σ0 + z)^-1 diagonal in the population basis
            mdiag = (sig + q) / (sig + z)
            cross = (np.einsum("kji,j->ki", u2, mdiag) * r).sum(1)
            tr_rsqr = (np.einsum("kji,j->ki", u2, sig + q) * r**2).sum(1)
            align = q * (tr_rsqr - 2 * cross + np.sum((sig + q) / (sig + z) ** 2)) + q * drd
            trsr = (sig_t * r).sum(1) + (dlt**2 * r).sum(1) * (1 if est else 0)
            logdet = np.log(lam + z).sum(1) - np.log(sig).sum()
            kl2 = (sig_t * r).sum(1) + (dlt**2 * r).sum(1) - d + logdet
            out[z] = dict(trR=tr_r, trR2=tr_r2, trRSR=tr_rsr, test=test, train=train, align=align,
                          trSR=(sig_t * r).sum(1), logdet=logdet, kl2=kl2, trSR_delta=trsr)
        rows.append(out)
        done += k
    res = {}
    for z in rows[0]:
        res[z] = {}
        for key in rows[0][z]:
            v = np.concatenate([r[z][key] for r in rows]) / d  # per dimension
            res[z][key] = (float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size)))
    return res


@lru_cache(maxsize=4)
def _reference(seed, draws):
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=stream_key("appendix-d-second-order", "wishart")))
    out = {}
    with threadpool_limits(limits=1):
        for d in SIZES:  # known mean (the estimated-mean term is checked symbolically)
            out[(False, d)] = _stats(spectrum(d), 2 * d, False, draws, rng)
    return out


def reference(ctx):
    draws = ctx.pick(quick=1500, full=8000)
    ctx.seeds_used.append({"stream": "appendix-d-second-order/wishart", "entropy": ctx.seed,
                           "spawn_key": list(stream_key("appendix-d-second-order", "wishart"))})
    return _reference(ctx.seed, draws)



# ----------------------------------------------------------------------------------------------------
# Regime measurement (docs/mathematics.md §E, "Finite-size behaviour"): power law σ_i = i^-2, O(1) effective dimension.
# ----------------------------------------------------------------------------------------------------

POWER_K = 2.0
REGIME_SIZES = (40, 80, 160)  # α = d/N = 1/2 (known mean), c = 0
REGIME_QS = (0.1, 1.0)


def power_spectrum(d):
    return np.arange(1, d + 1, dtype=float) ** (-POWER_K)


def _regime_stats(sig, n, draws, rng):
    """Per-draw gap (eq.10 = test − train, c = 0) and alignment (eq.14, c = 0) for each q, summed over d.

    Draws N·C = Σ0^{1/2} L Lᵀ Σ0^{1/2} with the Bartlett factor L of W_d(N, I) (exact law, O(d²) numbers per draw).
    The gap carries an exactly-zero-mean control variate, q Σ_j (C_jj − σ_j)/(σ_j + q)² (E C = Σ0 for the known
    mean): it removes the O(1/√N) linear fluctuation of the training loss; the alignment at c = 0 has none.
    """
    d = sig.size
    idx = np.arange(d)
    rs = np.sqrt(sig)
    acc = {q: [] for q in REGIME_QS}
    done = 0
    while done < draws:
        k = min(200, draws - done)
        low = np.tril(rng.standard_normal((k, d, d)), k=-1)
        low[:, idx, idx] = np.sqrt(rng.chisquare(n - idx, size=(k, d)))
        low *= rs[None, :, None]
        c = low @ np.swapaxes(low, 1, 2) / n
        lam, u = np.linalg.eigh(c)
        sig_t = np.einsum("kji,j->ki", u**2, sig)
        cjj = np.einsum("kjj->kj", c)
        for q in REGIME_QS:
            r = 1 / (lam + q)
            tr_r, tr_r2, tr_rsr = r.sum(1), (r**2).sum(1), (sig_t * r**2).sum(1)
            test = d - 2 * q * tr_r + q**2 * tr_r2 + q * tr_rsr
            gap = test - (d - q * tr_r) + q * ((cjj - sig) / (sig + q) ** 2).sum(1)
            align = test - np.sum(sig / (sig + q))
            acc[q].append(np.stack([gap, align], 1))
        done += k
    out = {}
    for q in REGIME_QS:
        v = np.concatenate(acc[q])
        m, se = v.mean(0), v.std(0, ddof=1) / np.sqrt(v.shape[0])
        out[q] = {"gap": (float(m[0]), float(se[0])), "align": (float(m[1]), float(se[1]))}
    return out


@lru_cache(maxsize=4)
def _regime_reference(seed, scale):
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=stream_key("appendix-d-second-order", "power-law")))
    out = {}
    with threadpool_limits(limits=1):
        for d, draws in zip(REGIME_SIZES, (1600, 800, 240), strict=True):
            out[d] = _regime_stats(power_spectrum(d), 2 * d, draws * scale, rng)
    return out


def regime_reference(ctx):
    """Monte Carlo gap and alignment for σ_i = i^-2 at d = 40, 80, 160 (α = 1/2, c = 0); shared, cached."""
    ctx.seeds_used.append({"stream": "appendix-d-second-order/power-law", "entropy": ctx.seed,
                           "spawn_key": list(stream_key("appendix-d-second-order", "power-law"))})
    return _regime_reference(ctx.seed, ctx.pick(quick=1, full=5))
