"""Array backends. Library code takes its namespace from its inputs (array-api-compat);
this module only maps a backend *name* (CLI ``--backend``) to a namespace."""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace, is_cupy_namespace

from .errors import InputError

__all__ = ["BACKENDS", "namespace", "array_namespace", "to_numpy", "cupy_available", "is_cupy_namespace"]

BACKENDS = ("numpy", "cupy")


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
    raise InputError("backend", f"is {name!r}", "one of 'numpy', 'cupy'")


def to_numpy(x) -> np.ndarray:
    """Host NumPy copy of an array from any namespace."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "get"):
        return x.get()
    try:
        return np.asarray(x)
    except Exception:
        return np.from_dlpack(x)
