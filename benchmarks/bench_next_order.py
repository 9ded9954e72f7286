"""Speed target (issue 12): the next-order equivalents (X.5: κ, every sum, all corrected traces and ln det) for
1000 z on a d = 10⁴ spectrum in under 0.5 s — the same order as the leading ones (bench_replica.py)."""

import numpy as np

from lindiff_verify.theory.next_order import NextOrder, alignment_two_models


def _all_traces(z, sig, n):
    e = NextOrder.from_spectrum(z, sig, n)
    return (e.tr_R, e.tr_Sigma_R, e.tr_R2, e.tr_R_Sigma_R, e.tr_Sigma_R_Sigma_R, e.logdet)


def test_bench_next_order_1000z_d1e4(benchmark):
    sig = np.random.default_rng(2).uniform(0.1, 3.0, 10_000)
    z = np.geomspace(1e-4, 1e2, 1000)
    out = benchmark(_all_traces, z, sig, 5000)
    assert out[0].shape == (1000,)
    assert benchmark.stats["min"] < 0.5


def test_bench_two_models_1000z_d1e4(benchmark):
    sig = np.random.default_rng(3).uniform(0.1, 3.0, 10_000)
    q = np.geomspace(1e-4, 1e2, 1000)
    out = benchmark(alignment_two_models, q, sig, 5000, 20000)
    assert out.shape == (1000,)
