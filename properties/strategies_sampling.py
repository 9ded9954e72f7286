"""Hypothesis strategies for sampler and dynamics properties (spectra, short schedules, regularisation c)."""

import numpy as np
from hypothesis import strategies as st

from lindiff_verify.model import schedules


def spectra(*, min_size: int = 1, max_size: int = 4, lo: float = 0.0, hi: float = 8.0):
    """Eigenvalue arrays in [lo, hi]."""
    if not 0 <= lo < hi:
        raise ValueError("need 0 <= lo < hi")
    return st.lists(st.floats(lo, hi, allow_nan=False), min_size=min_size, max_size=max_size).map(np.array)


def short_schedules(*, max_T: int = 40):
    """Constant or linear DDPM schedules with few steps and ᾱ_T not too small."""
    const = st.builds(lambda b, T: schedules.constant(b, T), st.floats(0.005, 0.08), st.integers(5, max_T))
    lin = st.builds(lambda T, b0, b1: schedules.linear(num_train_timesteps=T, beta_start=b0, beta_end=b1),
                    st.integers(5, max_T), st.floats(1e-3, 0.02), st.floats(0.02, 0.1))
    return st.one_of(const, lin)


def regularisation():
    return st.one_of(st.just(0.0), st.floats(0.0, 1.0))
