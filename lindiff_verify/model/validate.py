"""Eager validation of user input. Every function raises :class:`InputError` naming the parameter."""

from __future__ import annotations

import numbers

import numpy as np

from .backend import to_numpy
from .errors import InputError

__all__ = [
    "spectrum",
    "positive_int",
    "nonnegative",
    "positive",
    "probability_open",
    "finite_array",
    "choice",
    "n_samples",
    "off_spectrum",
]


def _to_numpy(x):
    """Host float64 copy of an array from any namespace (backend.to_numpy)."""
    try:
        return np.asarray(to_numpy(x), dtype=np.float64)
    except AttributeError as exc:  # neither an array nor convertible (no __dlpack__)
        raise TypeError(str(exc)) from None


def finite_array(name: str, x, *, ndim: int | None = None, shape: tuple | None = None):
    """``x`` as a float64 NumPy array, all finite, optionally of a given ndim/shape."""
    try:
        arr = _to_numpy(x)
    except (TypeError, ValueError) as exc:
        raise InputError(name, f"not an array of real numbers ({exc})", "finite real numbers") from None
    if ndim is not None and arr.ndim != ndim:
        raise InputError(name, f"has {arr.ndim} dimensions, shape {arr.shape}", f"a {ndim}-dimensional array")
    if shape is not None and arr.shape != tuple(shape):
        raise InputError(name, f"has shape {arr.shape}", f"shape {tuple(shape)}")
    if arr.size and not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr.ravel()))[0])
        raise InputError(name, f"entry {bad} is {arr.ravel()[bad]}", "finite real numbers")
    return arr


def spectrum(name: str, x, *, strictly_positive: bool = False, allow_empty: bool = False):
    """Eigenvalues: a finite 1-d array, non-negative (or strictly positive)."""
    arr = finite_array(name, x)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise InputError(name, f"has shape {arr.shape}", "a 1-d array of eigenvalues")
    if arr.size == 0 and not allow_empty:
        raise InputError(name, "is empty", "at least one eigenvalue")
    if strictly_positive:
        if np.any(arr <= 0):
            i = int(np.flatnonzero(arr <= 0)[0])
            raise InputError(name, f"eigenvalue {i} is {arr[i]!r}", "eigenvalues > 0")
    elif np.any(arr < 0):
        i = int(np.flatnonzero(arr < 0)[0])
        raise InputError(name, f"eigenvalue {i} is {arr[i]!r}", "eigenvalues >= 0")
    return arr


def _is_bool(x) -> bool:
    return isinstance(x, (bool, np.bool_))


def positive_int(name: str, n, *, minimum: int = 1) -> int:
    """An integer ≥ ``minimum``; integral floats (2.0) are accepted, booleans are not."""
    if _is_bool(n):
        raise InputError(name, f"is {n!r} (a boolean)", f"an integer >= {minimum}")
    if not isinstance(n, numbers.Integral):
        if isinstance(n, numbers.Real) and float(n).is_integer():
            n = int(n)
        else:
            raise InputError(name, f"is {n!r}", f"an integer >= {minimum}")
    n = int(n)
    if n < minimum:
        raise InputError(name, f"is {n}", f"an integer >= {minimum}")
    return n


def n_samples(n, *, estimated_mean: bool, name: str = "N") -> int:
    """Training-set size: N >= 1 with a known mean, N >= 2 with an estimated mean."""
    return positive_int(name, n, minimum=2 if estimated_mean else 1)


def _real(name, x) -> float:
    if _is_bool(x):
        raise InputError(name, f"is {x!r} (a boolean)", "a real number")
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise InputError(name, f"is {x!r}", "a real number") from None
    if not np.isfinite(v):
        raise InputError(name, f"is {v}", "a finite real number")
    return v


def nonnegative(name: str, x) -> float:
    v = _real(name, x)
    if v < 0:
        raise InputError(name, f"is {v!r}", f"{name} >= 0")
    return v


def positive(name: str, x) -> float:
    v = _real(name, x)
    if v <= 0:
        raise InputError(name, f"is {v!r}", f"{name} > 0")
    return v


def probability_open(name: str, x):
    """Values strictly inside (0, 1) (e.g. ``betas``); scalar or array."""
    arr = finite_array(name, x)
    bad = (arr <= 0) | (arr >= 1)
    if np.any(bad):
        i = int(np.flatnonzero(bad.ravel())[0])
        where = f"entry {i} is" if arr.ndim else "is"
        raise InputError(name, f"{where} {arr.ravel()[i]!r}", "values in the open interval (0, 1)")
    return arr


def choice(name: str, value, allowed):
    if value not in allowed:
        raise InputError(name, f"is {value!r}", "one of " + ", ".join(map(repr, allowed)))
    return value


def off_spectrum(name: str, w) -> np.ndarray:
    """``w`` as a complex128 array of finite points off the real half-line [0, ∞) (where a Wishart spectrum
    lies): the arguments of a Stieltjes transform."""
    try:
        arr = np.asarray(w, dtype=np.complex128)
    except (TypeError, ValueError):
        raise InputError(name, f"is {w!r}", "complex numbers") from None
    if arr.size and not np.all(np.isfinite(arr)):
        raise InputError(name, "has a non-finite entry", "finite complex numbers")
    bad = (arr.imag == 0) & (arr.real >= 0)
    if np.any(bad):
        i = int(np.flatnonzero(bad.ravel())[0])
        raise InputError(name, f"entry {i} is {arr.ravel()[i]!r} (on the real half-line, where the spectrum lies)",
                         "Im z ≠ 0, or real z < 0 (use spectral_density for z on the support)")
    return arr
