"""White Wishart draws: eigenvalues (tridiagonal / Bartlett / dense) and O(d) linear spectral statistics.

Run: python benchmarks/regenerate.py, or pytest benchmarks/bench_wishart.py --benchmark-only -p no:cacheprovider
Targets (issue 14): Tr (C + z)^{-1}, Tr (C + z)^{-2}, ln det(C + z) for 10 z ≥ 30× faster than the dense path
(dense draw + eigvalsh + the same statistics) at d = 1000, N = 2000, ≥ 100× at d = 4000, N = 8000.
"""

import numpy as np
import pytest
from scipy.linalg.lapack import dsterf

from benchmarks.sidebyside import side_by_side
from lindiff_verify.simulation.wishart import (laguerre_tridiagonal, white_wishart_eigenvalues,
                                               white_wishart_resolvent_statistics)

D, N = 1000, 2000
Z = np.geomspace(1e-3, 10.0, 10)


def _stats_from_eigenvalues(ev):
    r = 1.0 / (ev[:, :, None] + Z)
    return r.sum(1), (r * r).sum(1), np.log(ev[:, :, None] + Z).sum(1)


@pytest.mark.parametrize("method", ["tridiagonal", "bartlett", "dense"])
def test_white_wishart_eigenvalues(benchmark, method):
    rng = np.random.default_rng(0)
    benchmark.group = "white Wishart eigenvalues, d = 1000, N = 2000"
    ev = benchmark.pedantic(white_wishart_eigenvalues, args=(D, N), kwargs={"rng": rng, "method": method},
                            rounds=5, iterations=1)
    assert ev.shape == (1, D)
    if method == "tridiagonal":  # its limit: LAPACK's dsterf alone on a tridiagonal of the same size
        diag, off = laguerre_tridiagonal(D, N, rng=rng)
        benchmark.extra_info.update(side_by_side(lambda: white_wishart_eigenvalues(D, N, rng=rng, method=method),
                                                 lambda: dsterf(diag[0], off[0])),
                                    limit="LAPACK dsterf alone")
    if method == "dense":  # its limit: the matrix product and eigvalsh alone
        x = np.random.default_rng(1).standard_normal((N, D))
        benchmark.extra_info.update(side_by_side(lambda: white_wishart_eigenvalues(D, N, rng=rng, method=method),
                                                 lambda: np.linalg.eigvalsh(x.T @ x / N), rounds=5),
                                    limit="XᵀX/N and LAPACK eigvalsh alone")


@pytest.mark.parametrize("d,batch", [(1000, 16), (1000, 1), (4000, 16)])
def test_white_resolvent_statistics_10z(benchmark, d, batch):
    """Per draw: the O(d) statistics (batch draws per call) against the dense path and the raw random draw."""
    n = 2 * d
    rng = np.random.default_rng(0)
    benchmark.group = f"linear spectral statistics, 10 z, d = {d}, N = {n}"

    def fast():
        return white_wishart_resolvent_statistics(d, n, Z, rng=rng, batch=batch)

    def dense():
        return _stats_from_eigenvalues(white_wishart_eigenvalues(d, n, rng=rng, method="dense"))

    def tridiagonal_eigenvalues():  # the previous fast path: dsterf eigenvalues, then the statistics
        return _stats_from_eigenvalues(white_wishart_eigenvalues(d, n, rng=rng, batch=batch))

    def draw():  # the limit: the chi variables of the tridiagonal alone
        return laguerre_tridiagonal(d, n, rng=rng, batch=batch)

    st = benchmark.pedantic(fast, rounds=3, iterations=1)
    assert st.trace_inv.shape == (batch, Z.size)
    rounds = 2 if d >= 4000 else 5  # the dense path at d = 4000 takes seconds per draw
    vs_dense = side_by_side(fast, dense, rounds=rounds, per_path=batch)
    benchmark.extra_info.update(
        speedup_vs_dense=1.0 / vs_dense["ratio_median"], dense_median_s=vs_dense["limit_median_s"],
        per_draw_median_s=vs_dense["path_median_s"], batch=batch,
        speedup_vs_tridiagonal_eigenvalues=1.0 / side_by_side(fast, tridiagonal_eigenvalues, rounds=rounds)["ratio_median"],
        **side_by_side(fast, draw, rounds=rounds), limit="the raw draw (laguerre_tridiagonal)",
        target_speedup_vs_dense=30 if d < 4000 else 100)
