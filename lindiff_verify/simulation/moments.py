r"""Running moments of streamed draws: count, mean and (co)variance merged batch by batch.

Chan, Golub & LeVeque's parallel update: a batch with n_b rows, mean m_b and centred sum of squares M2_b merges
into (n, m, M2) as n' = n + n_b, m' = m + δ n_b/n', M2' = M2 + M2_b + δδᵀ n n_b/n' (δ = m_b − m). Only the
moments are kept, never the draws; the batch is reduced in its own namespace (NumPy, CuPy, array-api-strict)
and merged on the host in float64.
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from ..model.backend import to_numpy

__all__ = ["RunningMoments"]


def _plain(a):
    """0-d results as Python floats (scalar statistics), arrays as they are."""
    return float(a) if np.ndim(a) == 0 else a


class RunningMoments:
    """Running mean and variance of draws stacked along axis 0: a scalar statistic (batches of shape (k,)),
    a vector (k, d) with per-coordinate variances, or with ``full=True`` the full d × d covariance."""

    def __init__(self, full: bool = False):
        self.full = full
        self.n = 0
        self._mean = None
        self.m2 = None

    def update(self, x) -> "RunningMoments":
        if isinstance(x, (list, tuple, float, int)):
            x = np.asarray(x, dtype=np.float64)
        xp = array_namespace(x)
        nb = int(x.shape[0])
        if nb == 0:
            return self
        mb = xp.mean(x, axis=0)
        xc = x - mb
        m2b = (xp.matrix_transpose(xc) @ xc) if self.full else xp.sum(xc * xc, axis=0)
        mb, m2b = np.asarray(to_numpy(mb), dtype=np.float64), np.asarray(to_numpy(m2b), dtype=np.float64)
        if self.n == 0:
            self.n, self._mean, self.m2 = nb, mb, m2b
            return self
        n = self.n + nb
        delta = mb - self._mean
        self._mean = self._mean + delta * (nb / n)
        corr = np.outer(delta, delta) if self.full else delta * delta
        self.m2 = self.m2 + m2b + corr * (self.n * nb / n)
        self.n = n
        return self

    @property
    def mean(self):
        """The running mean (a float for a scalar statistic; None before the first draw)."""
        return None if self._mean is None else _plain(self._mean)

    @property
    def count(self) -> int:
        return self.n

    @property
    def cov(self):
        """Unbiased (co)variance (NaN with fewer than two draws)."""
        if self.n < 2:
            return _plain(np.full(np.shape(self.m2), np.nan))
        return _plain(self.m2 / (self.n - 1))

    @property
    def var(self):
        return np.diag(self.cov) if self.full else self.cov

    @property
    def se(self):
        """Standard error of the mean (NaN with fewer than two draws)."""
        return _plain(np.sqrt(np.asarray(self.var) / max(self.n, 1)))
