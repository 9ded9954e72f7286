"""PyTorch side of §5 (optional extra [nn]): the module adapter, the frozen linear network and the U-Net."""

import numpy as np
import pytest

from lindiff_verify.model import datasets
from lindiff_verify.model.errors import InputError
from lindiff_verify.simulation import nonlinear as nl
from lindiff_verify.simulation import training
from lindiff_verify.simulation.torch_denoiser import torch_available
from lindiff_verify.theory import reference_denoisers as rd
from lindiff_verify.verification import tolerance

_OK, _WHY = torch_available()
pytestmark = pytest.mark.skipif(not _OK, reason=_WHY)
SCHED = training.authors_schedule()


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(training.CACHE_ENV, str(tmp_path / "cache"))


def _lin():
    x = np.random.default_rng(0).standard_normal((30, 4)) * [1.5, 1.0, 0.5, 0.2] + [0.3, 0.0, -0.2, 0.1]
    return rd.linear_denoiser(x, SCHED, c=1e-3), x


def test_frozen_torch_network_equals_the_numpy_one_and_the_linear_map():
    lin, x = _lin()
    tnet, npnet = training.frozen_linear_network(lin, backend="torch"), training.frozen_linear_network(lin)
    q = np.random.default_rng(1).standard_normal((16, 4))
    for t in (1, 250, 1000):
        np.testing.assert_allclose(tnet(q, t), npnet(q, t), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(tnet(q, t), lin(q, t), rtol=1e-5, atol=1e-5)
    assert not any(p.requires_grad for p in tnet.module.parameters())


def test_frozen_torch_network_has_eq16_distance_zero_within_its_error():
    lin, x = _lin()
    tnet = training.frozen_linear_network(lin, backend="torch")
    r = nl.eq16(tnet, lin, x, SCHED, [1, 100, 1000], np.random.default_rng(2))
    D, se = r.distance(1e-2), r.distance_se(1e-2)
    # float32 rounding: |Δ| ≤ 50·eps32·max|ε|·√d per direction
    bound = (50 * np.finfo(np.float32).eps * 40 * 2) ** 2 / 1e-2
    assert np.all(D <= tolerance.bonferroni_z(D.size) * se + bound)


def test_adapter_rejects_bad_shapes_and_timesteps():
    lin, _ = _lin()
    tnet = training.frozen_linear_network(lin, backend="torch")
    with pytest.raises(InputError, match="x"):
        tnet(np.zeros((2, 3)), 5)
    with pytest.raises(InputError, match="t"):
        tnet(np.zeros((2, 4)), 0)


def test_unet_trains_seeded_on_digits_and_is_cached():
    x = datasets.digits()[:64]
    cfg = training.UNetConfig(channels=8, emb_dim=16, steps=30, batch=32)
    a = training.train_unet(x, SCHED, (8, 8), cfg, seed=1)
    b = training.train_unet(x, SCHED, (8, 8), cfg, seed=1)
    assert not a.info.from_cache and b.info.from_cache
    q = x[:5]
    np.testing.assert_array_equal(a(q, 100), b(q, 100))
    c = training.train_unet(x, SCHED, (8, 8), cfg, seed=1, cache=False)
    np.testing.assert_allclose(a(q, 100), c(q, 100), rtol=1e-5, atol=1e-6)
    assert a(q, 100).shape == (5, 64) and np.all(np.isfinite(a(q, 3)))


def test_unet_needs_even_image_sides():
    with pytest.raises(InputError, match="image_shape"):
        training.train_unet(np.zeros((4, 9)), SCHED, (3, 3), training.UNetConfig(steps=1))
