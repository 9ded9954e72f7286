r"""Written-out loops of the exact sampler laws: the limit :func:`samplers.exact_moments` is measured against.

One plain NumPy loop per sampler over the grid's steps k = K, ..., 1, each step's per-direction affine map
x' = A x + B + N z typed out from the sampler's definition with the eq.8 denoiser ε = s (x − a m)/v,
v = ᾱ λ' + 1 − ᾱ (λ' = λ + c), and the update mean ← A mean + B, var ← A² var + N². No generality beyond
that (the grid, λ', m and the start law are given as arrays), no blocks, no records: what a user would type.
The tests also use them as a third, independent implementation of the laws.
"""

from __future__ import annotations

import numpy as np

from lindiff_verify.model.vp import TimeGrid


def ddpm(g: TimeGrid, lc, m, mu, var, posterior=False):
    for k in range(g.num_steps, 0, -1):
        ab, abp, om, omp = g.alphabar[k], g.alphabar[k - 1], g.one_minus_alphabar[k], g.one_minus_alphabar[k - 1]
        beta = 1.0 - ab / abp
        v = ab * lc + om
        A = (1.0 - beta / v) / np.sqrt(1.0 - beta)
        B = beta * np.sqrt(ab) * m / (v * np.sqrt(1.0 - beta))
        mu = A * mu + B
        var = A * A * var + (beta * omp / om if posterior else beta)
    return mu, var


def ddpm_posterior(g, lc, m, mu, var):
    return ddpm(g, lc, m, mu, var, posterior=True)


def ddim(g, lc, m, mu, var):
    for k in range(g.num_steps, 0, -1):
        ab, abp, om, omp = g.alphabar[k], g.alphabar[k - 1], g.one_minus_alphabar[k], g.one_minus_alphabar[k - 1]
        v = ab * lc + om
        c_eps = np.sqrt(omp) - np.sqrt(abp / ab) * np.sqrt(om)  # x' = (a'/a) x + c_eps ε
        A = np.sqrt(abp / ab) + c_eps * np.sqrt(om) / v
        B = -c_eps * np.sqrt(om) * np.sqrt(ab) * m / v
        mu = A * mu + B
        var = A * A * var
    return mu, var


def euler_maruyama(g, lc, m, mu, var):
    for k in range(g.num_steps, 0, -1):
        h, b = g.t[k] - g.t[k - 1], g.beta_rate[k]
        v = g.alphabar[k] * lc + g.one_minus_alphabar[k]
        A = 1.0 + h * b * (0.5 - 1.0 / v)
        B = h * b * np.sqrt(g.alphabar[k]) * m / v
        mu = A * mu + B
        var = A * A * var + b * h
    return mu, var


def exponential_integrator(g, lc, m, mu, var):
    for k in range(g.num_steps, 0, -1):
        ab, abp, om, omp = g.alphabar[k], g.alphabar[k - 1], g.one_minus_alphabar[k], g.one_minus_alphabar[k - 1]
        v = ab * lc + om
        w = 2.0 * np.sqrt(abp) * (np.sqrt(om / ab) - np.sqrt(omp / abp)) * np.sqrt(om)  # coefficient of (x − a m)/v
        A = np.sqrt(abp / ab) - w / v
        B = w * np.sqrt(ab) * m / v
        mu = A * mu + B
        var = A * A * var + abp / ab - 1.0
    return mu, var


def _drift(g, k, lc, m):
    """ODE drift at grid point k per direction: f(x) = F x + G."""
    b, ab = g.beta_rate[k], g.alphabar[k]
    v = ab * lc + g.one_minus_alphabar[k]
    return 0.5 * b * (1.0 - 1.0 / v), 0.5 * b * np.sqrt(ab) * m / v


def euler(g, lc, m, mu, var):
    for k in range(g.num_steps, 0, -1):
        h = g.t[k] - g.t[k - 1]
        F, G = _drift(g, k, lc, m)
        A, B = 1.0 + h * F, h * G
        mu = A * mu + B
        var = A * A * var
    return mu, var


def heun(g, lc, m, mu, var):
    for k in range(g.num_steps, 0, -1):
        h = g.t[k] - g.t[k - 1]
        F1, G1 = _drift(g, k, lc, m)
        if g.one_minus_alphabar[k - 1] <= 0.0:  # last step into ᾱ = 1: Euler
            A, B = 1.0 + h * F1, h * G1
        else:
            F2, G2 = _drift(g, k - 1, lc, m)  # at the Euler predictor x + h(F1 x + G1)
            A = 1.0 + 0.5 * h * (F1 + F2 * (1.0 + h * F1))
            B = 0.5 * h * (G1 + G2 + F2 * h * G1)
        mu = A * mu + B
        var = A * A * var
    return mu, var


LOOPS = {"ddpm": ddpm, "ddpm_posterior": ddpm_posterior, "ddim": ddim, "euler_maruyama": euler_maruyama,
         "exponential_integrator": exponential_integrator, "euler": euler, "heun": heun}


def moments(name, grid: TimeGrid, lam, c=0.0, m=None, start_mean=0.0, start_var=1.0):
    """Run the written-out loop of sampler ``name``; returns (mean, var) per direction."""
    lc = np.asarray(lam, float) + c
    m = np.zeros_like(lc) if m is None else np.asarray(m, float)
    return LOOPS[name](grid, lc, m, np.full_like(lc, start_mean), np.full_like(lc, start_var))
