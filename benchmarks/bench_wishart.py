"""White Wishart eigenvalues, d = 1000, N = 2000: tridiagonal vs Bartlett vs dense, side by side.

Run: pytest benchmarks/bench_wishart.py --benchmark-only (pytest-benchmark). Targets (issue 4):
tridiagonal ≥ 30× faster than dense draw + eigvalsh; the dense draw within 1.5× of matrix product + eigvalsh.
"""

import numpy as np
import pytest

from lindiff_verify.simulation.wishart import white_wishart_eigenvalues

D, N = 1000, 2000


@pytest.mark.parametrize("method", ["tridiagonal", "bartlett", "dense"])
def test_white_wishart(benchmark, method):
    rng = np.random.default_rng(0)
    benchmark.group = "white wishart d=1000 N=2000"
    ev = benchmark(white_wishart_eigenvalues, D, N, rng=rng, method=method)
    assert ev.shape == (1, D)


def test_product_plus_eigvalsh_only(benchmark):
    x = np.random.default_rng(0).standard_normal((N, D))
    benchmark.group = "white wishart d=1000 N=2000"
    benchmark(lambda: np.linalg.eigvalsh(x.T @ x / N))
