"""Array backends. Library code takes its namespace from its inputs (array-api-compat);
this module only maps a backend *name* (CLI ``--backend``) to a namespace."""

from __future__ import annotations

import functools

import numpy as np
from array_api_compat import array_namespace, is_cupy_namespace, is_numpy_namespace

from .errors import InputError

__all__ = ["BACKENDS", "GPU_BACKENDS", "namespace", "array_namespace", "to_numpy", "cupy_available",
           "is_cupy_namespace", "device_name", "noise_source", "standard_normal"]

#: ``array-api-strict`` is NumPy behind the bare standard (CPU): a run on it proves the code is backend-generic
BACKENDS = ("numpy", "cupy", "array-api-strict")
GPU_BACKENDS = ("cupy",)


def cupy_available() -> tuple[bool, str]:
    """(True, device name) if CuPy imports and sees a CUDA device, else (False, reason)."""
    try:
        import cupy

        n = cupy.cuda.runtime.getDeviceCount()
        if n < 1:
            return False, "CuPy is installed but no CUDA device is visible"
        props = cupy.cuda.runtime.getDeviceProperties(0)
        return True, props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    except Exception as exc:  # ImportError, CUDARuntimeError, ...
        return False, f"CuPy unavailable: {type(exc).__name__}: {exc}".splitlines()[0]


def namespace(name: str):
    """The array-API namespace for a backend name."""
    if name == "numpy":
        import array_api_compat.numpy as xp

        return xp
    if name == "cupy":
        ok, why = cupy_available()
        if not ok:
            raise InputError("backend", f"'cupy' cannot be used here: {why}", "numpy, or cupy on a machine with a CUDA GPU")
        import array_api_compat.cupy as xp

        return xp
    if name == "array-api-strict":
        try:
            import array_api_strict as xp
        except ImportError as exc:
            raise InputError("backend", f"'array-api-strict' is not installed ({exc})", "numpy, or pip install array-api-strict") from exc
        return xp
    raise InputError("backend", f"is {name!r}", "one of " + ", ".join(repr(b) for b in BACKENDS))


@functools.lru_cache(maxsize=None)
def device_name(name: str) -> str:
    """Where a backend's arrays live: ``cpu`` for the CPU namespaces, the CUDA device's name for CuPy."""
    if name == "cupy":
        ok, why = cupy_available()
        return f"gpu: {why}" if ok else "unavailable"
    return "cpu"


def to_numpy(x) -> np.ndarray:
    """Host NumPy copy of an array from any namespace (NumPy arrays are returned as they are)."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "get"):  # CuPy
        return x.get()
    try:
        return np.asarray(x)
    except Exception:  # array-api-strict: only through DLPack
        return np.from_dlpack(x)


def noise_source(rng: np.random.Generator, xp):
    """shape -> float64 standard normal array in namespace ``xp``, all draws determined by ``rng``.

    NumPy: ``rng.standard_normal`` itself. CuPy: a device generator seeded once from ``rng`` (one integer drawn),
    so the numbers are drawn on the GPU. Other CPU namespaces: ``rng``'s draws converted."""
    if is_cupy_namespace(xp):
        import cupy

        dev = cupy.random.default_rng(int(rng.integers(2**63)))
        return lambda shape: dev.standard_normal(shape, dtype=cupy.float64)
    if xp is np or is_numpy_namespace(xp):
        return rng.standard_normal
    return lambda shape: xp.asarray(rng.standard_normal(shape))


def standard_normal(rng: np.random.Generator, shape, xp):
    """One standard normal array of ``shape`` in ``xp`` (see :func:`noise_source`)."""
    return noise_source(rng, xp)(shape)
