"""GPU check of the Monte Carlo engine (run once on a GPU machine; needs `pip install cupy-cuda12x`).

Runs the same DDPM Monte Carlo on NumPy and on CuPy, checks both against the exact recursion within
their standard errors (Bonferroni z), and prints throughput (trajectories × steps × dims per second) and the
speed ratio as one compact JSON line. Total run time well under 3 minutes.
"""

import json
import sys
import time

import numpy as np

from lindiff_verify.simulation import montecarlo
from lindiff_verify.theory import samplers
from lindiff_verify.model import schedules
from lindiff_verify.verification import tolerance
from lindiff_verify.model.backend import cupy_available
from lindiff_verify.model.vp import make_grid


def run(xp, n, d, steps, seed):
    sch = schedules.linear(num_train_timesteps=steps, beta_start=0.1 / steps, beta_end=20.0 / steps)
    grid = make_grid(sch)
    lam = np.linspace(0.05, 4.0, d)
    m = np.linspace(-1.0, 1.0, d)
    eps = samplers.eigen_denoiser(grid, lam, m, c=0.05)
    montecarlo.monte_carlo_moments("ddpm", sch, eps, d, 1000, seed=seed, xp=xp, batch_size=1000)  # warm-up
    t0 = time.perf_counter()
    r = montecarlo.monte_carlo_moments("ddpm", sch, eps, d, n, seed=seed, xp=xp, batch_size=min(n, 100_000))
    if "cupy" in getattr(xp, "__name__", ""):
        import cupy

        cupy.cuda.Device().synchronize()
    dt = time.perf_counter() - t0
    mean, var = samplers.exact_moments("ddpm", lam, sch, c=0.05, mean_components=m)
    zm = np.abs(r.mean - mean) / r.se_mean
    zv = np.abs(r.var - var) / r.se_var
    zcrit = tolerance.bonferroni_z(2 * d)
    return {"seconds": round(dt, 3), "throughput": n * steps * d / dt, "max_z_mean": float(zm.max()),
            "max_z_var": float(zv.max()), "z_crit": round(zcrit, 2), "agree": bool(zm.max() <= zcrit and zv.max() <= zcrit)}


def main():
    n, d, steps = 200_000, 64, 200
    out = {"n_paths": n, "d": d, "steps": steps}
    import array_api_compat.numpy as npx

    out["numpy"] = run(npx, n // 10, d, steps, seed=1)
    ok, why = cupy_available()
    if ok:
        import array_api_compat.cupy as cpx

        out["device"] = why
        out["cupy"] = run(cpx, n, d, steps, seed=1)
        out["speed_ratio_cupy_over_numpy"] = out["cupy"]["throughput"] / out["numpy"]["throughput"]
    else:
        out["cupy"] = {"skipped": why}
    print(json.dumps(out))
    agree = out["numpy"]["agree"] and out["cupy"].get("agree", True)
    sys.exit(0 if agree else 1)


if __name__ == "__main__":
    main()
