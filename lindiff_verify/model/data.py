r"""Gaussian training data x ~ N(μ0, Σ0), Σ0 = O diag(σ) Oᵀ, and its empirical moments (docs/mathematics.md §0).

Two variants of the empirical covariance, both named explicitly:

* estimated mean (default): m = (1/N) Σ_μ x^μ, C = (1/N) Σ_μ (x^μ − m)(x^μ − m)ᵀ  (N·C ~ Wishart_d(N − 1, Σ0)), N ≥ 2;
* known mean (μ0 = 0): m = 0, C = (1/N) Σ_μ x^μ x^μᵀ  (N·C ~ Wishart_d(N, Σ0)), N ≥ 1.
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from . import validate
from .errors import InputError

__all__ = ["random_rotation", "sample_gaussian", "empirical_moments"]


def random_rotation(d: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-distributed orthogonal d×d matrix (QR of a Gaussian matrix with the sign fix of Mezzadri 2007)."""
    d = validate.positive_int("d", d)
    if not isinstance(rng, np.random.Generator):
        raise InputError("rng", f"is {type(rng).__name__}", "a numpy.random.Generator (use ctx.rng(name))")
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))[None, :]


def sample_gaussian(n: int, spectrum, *, mean=None, rotation=None, rng: np.random.Generator) -> np.ndarray:
    """n rows x = μ0 + O diag(√σ) z, z ~ N(0, I): data with covariance O diag(σ) Oᵀ.

    ``rotation`` O defaults to the identity (Σ0 diagonal); ``mean`` μ0 defaults to 0. Returns (n, d) float64.
    """
    n = validate.positive_int("n", n)
    sig = validate.spectrum("spectrum", spectrum)
    d = sig.size
    if not isinstance(rng, np.random.Generator):
        raise InputError("rng", f"is {type(rng).__name__}", "a numpy.random.Generator (use ctx.rng(name))")
    x = rng.standard_normal((n, d)) * np.sqrt(sig)[None, :]
    if rotation is not None:
        O = validate.finite_array("rotation", rotation, shape=(d, d))
        x = x @ O.T
    if mean is not None:
        x = x + validate.finite_array("mean", mean, shape=(d,))[None, :]
    return x


def empirical_moments(x, estimated_mean: bool = True):
    """(m, C) of the rows of ``x`` (shape (N, d)) in the array namespace of ``x``.

    estimated_mean=True: m = x̄, C = (1/N) Σ (x − m)(x − m)ᵀ (needs N ≥ 2);
    estimated_mean=False: m = 0, C = (1/N) Σ x xᵀ (known mean μ0 = 0; needs N ≥ 1).
    """
    xp = array_namespace(x)
    if x.ndim != 2:
        raise InputError("x", f"has shape {tuple(x.shape)}", "a 2-d array (N samples, d dimensions)")
    N = validate.n_samples(int(x.shape[0]), estimated_mean=bool(estimated_mean))
    if not bool(xp.all(xp.isfinite(x))):
        raise InputError("x", "contains non-finite entries", "finite real numbers")
    if estimated_mean:
        m = xp.mean(x, axis=0)
        xc = x - m[None, :]
    else:
        m = xp.zeros(x.shape[1], dtype=x.dtype)
        xc = x
    C = (xc.T @ xc) / N
    return m, C
