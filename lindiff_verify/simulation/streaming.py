r"""Monte Carlo averages streamed in named batches, on any array backend.

A statistic is averaged over draws made in batches: batch *i* draws from child *i* of a named stream's
``SeedSequence`` (``ctx.batch_seeds(name, n, batch)``), computes the per-draw values in the namespace
``xp`` (NumPy, CuPy, array-api-strict) and hands them to the host, where they are merged **in batch order**
into running moments (mean, variance, SE = √(var/n)). The batches are independent, so ``map`` may run them
anywhere (``ctx.map``: tasks on a Dask cluster inside a worker) without changing a single number.

* :func:`stream_moments` — the generic loop: ``batch(rng, k)`` returns the values of k draws;
* :func:`normal_statistic` — a batch function from a statistic of standard normal draws z ∈ ℝ^{k × tail}
  (noise averages of losses, test data);
* :func:`stream_dict` — several named statistics of the same draws (e.g. of one Wishart spectrum).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from ..model.backend import standard_normal, to_numpy
from .montecarlo import RunningMoments

__all__ = ["stream_moments", "stream_dict", "normal_statistic"]


def _host_values(v) -> np.ndarray:
    """Host float64 copy of a batch's values: (k,) for a scalar statistic, (k, d) for a vector."""
    return np.asarray(to_numpy(v), dtype=np.float64)


def _run_batch(batch: Callable, item):
    seq, k = item
    out = batch(np.random.default_rng(seq), k)
    if isinstance(out, dict):
        return {name: _host_values(v) for name, v in out.items()}
    return _host_values(out)


def stream_moments(batch: Callable, seeds: Sequence, *, map=None, full: bool = False) -> RunningMoments:
    """Running moments of ``batch(rng, k)`` (k values, or k vectors, in any namespace) over
    ``seeds`` = [(SeedSequence, k)]; ``full``: the full covariance of vector values."""
    parts = (map or _serial)(partial(_run_batch, batch), list(seeds))
    acc = RunningMoments(full=full)
    for values in parts:
        acc.update(values)
    return acc


def stream_dict(batch: Callable, seeds: Sequence, *, map=None) -> dict[str, RunningMoments]:
    """As :func:`stream_moments` for a ``batch`` returning ``{name: k values}``: running moments per name."""
    parts = (map or _serial)(partial(_run_batch, batch), list(seeds))
    acc: dict[str, RunningMoments] = {}
    for values in parts:
        for name, v in values.items():
            acc.setdefault(name, RunningMoments()).update(v)
    return acc


def _serial(fn, items):
    return [fn(x) for x in items]


def _normal_batch(statistic, tail, xp, rng, k):
    return statistic(standard_normal(rng, (k, *tail), xp))


def normal_statistic(statistic: Callable, tail: tuple[int, ...], xp) -> Callable:
    """Batch function ``(rng, k) -> statistic(z)``, z a (k, *tail) standard normal array in ``xp``.

    ``statistic`` maps the draws to k values in the same namespace (take ``xp`` from ``z``)."""
    return partial(_normal_batch, statistic, tuple(int(t) for t in tail), xp)
