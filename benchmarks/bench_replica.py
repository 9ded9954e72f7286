"""Speed targets: solve_kappa for 1000 z on a d = 10⁴ spectrum (< 0.5 s); solve_kappa_mp at 50 digits, d = 1000 (< 5 s)."""

import numpy as np

from lindiff_verify.theory.replica import Equivalents
from lindiff_verify.theory.stieltjes import solve_kappa, solve_kappa_mp


def test_bench_solve_kappa_1000z_d1e4(benchmark):
    sig = np.random.default_rng(0).uniform(0.1, 3.0, 10_000)
    z = np.geomspace(1e-4, 1e2, 1000)
    k = benchmark(solve_kappa, z, sig, 5000)
    assert k.shape == (1000,)
    assert benchmark.stats["mean"] < 0.5


def test_bench_solve_kappa_mp_d1000(benchmark):
    sig = np.random.default_rng(1).uniform(0.1, 3.0, 1000)
    benchmark.pedantic(solve_kappa_mp, args=(0.37, sig, 700), kwargs={"dps": 50}, rounds=3, iterations=1)
    assert benchmark.stats["mean"] < 5


def test_bench_equivalents_1000z_d1e4(benchmark):
    sig = np.random.default_rng(2).uniform(0.1, 3.0, 10_000)
    z = np.geomspace(1e-4, 1e2, 1000)
    benchmark(Equivalents.from_spectrum, z, sig, 5000)
