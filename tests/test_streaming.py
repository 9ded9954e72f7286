"""Streamed Monte Carlo in named batches (simulation/streaming.py) and the Bartlett covariance draw."""

from __future__ import annotations

import numpy as np
import pytest
from array_api_compat import array_namespace

from lindiff_verify.model.errors import InputError
from lindiff_verify.simulation.streaming import normal_statistic, stream_dict, stream_moments
from lindiff_verify.simulation.wishart import bartlett_covariance
from lindiff_verify.verification.context import Context
from lindiff_verify.verification.tolerance import bonferroni_z


def _square_norm(z):
    return array_namespace(z).sum(z * z, axis=1)


def test_streamed_mean_of_a_chi_square_is_its_degrees_of_freedom_within_se():
    ctx = Context(seed=3).scoped("T", "stream")
    m = stream_moments(normal_statistic(_square_norm, (5,), ctx.xp), ctx.batch_seeds("z", 50_000, 7_000))
    assert m.n == 50_000
    assert abs(m.mean - 5.0) <= bonferroni_z(2) * np.sqrt(10.0 / m.n)  # E χ²_5 = 5, Var = 10
    assert abs(m.var - 10.0) <= 0.05 * 10.0


def test_batches_change_nothing_but_the_split_and_the_same_seed_gives_the_same_numbers():
    ctx = Context(seed=3).scoped("T", "stream")
    a = stream_moments(normal_statistic(_square_norm, (3,), ctx.xp), ctx.batch_seeds("z", 10_000, 1_000))
    b = stream_moments(normal_statistic(_square_norm, (3,), ctx.xp), ctx.batch_seeds("z", 10_000, 1_000))
    assert a.mean == b.mean and a.var == b.var
    seeds = ctx.batch_seeds("z", 10_000, 1_000)
    values = np.concatenate([_square_norm(np.random.default_rng(s).standard_normal((k, 3))) for s, k in seeds])
    assert a.mean == pytest.approx(values.mean(), rel=1e-12) and a.var == pytest.approx(values.var(ddof=1), rel=1e-10)


def test_vector_statistics_with_full_covariance_and_named_dicts():
    ctx = Context(seed=1).scoped("T", "vec")
    root = np.array([[1.0, 0.0], [0.5, 2.0]])
    m = stream_moments(normal_statistic(lambda z: z @ array_namespace(z).asarray(root.T), (2,), ctx.xp),
                       ctx.batch_seeds("x", 40_000, 10_000), full=True)
    assert np.allclose(m.cov, root @ root.T, atol=0.05)
    d = stream_dict(lambda rng, k: {"a": rng.standard_normal(k), "b": 2 + rng.standard_normal(k)},
                    ctx.batch_seeds("d", 20_000, 5_000))
    assert abs(d["a"].mean) < 0.05 and abs(d["b"].mean - 2) < 0.05


def test_bartlett_covariance_has_the_wishart_mean_and_diagonal_second_moment():
    sig = np.array([0.5, 1.0, 3.0])
    n, k = 12, 40_000
    c = bartlett_covariance(sig, n, rng=np.random.default_rng(0), batch=k)
    assert c.shape == (k, 3, 3) and np.allclose(c, np.swapaxes(c, 1, 2))
    z = bonferroni_z(6)
    mean = c.mean(0)
    # N·C ~ W(N, Σ0): E C = Σ0, Var C_ij = (σ_i σ_j + δ_ij σ_i²)/N
    var = (np.outer(sig, sig) + np.diag(sig**2)) / n
    assert np.all(np.abs(mean - np.diag(sig)) <= z * np.sqrt(var / k))
    diag2 = (c[:, range(3), range(3)] ** 2).mean(0)
    assert np.allclose(diag2, sig**2 * (1 + 2 / n), rtol=0.05)


def test_bartlett_covariance_needs_n_at_least_d():
    with pytest.raises(InputError, match="n_samples"):
        bartlett_covariance(np.ones(4), 3, rng=np.random.default_rng(0))
