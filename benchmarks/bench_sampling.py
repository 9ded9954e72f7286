"""Speed of the exact sampler laws (against their written-out loops) and of the Monte Carlo engine.

Run: python benchmarks/regenerate.py (all benchmarks, writes RESULTS.md), or
pytest benchmarks/bench_sampling.py --benchmark-only -p no:cacheprovider
Target (issue 14): exact_moments ≤ 1.3× the written-out loop of the same recursion, every sampler, d = 4096, T = 1000.
"""

import numpy as np
import pytest

from benchmarks import written_out
from benchmarks.sidebyside import side_by_side
from lindiff_verify.model import schedules
from lindiff_verify.model.vp import make_grid
from lindiff_verify.simulation import montecarlo
from lindiff_verify.theory import samplers

D, T = 4096, 1000


@pytest.fixture(scope="module")
def spectrum():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((D // 2, D)) / np.sqrt(D // 2)
    return np.asarray(np.clip(np.linalg.svd(X, compute_uv=False) ** 2, 0, None).tolist() + [0.0] * (D - D // 2))


@pytest.mark.parametrize("name", list(samplers.SAMPLERS))
def test_exact_moments_d4096_T1000(benchmark, spectrum, name):
    """exact_moments (any schedule, c, start law, mean components) vs the written-out loop, side by side."""
    sch = schedules.linear(num_train_timesteps=T)
    grid = make_grid(sch)
    m = np.ones(D)
    benchmark.group = "exact sampler law, d = 4096, T = 1000"

    def law():
        return samplers.exact_moments(name, spectrum, sch, mean_components=m)

    def loop():
        return written_out.moments(name, grid, spectrum, 0.0, m)

    mean, var = benchmark.pedantic(law, rounds=5, iterations=1)
    rm, rv = loop()
    assert np.allclose(mean, rm, rtol=1e-12, atol=1e-12) and np.allclose(var, rv, rtol=1e-12, atol=1e-12)
    benchmark.extra_info.update(side_by_side(law, loop), limit="written-out loop (benchmarks/written_out.py)",
                                target_ratio_max=1.3)


def test_monte_carlo_throughput_numpy(benchmark):
    """DDPM Monte Carlo, d = 64, 20 000 paths, 100 steps, vs the raw normal draws it consumes."""
    d, n, steps = 64, 20000, 100
    sch = schedules.linear(num_train_timesteps=steps, beta_start=0.1 / steps, beta_end=20.0 / steps)
    grid = make_grid(sch)
    eps = samplers.eigen_denoiser(grid, np.linspace(0.1, 3, d), np.zeros(d))
    benchmark.group = "Monte Carlo"

    def mc():
        return montecarlo.monte_carlo_moments("ddpm", sch, eps, d, n, seed=0, batch_size=n)

    rng = np.random.default_rng(0)

    def draws():  # the limit: the (steps + 1) · n · d standard normals alone
        for _ in range(steps + 1):
            rng.standard_normal((n, d))

    r = benchmark.pedantic(mc, rounds=3, iterations=1)
    assert r.n == n
    benchmark.extra_info.update(side_by_side(mc, draws, rounds=3), limit="raw normal draws (n·d·(K + 1))",
                                elements_per_run=d * n * steps)
