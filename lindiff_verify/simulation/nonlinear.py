r"""Holding any denoiser against the linear theory (paper §5, fig. 1c–d, fig. 3a–c, eq.16): Monte Carlo measures.

Every function takes denoisers ``eps(x, t)`` (:mod:`lindiff_verify.theory.reference_denoisers`), clean data
x_0 (rows) and a :class:`NoiseSchedule`; noise comes from a NumPy Generator (``ctx.rng(name)`` in checks).
Each measure is an average over rows of a per-row quantity and is returned with its standard error
(sample SD/√n, the rows being independent).

* :func:`eq16` — eq.16 as reconstructed in docs/mathematics.md §F.9: per eigen-direction u_i and t,
  D_i(t) = E[(u_iᵀ(ε_net − ε_lin))²] / (E[(u_iᵀ ε_lin)²] + δ), over noised inputs x_t = a_t x_0 + s_t ε;
* :func:`denoiser_loss` — E‖ε − ε̂(x_t, t)‖² per t (train loss on the training rows, test loss on fresh rows);
* :func:`alignment` — E‖ε_a(x_t, t) − ε_b(x_t, t)‖² per t (eq.14; fig. 1d for two independently trained models);
* :func:`sample` — samples of any denoiser through the project's sampler steps
  (:func:`lindiff_verify.simulation.montecarlo.sample_batch`);
* :func:`memorisation` — fig. 1c: cosine similarity of each sample to its nearest training example and the
  ratio of the distances to the nearest and second-nearest training example.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import validate
from ..model.errors import InputError
from ..model.schedules import NoiseSchedule
from ..model.vp import discrete_grid
from .montecarlo import sample_batch

__all__ = ["MeanSE", "Eq16Result", "eq16", "denoiser_loss", "alignment", "sample", "memorisation",
           "Memorisation", "noised"]


@dataclass(frozen=True)
class MeanSE:
    """A Monte Carlo mean (any shape) and its standard error; ``n`` independent rows."""

    mean: np.ndarray
    se: np.ndarray
    n: int


def _mean_se(v, axis=0) -> MeanSE:
    n = v.shape[axis]
    se = v.std(axis=axis, ddof=1) / np.sqrt(n) if n > 1 else np.full(np.delete(v.shape, axis), np.inf)
    return MeanSE(v.mean(axis=axis), se, n)


def _timesteps(ts, schedule: NoiseSchedule):
    if not isinstance(schedule, NoiseSchedule):
        raise InputError("schedule", f"is {type(schedule).__name__}", "a NoiseSchedule")
    T = schedule.num_train_timesteps
    out = np.atleast_1d(np.asarray(ts))
    if out.ndim != 1 or out.size == 0 or not np.all(np.mod(out, 1) == 0) or out.min() < 1 or out.max() > T:
        raise InputError("ts", f"is {ts!r}", f"a non-empty list of integer timesteps in 1..T = {T}")
    return [int(t) for t in out]


def _rows(name, x0, d=None):
    x = validate.finite_array(name, x0, ndim=2)
    if x.shape[0] < 2:
        raise InputError(name, f"has {x.shape[0]} row(s)", "at least 2 rows (a standard error needs 2)")
    if d is not None and x.shape[1] != d:
        raise InputError(name, f"has {x.shape[1]} columns", f"d = {d} columns")
    return x


def noised(x0, schedule: NoiseSchedule, t: int, rng: np.random.Generator):
    """(x_t, ε) with x_t = a_t x_0 + s_t ε, ε ~ N(0, I) drawn from ``rng`` (eq.1)."""
    eps = rng.standard_normal(x0.shape)
    i = t - 1
    return float(schedule.sqrt_alphas_cumprod[i]) * x0 + float(schedule.sqrt_one_minus_alphas_cumprod[i]) * eps, eps


@dataclass(frozen=True)
class Eq16Result:
    """Per (t, direction) Monte Carlo moments of p = u_iᵀ(ε_net − ε_lin) and q = u_iᵀ ε_lin.

    ``diff2`` = E p², ``lin2`` = E q², with SEs and the covariance of the two row means (for the SE of the
    ratio by the delta method). Shapes (len(ts), d). ``directions`` holds the u_i as columns."""

    ts: list
    directions: np.ndarray
    diff2: MeanSE
    lin2: MeanSE
    cov: np.ndarray

    def distance(self, delta: float):
        """eq.16 (docs/mathematics.md §F.9): E p² / (E q² + δ), shape (len(ts), d)."""
        delta = validate.positive("delta", delta)
        return self.diff2.mean / (self.lin2.mean + delta)

    def distance_se(self, delta: float):
        """Delta-method SE of :meth:`distance`: for R = A/(B + δ), Var R ≈ (Var A − 2R Cov(A, B) + R² Var B)/(B + δ)²."""
        delta = validate.positive("delta", delta)
        den = self.lin2.mean + delta
        R = self.diff2.mean / den
        var = self.diff2.se**2 - 2 * R * self.cov + R**2 * self.lin2.se**2
        return np.sqrt(np.clip(var, 0.0, None)) / den


def eq16(net, lin, x0, schedule: NoiseSchedule, ts, rng: np.random.Generator, *, directions=None) -> Eq16Result:
    """eq.16 moments of ``net`` against ``lin`` over x_t = a_t x_0 + s_t ε for the rows x_0 of ``x0``.

    ``directions``: the columns u_i (default: ``lin.eigenvectors``, the eigenbasis of the linear model's
    covariance, in ascending eigenvalue order as ``eigh`` returns them)."""
    ts = _timesteps(ts, schedule)
    x0 = _rows("x0", x0)
    U = getattr(lin, "eigenvectors", None) if directions is None else directions
    if U is None:
        raise InputError("directions", "is missing and the linear denoiser has no eigenvectors", "a (d, d) matrix")
    U = validate.finite_array("directions", U, ndim=2)
    if U.shape[0] != x0.shape[1]:
        raise InputError("directions", f"has shape {U.shape}", f"({x0.shape[1]}, k) columns u_i")
    d2, l2, cov = [], [], []
    for t in ts:
        xt, _ = noised(x0, schedule, t, rng)
        el = np.asarray(lin(xt, t))
        p2 = ((np.asarray(net(xt, t)) - el) @ U) ** 2
        q2 = (el @ U) ** 2
        d2.append(_mean_se(p2))
        l2.append(_mean_se(q2))
        n = p2.shape[0]
        cov.append(np.sum((p2 - p2.mean(0)) * (q2 - q2.mean(0)), axis=0) / (n - 1) / n)
    stack = lambda ms: MeanSE(np.array([m.mean for m in ms]), np.array([m.se for m in ms]), ms[0].n)  # noqa: E731
    return Eq16Result(ts, U, stack(d2), stack(l2), np.array(cov))


def denoiser_loss(eps, x0, schedule: NoiseSchedule, ts, rng: np.random.Generator, *, repeats: int = 1) -> MeanSE:
    """E_ε ‖ε − ε̂(a_t x_0 + s_t ε, t)‖² averaged over the rows x_0 of ``x0`` (summed over d, the eq.6 convention
    without the penalty), ``repeats`` noise draws per row; shape (len(ts),).

    Standard error: with ``repeats`` ≥ 2 it is *conditional on the rows* (only ε is random: the train loss of a
    fixed training set, SE² = Σ_μ Var_ε(ℓ_μ)/(repeats·N²)); with ``repeats`` = 1 the rows are treated as draws
    from the data distribution (the test loss on fresh rows, SE = row SD/√N)."""
    ts = _timesteps(ts, schedule)
    x0 = _rows("x0", x0) if repeats == 1 else validate.finite_array("x0", x0, ndim=2)
    repeats = validate.positive_int("repeats", repeats)
    n = x0.shape[0]
    xr = np.repeat(x0, repeats, axis=0)
    means, ses = [], []
    for t in ts:
        xt, e = noised(xr, schedule, t, rng)
        r = np.sum((e - np.asarray(eps(xt, t))) ** 2, axis=1).reshape(n, repeats)
        if repeats == 1:
            m = _mean_se(r[:, 0])
            means.append(m.mean)
            ses.append(m.se)
        else:
            means.append(r.mean())
            ses.append(np.sqrt(np.sum(r.var(axis=1, ddof=1)) / repeats) / n)
    return MeanSE(np.array(means), np.array(ses), n * repeats)


def alignment(eps_a, eps_b, x0, schedule: NoiseSchedule, ts, rng: np.random.Generator) -> MeanSE:
    """E ‖ε_a(x_t, t) − ε_b(x_t, t)‖² over x_t = a_t x_0 + s_t ε (eq.14; fig. 1d), per t, shape (len(ts),)."""
    ts = _timesteps(ts, schedule)
    x0 = _rows("x0", x0)
    out = []
    for t in ts:
        xt, _ = noised(x0, schedule, t, rng)
        out.append(_mean_se(np.sum((np.asarray(eps_a(xt, t)) - np.asarray(eps_b(xt, t))) ** 2, axis=1)))
    return MeanSE(np.array([m.mean for m in out]), np.array([m.se for m in out]), out[0].n)


def sample(eps, schedule: NoiseSchedule, n: int, d: int, rng: np.random.Generator, *, sampler: str = "ddpm",
           t_stop: int = 0, batch_size: int = 4096):
    """``n`` samples of ``eps`` by ``sampler`` (any of :data:`lindiff_verify.theory.samplers.SAMPLERS`) on the
    schedule's discrete grid from x_T ~ N(0, I) down to ``t_stop``; shape (n, d)."""
    n = validate.positive_int("n", n)
    d = validate.positive_int("d", d)
    batch_size = validate.positive_int("batch_size", batch_size)
    if not isinstance(schedule, NoiseSchedule):
        raise InputError("schedule", f"is {type(schedule).__name__}", "a NoiseSchedule")
    grid = discrete_grid(schedule, t_stop)
    steps = grid.t.astype(int)

    def on_grid(x, k):  # grid index k → 1-based timestep t_k
        return eps(x, int(steps[k]))

    parts = []
    for j in range(0, n, batch_size):
        nb = min(batch_size, n - j)
        parts.append(sample_batch(sampler, grid, on_grid, rng.standard_normal((nb, d)), rng))
    return np.concatenate(parts, axis=0)


@dataclass(frozen=True)
class Memorisation:
    """Per generated sample: cosine similarity to the nearest training example (1 = a copy's direction),
    the distances to the nearest and second-nearest training example and their ratio (0 = on a training point)."""

    similarity: np.ndarray
    nearest: np.ndarray
    second: np.ndarray
    nearest_index: np.ndarray

    @property
    def ratio(self):
        """nearest/second (0 on a training point; 1 when two training points tie, also at distance 0)."""
        ok = self.second > 0
        return np.where(ok, self.nearest / np.where(ok, self.second, 1.0), 1.0)

    def summary(self) -> dict:
        """Means with SEs of the similarity and ratio, and the fraction of samples with ratio < 1/3
        (the usual "memorised" criterion of Carlini et al. 2023 and Yoon et al. 2023)."""
        s, r = _mean_se(self.similarity), _mean_se(self.ratio)
        return {"similarity": float(s.mean), "similarity_se": float(s.se), "ratio": float(r.mean),
                "ratio_se": float(r.se), "memorised_fraction": float(np.mean(self.ratio < 1 / 3))}


def memorisation(samples, x_train, *, project=None) -> Memorisation:
    """fig. 1c measures of ``samples`` against ``x_train`` (Euclidean nearest neighbours).

    ``project``: optional (d, k) matrix; similarities and distances are then computed on the projections
    (appendix A of the paper projects onto sub-leading eigenvectors so that a uniform background does not
    dominate the cosine similarity)."""
    Y = validate.finite_array("samples", samples, ndim=2)
    X = validate.finite_array("x_train", x_train, ndim=2)
    if X.shape[0] < 2:
        raise InputError("x_train", f"has {X.shape[0]} row(s)", "at least 2 rows (a second-nearest neighbour)")
    if Y.shape[1] != X.shape[1]:
        raise InputError("samples", f"has {Y.shape[1]} columns", f"d = {X.shape[1]} columns like x_train")
    if project is not None:
        P = validate.finite_array("project", project, ndim=2)
        if P.shape[0] != X.shape[1]:
            raise InputError("project", f"has shape {P.shape}", f"({X.shape[1]}, k)")
        Y, X = Y @ P, X @ P
    d2 = np.sum(Y**2, 1)[:, None] - 2 * Y @ X.T + np.sum(X**2, 1)[None, :]
    d2 = np.clip(d2, 0.0, None)
    two = np.argpartition(d2, 1, axis=1)[:, :2]
    r = np.arange(Y.shape[0])
    a, b = d2[r, two[:, 0]], d2[r, two[:, 1]]
    swap = b < a
    near = np.where(swap, two[:, 1], two[:, 0])
    dn, ds = np.sqrt(np.minimum(a, b)), np.sqrt(np.maximum(a, b))
    Xn = X[near]
    norms = np.linalg.norm(Y, axis=1) * np.linalg.norm(Xn, axis=1)
    sim = np.sum(Y * Xn, axis=1) / np.where(norms > 0, norms, 1.0)
    return Memorisation(sim, dn, ds, near)
