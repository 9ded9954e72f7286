r"""Non-linear, time-conditioned denoisers trained on CPU on the authors' schedule (paper §5), cached on disk.

* :func:`train_mlp` — a scikit-learn ReLU MLP (base install) on features (x_t, a_t, s_t, sin/cos(π k t/T), k = 1..3),
  trained with Adam on the ε-prediction loss of eq.2 with fresh (t, ε) draws at every step;
* :func:`train_unet` — a small U-Net (:func:`~lindiff_verify.simulation.torch_denoiser.small_unet`) on
  image-shaped rows (optional extra ``[nn]``, PyTorch);
* :func:`frozen_linear_network` — a per-timestep affine network whose float32 weights are set to eq.8 and
  frozen (NumPy, or a torch module through the adapter): the identity check of the eq.16 pipeline.

Every run is seeded (``seed`` → NumPy Generator for (x^μ, t, ε) draws; estimator/torch initialisation from the
same seed). Trained models are stored with joblib under :func:`cache_dir` by a hash of (kind, configuration,
seed, training data, schedule, library version): a second call with the same inputs loads instead of training.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import joblib
import numpy as np
from threadpoolctl import threadpool_limits

from ..model import schedules, validate
from ..model.errors import InputError
from ..model.schedules import NoiseSchedule
from ..theory.reference_denoisers import check_inputs

__all__ = ["authors_schedule", "cache_dir", "MLPConfig", "UNetConfig", "MLPDenoiser", "train_mlp", "train_unet",
           "frozen_linear_network", "TrainedInfo"]

#: environment variable overriding the cache folder
CACHE_ENV = "LINDIFF_VERIFY_CACHE"
#: Adam steps per partial_fit call (one call = one pass over fresh draws in minibatches)
_STEPS_PER_CALL = 50


def authors_schedule(num_train_timesteps: int = 1000) -> NoiseSchedule:
    """The authors' schedule (docs/mathematics.md §F.1): β_t = 1e-4 + (1e-2 − 1e-4)·t/T, t = 1..T.

    The one place §5 builds it; to be pointed at ``schedules.merger_goldt`` once that exists."""
    if hasattr(schedules, "merger_goldt"):
        return schedules.merger_goldt(num_train_timesteps=num_train_timesteps)
    T = validate.positive_int("num_train_timesteps", num_train_timesteps)
    betas = 1e-4 + (1e-2 - 1e-4) * np.arange(1, T + 1, dtype=np.float64) / T
    return schedules.from_betas(betas, name="merger_goldt")


def cache_dir() -> Path:
    """``$LINDIFF_VERIFY_CACHE`` or ``~/.cache/lindiff-verify``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "lindiff-verify")


@dataclass(frozen=True)
class TrainedInfo:
    """How a model came about: wall-clock and CPU (process) training time of the original run — on a shared
    machine the CPU time is the cost — and whether it was loaded from the cache."""

    kind: str
    key: str
    train_seconds: float
    from_cache: bool
    cpu_seconds: float = float("nan")


def _key(kind: str, config, seed: int, x: np.ndarray, schedule: NoiseSchedule, version: str) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"kind": kind, "config": asdict(config), "seed": seed, "version": version},
                        sort_keys=True).encode())
    h.update(np.ascontiguousarray(x, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(schedule.betas).tobytes())
    return h.hexdigest()[:24]


def _cached(kind, key, cache, train):
    """Load ``kind-key.joblib`` from the cache folder or call ``train()`` → (payload, seconds) and store it."""
    folder = None if cache is False else Path(cache_dir() if cache in (None, True) else cache)
    path = folder / f"{kind}-{key}.joblib" if folder is not None else None
    if path is not None and path.exists():
        stored = joblib.load(path)
        return stored["payload"], TrainedInfo(kind, key, stored["train_seconds"], True, stored.get("cpu_seconds", np.nan))
    t0, c0 = time.perf_counter(), time.process_time()
    payload = train()
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    if path is not None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        joblib.dump({"payload": payload, "train_seconds": secs, "cpu_seconds": cpu}, tmp)
        os.replace(tmp, path)
    return payload, TrainedInfo(kind, key, secs, False, cpu)


def _training_rows(x_train, schedule):
    x = validate.finite_array("x_train", x_train, ndim=2)
    if x.shape[0] < 1:
        raise InputError("x_train", "has no rows", "at least one training point")
    if not isinstance(schedule, NoiseSchedule):
        raise InputError("schedule", f"is {type(schedule).__name__}", "a NoiseSchedule")
    return x


def _draw(rng, x, schedule, batch):
    """One minibatch of the eq.2 objective: rows x^μ, timesteps t ~ U{1..T}, x_t = a_t x^μ + s_t ε."""
    T = schedule.num_train_timesteps
    mu = rng.integers(0, x.shape[0], batch)
    t = rng.integers(1, T + 1, batch)
    eps = rng.standard_normal((batch, x.shape[1]))
    xt = schedule.sqrt_alphas_cumprod[t - 1, None] * x[mu] + schedule.sqrt_one_minus_alphas_cumprod[t - 1, None] * eps
    return xt, t, eps


@dataclass(frozen=True)
class MLPConfig:
    """scikit-learn MLP: ``layers`` hidden ReLU layers of ``hidden`` units, ``steps`` Adam steps of ``batch`` rows."""

    hidden: int = 128
    layers: int = 2
    steps: int = 3000
    batch: int = 256
    lr: float = 1e-3

    def __post_init__(self):
        for name in ("hidden", "layers", "steps", "batch"):
            validate.positive_int(name, getattr(self, name))
        validate.positive("lr", self.lr)


def _time_features(t, schedule):
    t = np.asarray(t)
    i = t - 1
    u = np.pi * t / schedule.num_train_timesteps
    cols = [schedule.sqrt_alphas_cumprod[i], schedule.sqrt_one_minus_alphas_cumprod[i]]
    cols += [f(k * u) for k in (1, 2, 3) for f in (np.sin, np.cos)]
    return np.stack(cols, axis=-1)


class MLPDenoiser:
    """ε(x, t) of a trained scikit-learn MLP on features (x_t, time features)."""

    def __init__(self, estimator, schedule: NoiseSchedule, d: int, info: TrainedInfo | None = None):
        self.estimator = estimator
        self.schedule = schedule
        self.d = d
        self.info = info
        self.label = "MLP (scikit-learn)"

    def __call__(self, x, t: int):
        check_inputs(x, t, self.d, self.schedule.num_train_timesteps)
        x = np.asarray(x, dtype=np.float64)
        f = _time_features(int(t), self.schedule)
        # the fitted network's forward pass from its public coefs_/intercepts_ (ReLU hidden layers, identity
        # output): the same numbers as estimator.predict without its per-call validation overhead; the time
        # features enter the first layer as a constant bias
        W = self.estimator.coefs_
        h = np.maximum(x @ W[0][: self.d] + (f @ W[0][self.d:] + self.estimator.intercepts_[0]), 0.0)
        for Wk, bk in zip(W[1:-1], self.estimator.intercepts_[1:-1], strict=True):
            h = np.maximum(h @ Wk + bk, 0.0)
        return h @ W[-1] + self.estimator.intercepts_[-1]


def train_mlp(x_train, schedule: NoiseSchedule, config: MLPConfig = MLPConfig(), *, seed: int = 0,
              cache=None) -> MLPDenoiser:
    """Train (or load) the MLP denoiser on the rows of ``x_train``. ``cache``: None/True (default folder),
    a folder, or False (no cache)."""
    import sklearn
    from sklearn.neural_network import MLPRegressor

    x = _training_rows(x_train, schedule)
    seed = validate.positive_int("seed", seed, minimum=0)
    if not isinstance(config, MLPConfig):
        raise InputError("config", f"is {type(config).__name__}", "an MLPConfig")

    def train():
        rng = np.random.default_rng([seed, 0x4D4C50])
        est = MLPRegressor(hidden_layer_sizes=(config.hidden,) * config.layers, activation="relu", solver="adam",
                           learning_rate_init=config.lr, batch_size=config.batch, alpha=0.0, random_state=seed)
        # one BLAS thread: small matrices, and the machine's cores are shared (oversubscription costs ~10×)
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            for j in range(0, config.steps, _STEPS_PER_CALL):  # partial_fit = one pass in minibatches of `batch`
                k = min(_STEPS_PER_CALL, config.steps - j)
                xt, t, eps = _draw(rng, x, schedule, config.batch * k)
                est.partial_fit(np.concatenate([xt, _time_features(t, schedule)], axis=1), eps)
        return est

    key = _key("mlp", config, seed, x, schedule, sklearn.__version__)
    est, info = _cached("mlp", key, cache, train)
    return MLPDenoiser(est, schedule, x.shape[1], info)


@dataclass(frozen=True)
class UNetConfig:
    """Small U-Net: ``channels`` base channels, ``steps`` Adam steps of ``batch`` images at rate ``lr``."""

    channels: int = 16
    emb_dim: int = 32
    steps: int = 1500
    batch: int = 64
    lr: float = 2e-3
    #: torch intra-op threads while training; 1 by default: on a shared machine a second thread spin-waits
    #: (measured: 0.64 s CPU per step with 2 threads against 0.047 s with 1, 8×8 digits, batch 64)
    threads: int = 1

    def __post_init__(self):
        for name in ("channels", "emb_dim", "steps", "batch", "threads"):
            validate.positive_int(name, getattr(self, name))
        validate.positive("lr", self.lr)


def train_unet(x_train, schedule: NoiseSchedule, image_shape, config: UNetConfig = UNetConfig(), *, seed: int = 0,
               cache=None):
    """Train (or load) a small U-Net on image-shaped rows (needs the optional extra ``[nn]``); returns a
    :class:`~lindiff_verify.simulation.torch_denoiser.TorchDenoiser` with ``.info``."""
    from .torch_denoiser import TorchDenoiser, require_torch, small_unet

    torch = require_torch()
    x = _training_rows(x_train, schedule)
    seed = validate.positive_int("seed", seed, minimum=0)
    if not isinstance(config, UNetConfig):
        raise InputError("config", f"is {type(config).__name__}", "a UNetConfig")
    shape = tuple(int(v) for v in image_shape)
    T = schedule.num_train_timesteps

    def build():
        torch.manual_seed(seed)
        return small_unet(shape, channels=config.channels, emb_dim=config.emb_dim, num_train_timesteps=T)

    def train():
        net = build()
        rng = np.random.default_rng([seed, 0x554E4554])
        opt = torch.optim.Adam(net.parameters(), lr=config.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, config.steps)
        threads = torch.get_num_threads()
        torch.set_num_threads(config.threads)
        try:
            net.train()
            for _ in range(config.steps):
                xt, t, eps = _draw(rng, x, schedule, config.batch)
                xb = torch.as_tensor(xt, dtype=torch.float32).reshape(-1, 1, *shape)
                eb = torch.as_tensor(eps, dtype=torch.float32).reshape(-1, 1, *shape)
                loss = torch.mean((net(xb, torch.as_tensor(t)) - eb) ** 2)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
        finally:
            torch.set_num_threads(threads)
        return {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}

    key = _key("unet", config, seed, x, schedule, torch.__version__)
    state, info = _cached("unet", key, cache, train)
    net = build()
    net.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    den = TorchDenoiser(net, x.shape[1], image_shape=shape, num_train_timesteps=T)
    den.info = info
    den.label = "U-Net (PyTorch)"
    return den


class _Float32Affine:
    """NumPy network x ↦ W_t x + b_t with float32 parameters (T, d, d) and (T, d)."""

    def __init__(self, W, b):
        self.W, self.b = W.astype(np.float32), b.astype(np.float32)
        self.d = W.shape[1]
        self.label = "frozen linear network (float32, NumPy)"

    def __call__(self, x, t: int):
        check_inputs(x, t, self.d, self.W.shape[0])
        return (np.asarray(x, dtype=np.float32) @ self.W[t - 1].T + self.b[t - 1]).astype(np.float64)


def frozen_linear_network(lin, *, backend: str = "numpy"):
    """A per-timestep affine network initialised at the eq.8 weights of ``lin`` (an
    :class:`~lindiff_verify.theory.reference_denoisers.AffineDenoiser`) and frozen; float32 parameters.
    ``backend``: "numpy" or "torch" (a torch module through :class:`TorchDenoiser`)."""
    validate.choice("backend", backend, ("numpy", "torch"))
    T = lin.schedule.num_train_timesteps
    U, w = np.asarray(lin.model.eigenvectors), np.asarray(lin.model.coefficients())
    W = np.einsum("ik,tk,jk->tij", U, w, U)
    b = -lin.schedule.sqrt_alphas_cumprod[:, None] * np.einsum("tij,j->ti", W, np.asarray(lin.model.mean))
    if backend == "numpy":
        return _Float32Affine(W, b)
    from .torch_denoiser import TorchDenoiser, time_affine

    den = TorchDenoiser(time_affine(W, b), lin.d, num_train_timesteps=T)
    den.label = "frozen linear network (float32, PyTorch)"
    return den
