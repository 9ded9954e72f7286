"""Benchmarks: eq.8–eq.10 for all T = 1000 timesteps at d = 4096 from a given C.

Run: pytest benchmarks/bench_core.py --benchmark-only -q
"""

import numpy as np
import pytest

from lindiff_verify.model import schedules
from lindiff_verify.theory.denoiser import LinearDenoiser, population_diagonal

D, T = 4096, 1000


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((D, 2 * D // 8)).astype(np.float64)
    C = x @ x.T / x.shape[1]  # rank-deficient PSD d×d (estimated-mean-like, N = d/4)
    lam, U = np.linalg.eigh(C)
    sig0 = np.linspace(0.1, 2.0, D)  # Σ0 diagonal in the standard basis
    return C, (lam, U), rng.standard_normal(D), sig0, schedules.linear(T)


def test_eigh_and_fit(benchmark, problem):
    """The one eigendecomposition of C (O(d³)) plus fitting."""
    C, _, m, _, sch = problem
    benchmark.pedantic(lambda: LinearDenoiser.fit(C, m, sch, c=0.01), rounds=2, iterations=1)


def test_eq8_eq9_eq10_all_timesteps(benchmark, problem):
    """Given the eigen-pair: eq.8 coefficients, eq.9/train loss, test loss and eq.10 gap for all T (O(T·d)),
    plus the t-independent Σ̃_ii (one O(d²) pass for a diagonal Σ0)."""
    _, eig, m, sig0, sch = problem

    def work():
        den = LinearDenoiser.fit(m=m, schedule=sch, eigen=eig, c=0.01)
        w = den.coefficients()
        return w, den.train_loss(), den.test_loss(np.zeros(D), sig0), den.gap(np.zeros(D), sig0)

    out = benchmark.pedantic(work, rounds=3, iterations=1)
    assert out[0].shape == (T, D) and out[3].shape == (T,)


def test_population_diagonal_dense(benchmark, problem):
    """Σ̃_ii for a dense Σ0: one d×d×d product, independent of t."""
    _, (lam, U), _, sig0, _ = problem
    S0 = np.diag(sig0)
    benchmark.pedantic(lambda: population_diagonal(U, S0), rounds=2, iterations=1)
