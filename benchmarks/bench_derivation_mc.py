"""Derivations' Monte Carlo glue vs the engines' raw throughput, at the same sizes (NumPy).

Run: python -m pytest benchmarks/bench_derivation_mc.py --benchmark-only (pytest-benchmark). Target (issue 10):
the derivation path (ctx.paths, named batch streams, ctx.map, host merge of running moments) runs at ≥ 0.8
of the engine call that draws the same numbers in one go. Each group pairs ``raw`` with ``derivation``;
``extra_info`` records the draws per second.

* noise average (eq.2/eq.6): 2^19 noise draws, d = 8 — raw: one standard_normal + the residual statistic;
* white Wishart resolvent (D.11–D.16): d = 200, N = 400, 4000 draws — raw: one
  ``white_wishart_resolvent_statistics`` call;
* dense Wishart traces (X.1): d = 30, N = 45, 2000 draws — raw: one ``covariance_eigh`` call + the traces.
"""

from __future__ import annotations

import importlib
from functools import partial

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from lindiff_verify.simulation.streaming import stream_dict
from lindiff_verify.simulation.wishart import covariance_eigh, white_wishart_resolvent_statistics
from lindiff_verify.verification.context import Context
from lindiff_verify.verification.registry import BUILTIN_PACKAGE, discover


def _module(name):
    discover()  # registers the built-in derivations package
    return importlib.import_module(f"{BUILTIN_PACKAGE}.{name}")


EQ6 = _module("main.eq02_eq06_training_loss")
REPLICA = _module("appendix_d._replica")
X1 = _module("extensions.x_real_gaussian_correction")

N_NOISE, D_NOISE = 1 << 19, 8
D_W, N_W, DRAWS_W = 200, 400, 4000
DRAWS_X1, N_X1 = 2000, 45


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Both paths on one BLAS thread (batched small LAPACK calls thrash with more; the machine is shared)."""
    with threadpool_limits(limits=1):
        yield


def _measure(benchmark, run):
    return benchmark.pedantic(run, rounds=7, warmup_rounds=1)


def _ctx():
    return Context(seed=0).scoped("bench", "derivation mc")


def _noise_problem():
    rng = np.random.default_rng(1)
    return rng.standard_normal((D_NOISE, D_NOISE)) / np.sqrt(D_NOISE), rng.standard_normal(D_NOISE), rng.standard_normal(D_NOISE), 0.6


@pytest.mark.parametrize("path", ["raw", "derivation"])
def test_noise_average(benchmark, path):
    W, b, x, ab = _noise_problem()
    benchmark.group = f"noise average: {N_NOISE} draws, d = {D_NOISE}"
    if path == "raw":
        def run():
            e = np.random.default_rng(0).standard_normal((N_NOISE, D_NOISE))
            sq = EQ6._residual_sq(W, b, x, ab**0.5, (1 - ab) ** 0.5, e)
            return float(sq.mean()), float(sq.var(ddof=1))
    else:
        def run():
            ctx = _ctx()
            n = ctx.paths(quick=N_NOISE, what="noise draws")
            m = EQ6._noise_average(ctx, "noise", n, W, b, x, ab)
            return float(m.mean), float(m.var)
    mean, var = _measure(benchmark, run)
    benchmark.extra_info["draws_per_s"] = N_NOISE / benchmark.stats.stats.min
    assert np.isfinite(mean) and var > 0


@pytest.mark.parametrize("path", ["raw", "derivation"])
def test_white_wishart_resolvent(benchmark, path):
    zs = REPLICA.MC_Z
    benchmark.group = f"white Wishart resolvent: d = {D_W}, N = {N_W}, {DRAWS_W} draws"
    if path == "raw":
        def run():
            tr = white_wishart_resolvent_statistics(D_W, N_W, list(zs), rng=np.random.default_rng(0), batch=DRAWS_W)
            return tr.trace_inv.shape[0]
    else:
        def run():
            ctx = _ctx()
            mom = stream_dict(partial(REPLICA._white_resolvent_draws, D_W, N_W, zs, ctx.xp),
                              ctx.batch_seeds("white", DRAWS_W, REPLICA.WHITE_BATCH), map=ctx.map)
            return mom[zs[0]].n
    assert _measure(benchmark, run) == DRAWS_W
    benchmark.extra_info["draws_per_s"] = DRAWS_W / benchmark.stats.stats.min


@pytest.mark.parametrize("path", ["raw", "derivation"])
def test_dense_wishart_traces(benchmark, path):
    sig = X1._mc_spectrum()
    benchmark.group = f"dense Wishart traces: d = {sig.size}, N = {N_X1}, {DRAWS_X1} draws"
    if path == "raw":
        def run():
            lam, u = covariance_eigh(sig, N_X1, rng=np.random.default_rng(0), batch=DRAWS_X1)
            sig_t = np.einsum("kji,j->ki", u**2, sig)
            return [((1 / (lam + z)).sum(1), (sig_t / (lam + z)).sum(1)) for z in X1.MC_ZS][0][0].shape[0]
    else:
        def run():
            ctx = _ctx()
            mom = stream_dict(partial(X1._trace_draws, sig, N_X1, ctx.xp), ctx.batch_seeds("dense", DRAWS_X1, 1000),
                              map=ctx.map)
            return mom[(X1.MC_ZS[0], "trR")].n
    assert _measure(benchmark, run) == DRAWS_X1
    benchmark.extra_info["draws_per_s"] = DRAWS_X1 / benchmark.stats.stats.min
