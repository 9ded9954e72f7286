r"""Real image data shipped with scikit-learn, as rows on a [−1, 1] pixel scale (substitutes for the paper's
MNIST and CelebA in §5; labelled as substitutes wherever they stand in).

* :func:`digits` — the 1797 8×8 grayscale digits (pixels 0..16 → [−1, 1]), d = 64;
* :func:`image_patches` — ``patch``×``patch`` grayscale patches of the two sample images (pixels 0..255 → [−1, 1]).
"""

from __future__ import annotations

import numpy as np

from . import validate
from .errors import InputError

__all__ = ["digits", "image_patches", "DATASETS", "load"]


def digits() -> np.ndarray:
    """All 1797 digits as rows (1797, 64) on [−1, 1]; image shape (8, 8)."""
    from sklearn.datasets import load_digits

    return load_digits().data.astype(np.float64) / 8.0 - 1.0


def image_patches(n: int, patch: int = 16, *, rng: np.random.Generator) -> np.ndarray:
    """``n`` random grayscale patches (n, patch²) on [−1, 1] from scikit-learn's two sample images."""
    from sklearn.datasets import load_sample_images

    n = validate.positive_int("n", n)
    patch = validate.positive_int("patch", patch)
    if patch > 64:
        raise InputError("patch", f"is {patch}", "1 <= patch <= 64")
    if not isinstance(rng, np.random.Generator):
        raise InputError("rng", f"is {type(rng).__name__}", "a numpy.random.Generator (use ctx.rng(name))")
    imgs = [im.astype(np.float64).mean(axis=2) / 127.5 - 1.0 for im in load_sample_images().images]
    which = rng.integers(0, len(imgs), n)
    out = np.empty((n, patch * patch))
    for j, im in enumerate(imgs):
        idx = np.flatnonzero(which == j)
        r = rng.integers(0, im.shape[0] - patch + 1, idx.size)
        c = rng.integers(0, im.shape[1] - patch + 1, idx.size)
        win = np.lib.stride_tricks.sliding_window_view(im, (patch, patch))
        out[idx] = win[r, c].reshape(idx.size, -1)
    return out


#: name -> image side length (the rows are side×side images)
DATASETS = {"digits": 8, "patches": 16}


def load(name: str, n: int, *, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct rows of data set ``name`` in a random order drawn from ``rng``."""
    validate.choice("dataset", name, tuple(DATASETS))
    n = validate.positive_int("n", n)
    if name == "patches":
        return image_patches(n, DATASETS[name], rng=rng)
    x = digits()
    if n > x.shape[0]:
        raise InputError("n", f"is {n}", f"1 <= n <= {x.shape[0]} (the digits data set)")
    return x[rng.permutation(x.shape[0])[:n]]
