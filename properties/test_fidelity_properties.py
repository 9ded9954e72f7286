"""Hypothesis properties of the authors' settings: trace-normalised power laws, VP → DDPM discretisation."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from lindiff_verify.model import spectra
from lindiff_verify.model.vp import VPSchedule, discretise_vp


@given(st.integers(1, 300), st.floats(0.0, 4.0), st.floats(0.1, 10.0))
def test_trace_normalised_power_law_has_trace_scale_times_d(d, k, scale):
    s = spectra.power_law(d, k, scale=scale, normalise="trace")
    assert np.isclose(s.sum(), scale * d, rtol=1e-12)
    # same shape as the σ_1-normalised one: the two differ by one factor
    np.testing.assert_allclose(s / s[0], spectra.power_law(d, k, normalise="top"), rtol=1e-12)


@given(st.floats(0.01, 1.0), st.floats(1.0, 30.0), st.integers(1, 400), st.floats(0.0, 0.5),
       st.sampled_from(["song", "halved"]))
def test_alphabar_ratio_discretisation_reproduces_the_continuous_alphabar(bmin, bmax, k, t_stop, conv):
    vp = VPSchedule(bmin, bmax)
    sch = discretise_vp(vp, k, t_stop=t_stop, convention=conv)
    f = 1.0 if conv == "song" else 2.0
    expect = np.exp(f * (vp.log_alphabar(1.0) - vp.log_alphabar(t_stop)))
    assert np.isclose(sch.alphas_cumprod[-1], expect, rtol=1e-10)
