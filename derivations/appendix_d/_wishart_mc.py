"""Shared Wishart Monte Carlo for the second-order derivations (eq.13–15, D.17–D.20); not a derivation file.

One reference set per (seed, fidelity): dense Gaussian draws (two-point spectrum σ ∈ {1/2, 2}, half each,
α = d/N = 1/2, known mean) at d = 20, 40, 80; per-dimension traces at a few z.
The random stream is derived from the run seed only (stream "appendix-d-second-order/wishart"), so the
numbers do not depend on which derivations are selected.
"""

from functools import lru_cache, partial

import numpy as np
from array_api_compat import array_namespace
from threadpoolctl import threadpool_limits  # via scikit-learn; batched small LAPACK calls thrash with many BLAS threads

from lindiff_verify.model.backend import standard_normal
from lindiff_verify.simulation.streaming import stream_dict, stream_moments
from lindiff_verify.simulation.wishart import (bartlett_covariance, covariance_eigh, white_wishart_eigenvalues,
                                               white_wishart_resolvent_statistics)
from lindiff_verify.verification.context import Context

ZS = (0.1, 1.0)  # q = z (c = 0) and the ε of the KL terms
C_REG = 0.5  # a regularised case: q = 1, c = 1/2 (z = 3/2)
SIZES = (20, 40, 80)


def spectrum(d):
    return np.array([0.5] * (d // 2) + [2.0] * (d - d // 2))


def _stats(sig, n, xp, rng, k):
    """Per-dimension traces of k dense known-mean Wishart draws (the engine's covariance_eigh in ``xp``)."""
    d = sig.size
    lam, u = covariance_eigh(sig, n, rng=rng, batch=k, xp=xp)
    xp = array_namespace(lam)
    sig_x = xp.asarray(sig)
    u2 = u**2  # (k, j, i): weight of population direction j in eigenvector i
    sig_t = xp.sum(u2 * sig_x[None, :, None], axis=1)  # Σ̃_ii
    out = {}
    for z in ZS + (1.5,):
        r = 1 / (lam + z)
        q = z if z != 1.5 else 1.0
        cc = 0.0 if z != 1.5 else C_REG
        tr_r, tr_r2, tr_rsr = xp.sum(r, axis=1), xp.sum(r**2, axis=1), xp.sum(sig_t * r**2, axis=1)
        test = d - 2 * q * tr_r + q**2 * tr_r2 + q * tr_rsr  # known mean: δ = 0
        train = d - q * tr_r - q * cc * tr_r2
        # alignment: M = (Σ0 + q) R∞, R∞ = (Σ0 + z)^-1 diagonal in the population basis
        mdiag = xp.asarray((sig + q) / (sig + z))
        cross = xp.sum(xp.sum(u2 * mdiag[None, :, None], axis=1) * r, axis=1)
        tr_rsqr = xp.sum(xp.sum(u2 * (sig_x + q)[None, :, None], axis=1) * r**2, axis=1)
        align = q * (tr_rsqr - 2 * cross + float(np.sum((sig + q) / (sig + z) ** 2)))
        tr_sr = xp.sum(sig_t * r, axis=1)
        logdet = xp.sum(xp.log(lam + z), axis=1) - float(np.log(sig).sum())
        stats = dict(trR=tr_r, trR2=tr_r2, trRSR=tr_rsr, test=test, train=train, align=align, trSR=tr_sr,
                     logdet=logdet, kl2=tr_sr - d + logdet, trSR_delta=tr_sr)
        out.update({(z, key): v / d for key, v in stats.items()})  # per dimension
    return out


def _moments(ctx, name, batch_fn, draws, batch):
    """{key: (mean, SE)} of a batch function's statistics over ``draws`` draws of the named stream."""
    mom = stream_dict(batch_fn, ctx.batch_seeds(name, draws, batch), map=ctx.map)
    return {key: (float(m.mean), float(np.sqrt(m.var / m.n))) for key, m in mom.items()}


def _streams(ctx, names):
    """Records of the named streams (the cached references draw them from a context of their own)."""
    for name in names:
        ctx.seed_sequence(name)


SCOPE = "appendix-d-second-order"  # the streams depend on the run seed only, not on the derivation selected


@lru_cache(maxsize=4)
def _reference(seed, draws, backend):
    ctx = Context(seed=seed, backend=backend).scoped(SCOPE)
    out = {}
    with threadpool_limits(limits=1):
        for d in SIZES:  # known mean (the estimated-mean term is checked symbolically)
            mom = _moments(ctx, f"wishart d={d}", partial(_stats, spectrum(d), 2 * d, ctx.xp), draws, 250)
            res = {}
            for (z, key), v in mom.items():
                res.setdefault(z, {})[key] = v
            out[(False, d)] = res
    return out


def reference(ctx):
    draws = ctx.paths(quick=1500, full=8000, what="dense Wishart draws per d")
    _streams(Context(seed=ctx.seed, backend=ctx.backend, scope=(SCOPE,), seeds_used=ctx.seeds_used),
             [f"wishart d={d}" for d in SIZES])
    return _reference(ctx.seed, draws, ctx.backend)



# ----------------------------------------------------------------------------------------------------
# Regime measurement (docs/mathematics.md §E, "Finite-size behaviour"): power law σ_i = i^-2, O(1) effective dimension.
# ----------------------------------------------------------------------------------------------------

POWER_K = 2.0
REGIME_SIZES = (40, 80, 160)  # α = d/N = 1/2 (known mean), c = 0
REGIME_QS = (0.1, 1.0)


def power_spectrum(d):
    return np.arange(1, d + 1, dtype=float) ** (-POWER_K)


def _regime_stats(sig, n, xp, rng, k):
    """Per-draw gap (eq.10 = test − train, c = 0) and alignment (eq.14, c = 0) for each q, summed over d.

    Known-mean draws N·C = Σ0^{1/2} L Lᵀ Σ0^{1/2} (the engine's Bartlett path in ``xp``; N·C ~ W_d(N, Σ0)), then eigh.
    The gap carries an exactly-zero-mean control variate, q Σ_j (C_jj − σ_j)/(σ_j + q)² (E C = Σ0 for the known
    mean): it removes the O(1/√N) linear fluctuation of the training loss; the alignment at c = 0 has none.
    """
    d = sig.size
    c = bartlett_covariance(sig, n, rng=rng, batch=k, xp=xp)
    xp = array_namespace(c)
    res = xp.linalg.eigh(c)
    lam, u = res.eigenvalues, res.eigenvectors
    sig_x = xp.asarray(sig)
    sig_t = xp.sum(u**2 * sig_x[None, :, None], axis=1)
    cjj = xp.linalg.diagonal(c)
    out = {}
    for q in REGIME_QS:
        r = 1 / (lam + q)
        tr_r, tr_r2, tr_rsr = xp.sum(r, axis=1), xp.sum(r**2, axis=1), xp.sum(sig_t * r**2, axis=1)
        test = d - 2 * q * tr_r + q**2 * tr_r2 + q * tr_rsr
        out[(q, "gap")] = test - (d - q * tr_r) + q * xp.sum((cjj - sig_x) / (sig_x + q) ** 2, axis=1)
        out[(q, "align")] = test - float(np.sum(sig / (sig + q)))
    return out


@lru_cache(maxsize=4)
def _regime_reference(seed, scale, backend):
    ctx = Context(seed=seed, backend=backend).scoped(SCOPE)
    out = {}
    with threadpool_limits(limits=1):
        for d, draws in zip(REGIME_SIZES, (1600, 800, 240), strict=True):
            mom = _moments(ctx, f"power-law d={d}", partial(_regime_stats, power_spectrum(d), 2 * d, ctx.xp),
                           draws * scale, 200)
            out[d] = {q: {"gap": mom[(q, "gap")], "align": mom[(q, "align")]} for q in REGIME_QS}
    return out


def regime_reference(ctx):
    """Monte Carlo gap and alignment for σ_i = i^-2 at d = 40, 80, 160 (α = 1/2, c = 0); shared, cached."""
    scale = ctx.paths(quick=1, full=5, what="multiple of the draws (1600, 800, 240) at d = 40, 80, 160")
    _streams(Context(seed=ctx.seed, backend=ctx.backend, scope=(SCOPE,), seeds_used=ctx.seeds_used),
             [f"power-law d={d}" for d in REGIME_SIZES])
    return _regime_reference(ctx.seed, scale, ctx.backend)


# ----------------------------------------------------------------------------------------------------
# white Wishart KL divergence per draw (D.22, X.2)
# ----------------------------------------------------------------------------------------------------

WISHART_BATCH = 2000  # Wishart draws per batch (a batch is one task on a cluster)


def kl_draws(dd, n, est, xp, rng, k):
    """DKL(N(0, I) ‖ N(·, C)) of k white Wishart draws C (N·C ~ W_d(n or n − 1, I)), in namespace ``xp``;
    the estimated-mean term δᵀC⁻¹δ = Σ g_i²/(N λ_i), g ~ N(0, I) independent of C by rotation invariance.
    Known mean: Tr C⁻¹ and ln det C straight from the tridiagonal in O(d) (no eigenvalues)."""
    if not est:
        st = white_wishart_resolvent_statistics(dd, n, [0.0], rng=rng, batch=k, xp=xp)
        return 0.5 * (st.trace_inv[:, 0] - dd + st.logdet[:, 0])
    ev = white_wishart_eigenvalues(dd, n, rng=rng, batch=k, method="tridiagonal", estimated_mean=True, xp=xp)
    xp = array_namespace(ev)
    g = standard_normal(rng, (k, dd), xp)
    return 0.5 * xp.sum(1 / ev - 1 + xp.log(ev) + g**2 / (n * ev), axis=1)


def kl_moments(ctx, name, dd, n, est, draws):
    return stream_moments(partial(kl_draws, dd, n, est, ctx.xp), ctx.batch_seeds(name, draws, WISHART_BATCH),
                          map=ctx.map)
