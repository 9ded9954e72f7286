"""GPU check of the Wishart engine (run once on a GPU machine with CuPy).

Dense draws of known-mean empirical covariances for a power-law Σ0 on NumPy and on CuPy (same code, the
namespace comes from ``xp``): both are checked against the exact Wishart moments
E (1/d) Tr C = mean σ and E (1/d) Tr C² = [(1 + 1/N) Σσ² + (Σσ)²/N]/d within z·SE (Bonferroni), and the
throughput (draws + eigvalsh per second) and speed ratio are printed as one JSON line.
"""

import json
import sys
import time

import numpy as np

from lindiff_verify.verification import tolerance
from lindiff_verify.simulation import wishart
from lindiff_verify.model.backend import cupy_available
from lindiff_verify.model.spectra import power_law


def run(xp, d, n, batches, batch, seed, sync=lambda: None):
    sig = power_law(d, 1.0)
    exact1 = sig.mean()
    exact2 = ((1 + 1 / n) * np.sum(sig**2) + np.sum(sig) ** 2 / n) / d
    rng = np.random.default_rng(seed)
    wishart.covariance_eigvalsh(sig, n, rng=rng, batch=2, xp=xp)  # warm-up
    sync()
    t1, t2 = [], []
    t0 = time.perf_counter()
    for _ in range(batches):
        ev = wishart.covariance_eigvalsh(sig, n, rng=rng, batch=batch, xp=xp)
        ev = ev.get() if hasattr(ev, "get") else np.asarray(ev)
        t1.append(ev.mean(axis=1))
        t2.append((ev**2).mean(axis=1))
    sync()
    dt = time.perf_counter() - t0
    t1, t2 = np.concatenate(t1), np.concatenate(t2)
    z = [abs(t.mean() - e) / (t.std(ddof=1) / np.sqrt(t.size)) for t, e in ((t1, exact1), (t2, exact2))]
    zc = tolerance.bonferroni_z(2)
    return {"draws": int(t1.size), "seconds": round(dt, 3), "draws_per_second": t1.size / dt,
            "z_tr_c": round(float(z[0]), 2), "z_tr_c2": round(float(z[1]), 2), "z_crit": round(zc, 2),
            "agree": bool(max(z) <= zc)}


def main():
    d, n = 512, 1024
    import array_api_compat.numpy as npx

    out = {"d": d, "N": n, "numpy": run(npx, d, n, batches=2, batch=16, seed=1)}
    ok, why = cupy_available()
    if ok:
        import array_api_compat.cupy as cpx
        import cupy

        out["device"] = why
        out["cupy"] = run(cpx, d, n, batches=8, batch=64, seed=1, sync=cupy.cuda.Device().synchronize)
        out["speed_ratio_cupy_over_numpy"] = out["cupy"]["draws_per_second"] / out["numpy"]["draws_per_second"]
    else:
        out["cupy"] = {"skipped": why}
    print(json.dumps(out))
    sys.exit(0 if out["numpy"]["agree"] and out["cupy"].get("agree", True) else 1)


if __name__ == "__main__":
    main()
