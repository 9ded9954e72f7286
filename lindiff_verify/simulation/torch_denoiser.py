r"""PyTorch networks as denoisers ``eps(x, t)`` (optional extra ``[nn]``; torch is imported lazily).

Module convention: ``module(x, t)`` with ``x`` a float tensor of shape (n, d) — or (n, 1, H, W) when an
``image_shape`` (H, W) is given — and ``t`` a long tensor of 1-based DDPM timesteps, returning the noise
prediction of the same shape as ``x``. :class:`TorchDenoiser` turns such a module into the array protocol of
:mod:`lindiff_verify.theory.reference_denoisers`; :func:`small_unet` builds the §5 U-Net and
:func:`time_affine` a per-timestep affine layer W_t x + b_t (eq.8 weights, frozen, for the identity checks).
"""

from __future__ import annotations

import numpy as np

from ..model import validate
from ..model.errors import InputError

__all__ = ["require_torch", "TorchDenoiser", "small_unet", "time_affine", "torch_available"]


def torch_available() -> tuple[bool, str]:
    """(True, version) when PyTorch imports, else (False, reason)."""
    try:
        import torch
    except ImportError as exc:  # the optional extra is not installed
        return False, f"PyTorch is not installed (pip install 'lindiff-verify[nn]'): {exc}"
    return True, torch.__version__


def require_torch():
    """The torch module, or InputError naming the missing extra."""
    ok, why = torch_available()
    if not ok:
        raise InputError("backend", why, "install the optional extra [nn] (torch>=2.1,<2.14)")
    import torch

    return torch


class TorchDenoiser:
    """``eps(x, t)`` on NumPy arrays from a torch module ``module(x, t)`` (evaluated in ``no_grad``, float32
    by default, in chunks of ``chunk`` rows)."""

    def __init__(self, module, d: int, *, image_shape=None, dtype: str = "float32", chunk: int = 8192,
                 num_train_timesteps: int | None = None):
        self.torch = torch = require_torch()
        self.module = module.eval()
        self.d = validate.positive_int("d", d)
        if image_shape is not None:
            image_shape = tuple(int(v) for v in image_shape)
            if len(image_shape) != 2 or image_shape[0] * image_shape[1] != self.d:
                raise InputError("image_shape", f"is {image_shape}", f"(H, W) with H·W = d = {self.d}")
        self.image_shape = image_shape
        validate.choice("dtype", dtype, ("float32", "float64"))
        self.dtype = getattr(torch, dtype)
        self.chunk = validate.positive_int("chunk", chunk)
        self.T = num_train_timesteps

    def __call__(self, x, t: int):
        torch = self.torch
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.d:
            raise InputError("x", f"has shape {x.shape}", f"a 2-d array (n, {self.d})")
        if isinstance(t, bool) or not float(t).is_integer() or t < 1 or (self.T is not None and t > self.T):
            raise InputError("t", f"is {t!r}", f"an integer timestep 1 <= t <= T = {self.T}")
        out = np.empty(x.shape, dtype=np.float64)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # small inputs: a second thread only spin-waits on a shared machine
        try:
            self._forward(x, int(t), out)
        finally:
            torch.set_num_threads(threads)
        return out

    def _forward(self, x, t, out):
        torch = self.torch
        with torch.no_grad():
            for j in range(0, x.shape[0], self.chunk):
                xb = torch.as_tensor(x[j:j + self.chunk], dtype=self.dtype)
                n = xb.shape[0]
                if self.image_shape is not None:
                    xb = xb.reshape(n, 1, *self.image_shape)
                tb = torch.full((n,), t, dtype=torch.long)
                out[j:j + n] = self.module(xb, tb).reshape(n, self.d).to(torch.float64).numpy()


def time_affine(W, b):
    """A torch module x ↦ W_t x + b_t with per-timestep weights ``W`` (T, d, d) and ``b`` (T, d) (frozen)."""
    torch = require_torch()
    nn = torch.nn

    class TimeAffine(nn.Module):
        def __init__(self):
            super().__init__()
            self.W = nn.Parameter(torch.as_tensor(np.asarray(W), dtype=torch.float32), requires_grad=False)
            self.b = nn.Parameter(torch.as_tensor(np.asarray(b), dtype=torch.float32), requires_grad=False)

        def forward(self, x, t):
            return torch.einsum("nij,nj->ni", self.W[t - 1], x) + self.b[t - 1]

    return TimeAffine()


def small_unet(image_shape, *, channels: int = 32, emb_dim: int = 64, num_train_timesteps: int = 1000):
    """A two-level U-Net (Ronneberger et al. 2015) for (n, 1, H, W) inputs, H and W even, conditioned on t by a
    sinusoidal embedding added to every block (as in Ho et al. 2020); output: the noise prediction."""
    torch = require_torch()
    nn = torch.nn
    H, W = (int(v) for v in image_shape)
    if H % 2 or W % 2:
        raise InputError("image_shape", f"is {(H, W)}", "even side lengths (one 2× down-sampling)")
    C = validate.positive_int("channels", channels)
    E = validate.positive_int("emb_dim", emb_dim, minimum=2)
    T = validate.positive_int("num_train_timesteps", num_train_timesteps)

    class Block(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
            self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
            self.emb = nn.Linear(E, cout)
            self.act = nn.SiLU()

        def forward(self, x, e):
            h = self.act(self.c1(x)) + self.emb(e)[:, :, None, None]
            return self.act(self.c2(h))

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            half = E // 2
            self.register_buffer("freq", torch.exp(-np.log(T) * torch.arange(half, dtype=torch.float32) / half))
            self.temb = nn.Sequential(nn.Linear(2 * half, E), nn.SiLU(), nn.Linear(E, E))
            self.enc = Block(1, C)
            self.down = nn.Conv2d(C, 2 * C, 3, stride=2, padding=1)
            self.mid = Block(2 * C, 2 * C)
            self.up = nn.ConvTranspose2d(2 * C, C, 2, stride=2)
            self.dec = Block(2 * C, C)
            self.out = nn.Conv2d(C, 1, 1)

        def forward(self, x, t):
            a = t.to(torch.float32)[:, None] * self.freq[None, :]
            e = self.temb(torch.cat([torch.sin(a), torch.cos(a)], dim=1))
            h1 = self.enc(x, e)
            h2 = self.mid(self.down(h1), e)
            return self.out(self.dec(torch.cat([self.up(h2), h1], dim=1), e))

    return UNet()
