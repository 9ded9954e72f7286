"""Side-by-side timing: a hot path and its limit run alternately in the same process, round after round.

On a shared, loaded machine the absolute times drift by factors of several within a minute; the ratio of two
calls made back to back drifts far less. Each benchmark therefore records, next to pytest-benchmark's own
statistics, the median of the per-round ratios t(path)/t(limit) (and the two medians) in ``extra_info``,
which ``benchmarks/regenerate.py`` turns into RESULTS.md.
"""

from __future__ import annotations

import os
import time

import numpy as np


def side_by_side(path, limit, *, rounds: int = 7, per_path: float = 1.0, per_limit: float = 1.0) -> dict:
    """Median seconds of ``path()`` and ``limit()`` (each divided by its unit count ``per_*``, e.g. draws per call)
    over ``rounds`` alternating rounds, and the median per-round ratio path/limit."""
    path()
    limit()  # warm-up: caches, first-call allocations
    tp, tl = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        path()
        t1 = time.perf_counter()
        limit()
        t2 = time.perf_counter()
        tp.append((t1 - t0) / per_path)
        tl.append((t2 - t1) / per_limit)
    tp, tl = np.array(tp), np.array(tl)
    return {"path_median_s": float(np.median(tp)), "limit_median_s": float(np.median(tl)),
            "ratio_median": float(np.median(tp / tl)), "rounds": rounds, "load_average": os.getloadavg()[0]}
