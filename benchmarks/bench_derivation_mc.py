"""Derivations' Monte Carlo glue vs the engines' raw throughput, at the same sizes (NumPy).

Run: python -m pytest benchmarks/bench_derivation_mc.py --benchmark-only (pytest-benchmark), or
``python benchmarks/regenerate.py -k derivation``. Target (issue 10): the derivation path (ctx.paths, named batch
streams, ctx.map, host merge of running moments) runs at ≥ 0.8 of the throughput of the engine call that draws the
same number of samples in one go, i.e. a time ratio ≤ 1.25, measured side by side (``benchmarks/sidebyside.py``).

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

from benchmarks.sidebyside import side_by_side
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




def _ctx():
    return Context(seed=0).scoped("bench", "derivation mc")


def _noise_problem():
    rng = np.random.default_rng(1)
    return rng.standard_normal((D_NOISE, D_NOISE)) / np.sqrt(D_NOISE), rng.standard_normal(D_NOISE), rng.standard_normal(D_NOISE), 0.6


def noise_raw():
    W, b, x, ab = _noise_problem()
    e = np.random.default_rng(0).standard_normal((N_NOISE, D_NOISE))
    sq = EQ6._residual_sq(W, b, x, ab**0.5, (1 - ab) ** 0.5, e)
    return float(sq.mean()), float(sq.var(ddof=1))


def noise_derivation():
    W, b, x, ab = _noise_problem()
    ctx = _ctx()
    m = EQ6._noise_average(ctx, "noise", ctx.paths(quick=N_NOISE, what="noise draws"), W, b, x, ab)
    return float(m.mean), float(m.var)


def white_raw():
    tr = white_wishart_resolvent_statistics(D_W, N_W, list(REPLICA.MC_Z), rng=np.random.default_rng(0), batch=DRAWS_W)
    return tr.trace_inv.shape[0]


def white_derivation():
    ctx = _ctx()
    mom = stream_dict(partial(REPLICA._white_resolvent_draws, D_W, N_W, REPLICA.MC_Z, ctx.xp),
                      ctx.batch_seeds("white", DRAWS_W, REPLICA.WHITE_BATCH), map=ctx.map)
    return mom[REPLICA.MC_Z[0]].n


def dense_raw():
    sig = X1._mc_spectrum()
    lam, u = covariance_eigh(sig, N_X1, rng=np.random.default_rng(0), batch=DRAWS_X1)
    sig_t = np.einsum("kji,j->ki", u**2, sig)
    traces = [((1 / (lam + z)).sum(1), (sig_t / (lam + z)).sum(1)) for z in X1.MC_ZS]
    return traces[0][0].shape[0]


def dense_derivation():
    ctx = _ctx()
    mom = stream_dict(partial(X1._trace_draws, X1._mc_spectrum(), N_X1, ctx.xp), ctx.batch_seeds("dense", DRAWS_X1, 1000),
                      map=ctx.map)
    return mom[(X1.MC_ZS[0], "trR")].n


CASES = {
    f"noise average, {N_NOISE} draws, d = {D_NOISE}": (noise_derivation, noise_raw, N_NOISE),
    f"white Wishart resolvent, d = {D_W}, N = {N_W}, {DRAWS_W} draws": (white_derivation, white_raw, DRAWS_W),
    f"dense Wishart traces, d = 30, N = {N_X1}, {DRAWS_X1} draws": (dense_derivation, dense_raw, DRAWS_X1),
}


def test_the_two_paths_draw_the_same_number_of_samples():
    assert noise_derivation()[1] > 0 and white_derivation() == white_raw() and dense_derivation() == dense_raw()


@pytest.mark.parametrize("case", list(CASES))
def test_derivation_monte_carlo_against_the_raw_engine(benchmark, case):
    path, limit, n = CASES[case]
    benchmark.group = "derivations' Monte Carlo vs the raw engine call (issue 10: ≥ 0.8 of its throughput)"
    benchmark.pedantic(path, rounds=3, warmup_rounds=1)
    # time ratio ≤ 1.25 ⇔ throughput ≥ 0.8 of the raw engine's
    benchmark.extra_info.update(side_by_side(path, limit, rounds=5), limit="the raw engine call, same draws",
                                target_ratio_max=1.25, draws=n)
