"""Speed of the exact sampler laws and of the Monte Carlo engine (pytest-benchmark).

Run: pytest benchmarks/bench_sampling.py --benchmark-only -p no:cacheprovider
"""

import numpy as np
import pytest

from lindiff_verify.simulation import montecarlo
from lindiff_verify.theory import samplers
from lindiff_verify.model import schedules
from lindiff_verify.model.vp import make_grid

D, T = 4096, 1000


@pytest.fixture(scope="module")
def spectrum():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((D // 2, D)) / np.sqrt(D // 2)
    return np.clip(np.linalg.svd(X, compute_uv=False) ** 2, 0, None).tolist() + [0.0] * (D - D // 2)


@pytest.mark.parametrize("name", ["ddpm", "ddpm_posterior", "ddim", "heun"])
def test_exact_moments_d4096_T1000(benchmark, spectrum, name):
    lam = np.asarray(spectrum)
    sch = schedules.linear(num_train_timesteps=T)
    mean, var = benchmark(samplers.exact_moments, name, lam, sch, mean_components=np.ones(D))
    assert np.all(np.isfinite(var))


def test_ddpm_written_out_recursion_d4096_T1000(benchmark, spectrum):
    lam = np.asarray(spectrum)
    benchmark(samplers.ddpm_moments, lam, schedules.linear(num_train_timesteps=T))


def test_monte_carlo_throughput_numpy(benchmark):
    d, n, steps = 64, 20000, 100
    sch = schedules.linear(num_train_timesteps=steps, beta_start=0.1 / steps, beta_end=20.0 / steps)
    grid = make_grid(sch)
    eps = samplers.eigen_denoiser(grid, np.linspace(0.1, 3, d), np.zeros(d))
    benchmark.extra_info["elements_per_run"] = d * n * steps
    r = benchmark(montecarlo.monte_carlo_moments, "ddpm", sch, eps, d, n, seed=0, batch_size=n)
    assert r.n == n
