"""The lead's schedules module, tested against independent computations."""

import math

import numpy as np
import pytest

from lindiff_verify.model import schedules
from lindiff_verify.model.errors import InputError


def test_alphas_cumprod_equals_direct_product():
    s = schedules.linear(50, 1e-3, 0.2)
    prod, out = 1.0, []
    for b in np.linspace(1e-3, 0.2, 50):
        prod *= 1 - b
        out.append(prod)
    np.testing.assert_allclose(s.alphas_cumprod, out, rtol=1e-13)
    np.testing.assert_allclose(s.alphas_cumprod_prev, [1.0] + out[:-1], rtol=1e-13)


def test_constant_schedule_closed_form():
    s = schedules.constant(0.01, 100)
    t = np.arange(1, 101)
    np.testing.assert_allclose(s.alphas_cumprod, 0.99**t, rtol=1e-13)
    np.testing.assert_allclose(s.sqrt_one_minus_alphas_cumprod ** 2 + s.sqrt_alphas_cumprod**2, 1.0, rtol=1e-14)


def test_posterior_variance_by_formula():
    s = schedules.linear(20, 1e-2, 0.1)
    ab = s.alphas_cumprod
    prev = np.concatenate([[1.0], ab[:-1]])
    np.testing.assert_allclose(s.posterior_variance, s.betas * (1 - prev) / (1 - ab), rtol=1e-10, atol=1e-300)
    assert s.posterior_variance[0] == 0.0


def test_small_t_accuracy_of_one_minus_alphabar():
    s = schedules.constant(1e-12, 3)
    np.testing.assert_allclose(s.one_minus_alphas_cumprod, [1e-12, 2e-12, 3e-12], rtol=1e-9)


def test_cosine_formula():
    T, off = 10, 0.008
    s = schedules.cosine(T, off)
    f = lambda u: math.cos((u + off) / (1 + off) * math.pi / 2) ** 2  # noqa: E731
    np.testing.assert_allclose(s.alphas_cumprod, [f(t / T) / f(0) for t in range(1, T + 1)][:-1] + [s.alphas_cumprod[-1]],
                               rtol=1e-12)
    assert s.betas.max() <= 0.999


def test_mp_alphas_cumprod_matches():
    s = schedules.linear(30)
    np.testing.assert_allclose([float(v) for v in s.mp_alphas_cumprod()], s.alphas_cumprod, rtol=1e-14)


@pytest.mark.parametrize("betas", [[0.0, 0.1], [0.5, 1.0], [0.1, float("nan")], [-0.1]])
def test_bad_betas(betas):
    with pytest.raises(InputError, match="betas"):
        schedules.from_betas(betas)


def test_bad_names_and_timesteps():
    with pytest.raises(InputError, match="num_train_timesteps"):
        schedules.linear(0)
    with pytest.raises(InputError, match="schedule"):
        schedules.make_schedule("quadratic")
    with pytest.raises(InputError, match="t"):
        schedules.linear(5).timestep(6)


def test_merger_goldt_is_the_authors_linear_formula():
    # docs/mathematics.md §F.1: β_t = 1e-4 + (1e-2 − 1e-4)·t/T, t = 1..T
    s = schedules.merger_goldt(1000)
    assert s.betas[0] == pytest.approx(1e-4 + 9.9e-3 / 1000, rel=1e-14)
    assert s.betas[-1] == pytest.approx(1e-2, rel=1e-14)
    assert s.alphas_cumprod[-1] == pytest.approx(math.prod(1 - (1e-4 + 9.9e-6 * t) for t in range(1, 1001)), rel=1e-12)
    assert s.alphas_cumprod[-1] == pytest.approx(6.3e-3, rel=0.01)  # the value quoted in §F.1
    assert s.alphas_cumprod[49] == pytest.approx(0.9825, abs=1e-4)


def test_paper_schedule_is_not_ho_et_al():
    assert schedules.PAPER_SCHEDULE == "merger_goldt"
    assert schedules.make_schedule("merger_goldt").betas[-1] == pytest.approx(1e-2)
    assert schedules.linear().betas[-1] == pytest.approx(2e-2)


def test_named_schedules_by_default_are_the_published_ones():
    """Ho et al. (2020): T = 1000, β linear from 1e-4 to 0.02; Nichol & Dhariwal (2021): T = 1000, s = 0.008,
    ᾱ_t = f(t)/f(0) with f(t) = cos²((t/T + s)/(1 + s)·π/2), β_t = 1 − ᾱ_t/ᾱ_{t−1} clipped at 0.999."""
    np.testing.assert_allclose(schedules.make_schedule("linear").betas, np.linspace(1e-4, 0.02, 1000), rtol=1e-14)
    T, s = 1000, 0.008
    f = [math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2 for t in range(T + 1)]
    betas = [min(1 - f[t] / f[t - 1], 0.999) for t in range(1, T + 1)]
    np.testing.assert_allclose(schedules.make_schedule("cosine").betas, betas, rtol=1e-12)
