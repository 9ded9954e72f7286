r"""Shared machinery of §5 (non-linear denoisers against the linear theory); not a derivation file.

The authors' schedule (β from 1e-4 to 1e-2, T = 1000; docs/mathematics.md §F.1), Gaussian draws, the digits data
(scikit-learn's 8×8 digits, a labelled substitute for the paper's MNIST/CelebA) with the train/test split and the
streams shared by checks and figures (so they share the cached networks), the network configurations, the eq.16
measurements of trained networks on real data, and the orthogonality test functions of a conditional mean.
"""

from __future__ import annotations

import functools

import numpy as np

from lindiff_verify.model import datasets
from lindiff_verify.simulation import nonlinear as nl
from lindiff_verify.simulation import training
from lindiff_verify.theory import reference_denoisers as rd
from lindiff_verify.verification import tolerance
from lindiff_verify.verification.context import Context
from lindiff_verify.verification.registry import Case

SCHED = training.authors_schedule()


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _gaussian(rng, n, sig, mu=None):
    x = rng.standard_normal((n, sig.size)) * np.sqrt(sig)
    return x if mu is None else x + mu


@functools.lru_cache(maxsize=1)
def _digits():
    return datasets.digits()


def _shared_rng(ctx, name):
    """A stream keyed without the check/figure scope, so that checks and figures draw the same training sets
    (and share the cached networks); recorded in ``ctx.seeds_used`` like every stream."""
    return Context(ctx.seed, ctx.fidelity, ctx.backend, ctx.dps, ("§5 shared",), ctx.seeds_used).rng(name)


def _net_seed(ctx, N):
    return int(ctx.seed) * 100_003 + int(N)


def _digits_split(ctx):
    x = _digits()
    perm = _shared_rng(ctx, "digits split").permutation(x.shape[0])
    return x[perm[:1500]], x[perm[1500:]]


REAL_TS = [1, 5, 20, 50, 100, 200, 400, 700, 1000]
MLP_REAL = training.MLPConfig(hidden=128, steps=1500)
MLP_REAL_FULL = training.MLPConfig(hidden=256, steps=6000)

MLP51 = training.MLPConfig(hidden=64, steps=1500)  # the Gaussian-data MLP of S5.1, also in the S5.2/S5.3 figures


def _real_measure(ctx, name, x_train_all, x_test, Ns, nets):
    """eq.16 maps of networks trained on N rows against the linear model (c = 1e-3) on all training rows."""
    lin = rd.linear_denoiser(x_train_all, SCHED, c=1e-3)
    U = lin.eigenvectors[:, ::-1]  # leading direction first (i = 1 has the largest eigenvalue)
    maps, times = {}, {}
    for N in Ns:
        net = nets(x_train_all[:N], N)
        r = nl.eq16(net, lin, x_test, SCHED, REAL_TS, ctx.rng(f"{name} eq16 N={N}"), directions=U)
        maps[N] = (r.distance(1e-2), r.distance_se(1e-2))
        times[N] = (net.info.train_seconds, net.info.cpu_seconds)
    return lin, maps, times


def _summarise(label, maps, times, d):
    """Numbers for the report: where the network is close (D < 0.1), leading vs trailing, small vs large t."""
    out = {}
    lead = max(1, d // 10)
    small_t = np.array(REAL_TS) <= 50
    for N, (D, _) in maps.items():
        out[f"{label} N={N}: median D over (t, i)"] = float(np.median(D))
        out[f"{label} N={N}: fraction of (t, i) with D < 0.1"] = float(np.mean(D < 0.1))
        out[f"{label} N={N}: mean D, leading {lead} directions, t <= 50"] = float(D[small_t][:, :lead].mean())
        out[f"{label} N={N}: mean D, other cells"] = float(np.mean(np.delete(D.ravel(), np.flatnonzero(
            (small_t[:, None] & (np.arange(d) < lead)[None, :]).ravel()))))
        out[f"{label} N={N}: median D per t = {REAL_TS}"] = ", ".join(f"{v:.3g}" for v in np.median(D, axis=1))
        out[f"{label} N={N}: median D per tenth of the directions (leading first)"] = ", ".join(
            f"{np.median(D[:, k * d // 10:(k + 1) * d // 10]):.3g}" for k in range(10))
        out[f"{label} N={N}: training seconds, wall (original run)"] = float(times[N][0])
        out[f"{label} N={N}: training seconds, CPU (original run)"] = float(times[N][1])
    if len(maps) > 1:  # "do the differences grow with N?": log-log slopes over N, measured (not judged)
        Ns = np.array(sorted(maps))
        lead_small = [out[f"{label} N={N}: mean D, leading {lead} directions, t <= 50"] for N in Ns]
        med = [out[f"{label} N={N}: median D over (t, i)"] for N in Ns]
        out[f"{label}: log-log slope over N of the leading/small-t mean D"] = float(np.polyfit(np.log(Ns), np.log(lead_small), 1)[0])
        out[f"{label}: log-log slope over N of the median D"] = float(np.polyfit(np.log(Ns), np.log(med), 1)[0])
    return out


def _tests(xt):
    """Non-linear and linear test functions g(x_t): the conditional mean is orthogonal to all of them."""
    return {"x": xt, "x³": xt**3, "tanh(2x)": np.tanh(2 * xt), "x·x_next": xt * np.roll(xt, 1, axis=1)}


def _orth_cases(resid, xt, label, n_total, out):
    for gname, g in _tests(xt).items():
        prod = resid * g
        m, se = prod.mean(0), prod.std(0, ddof=1) / np.sqrt(prod.shape[0])
        tol = tolerance.monte_carlo(se, n_cases=n_total)
        out.tolerance_model = tol.model
        for i in range(m.size):
            out.cases.append(Case({**label, "g": gname, "coordinate": i + 1}, float(m[i]), 0.0, float(tol.value[i])))
