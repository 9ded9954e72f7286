r"""Population spectra: the eigenvalues σ_1 ≥ … ≥ σ_d ≥ 0 of Σ0 (paper §2, data model p0 = N(μ0, Σ0)).

Every constructor returns a validated, read-only 1-d float64 NumPy array sorted in *descending* order
(the order of a spectrum carries no information; descending is the convention of this module).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import validate
from .errors import InputError

__all__ = [
    "white",
    "power_law",
    "POWER_LAW_NORMALISATIONS",
    "REAL_DATA_SUBSTITUTES",
    "two_point",
    "spiked",
    "from_file",
    "digits_spectrum",
    "image_patch_spectrum",
    "cifar10_spectrum",
    "cifar10_spectrum_path",
    "covariance_spectrum",
    "make_spectrum",
    "SPECTRA",
]


def _finish(name: str, values) -> np.ndarray:
    arr = validate.spectrum(name, values)
    arr = np.sort(arr)[::-1].copy()
    arr.setflags(write=False)
    return arr


def white(d: int, scale: float = 1.0) -> np.ndarray:
    """σ_i = scale for i = 1..d (isotropic data)."""
    d = validate.positive_int("d", d)
    scale = validate.positive("scale", scale)
    return _finish("spectrum", np.full(d, scale))


#: Normalisations of :func:`power_law`: the paper's trace constraint, or the top eigenvalue fixed.
POWER_LAW_NORMALISATIONS = ("trace", "top")


def power_law(d: int, k: float, scale: float = 1.0, normalise: str = "top") -> np.ndarray:
    r"""σ_i ∝ i^(−k), i = 1..d (k ≥ 0; natural images have k ≈ 1–2), normalised by ``normalise``:

    * ``"trace"`` — Tr Σ0 = scale·d, the paper's convention (docs/mathematics.md §F.2): σ_i = scale·d·i^(−k)/Σ_j j^(−k);
    * ``"top"`` — σ_1 = scale: σ_i = scale·i^(−k) (Tr Σ0 = O(1) for k > 1).

    The default is ``"top"``: it is what every caller written before the paper's convention was known relies on,
    so a changed default would silently change their numbers; a result labelled as the paper's passes
    ``normalise="trace"`` explicitly. At k = 0 both give :func:`white` (scale).
    """
    d = validate.positive_int("d", d)
    k = validate.nonnegative("k", k)
    scale = validate.positive("scale", scale)
    validate.choice("normalise", normalise, POWER_LAW_NORMALISATIONS)
    i = np.arange(1, d + 1, dtype=np.float64)
    shape = i ** (-k)
    if normalise == "trace":
        shape = shape * (d / shape.sum())
    return _finish("spectrum", scale * shape)


def two_point(d: int, low: float, high: float, fraction_high: float) -> np.ndarray:
    """round(fraction_high·d) eigenvalues equal to ``high``, the others equal to ``low``."""
    d = validate.positive_int("d", d)
    low = validate.nonnegative("low", low)
    high = validate.nonnegative("high", high)
    f = validate.nonnegative("fraction_high", fraction_high)
    if f > 1:
        raise InputError("fraction_high", f"is {f!r}", "0 <= fraction_high <= 1")
    n_high = int(round(f * d))
    return _finish("spectrum", np.concatenate([np.full(n_high, high), np.full(d - n_high, low)]))


def spiked(d: int, spikes, bulk: float = 1.0) -> np.ndarray:
    """A spiked spectrum: the eigenvalues ``spikes`` (len(spikes) ≤ d) and d − len(spikes) equal to ``bulk``."""
    d = validate.positive_int("d", d)
    bulk = validate.nonnegative("bulk", bulk)
    sp_ = validate.spectrum("spikes", spikes, allow_empty=True)
    if sp_.size > d:
        raise InputError("spikes", f"has {sp_.size} entries", f"at most d = {d} spikes")
    return _finish("spectrum", np.concatenate([sp_, np.full(d - sp_.size, bulk)]))


def from_file(path, *, negative_tol: float = 0.0) -> np.ndarray:
    """Eigenvalues from a ``.npy`` file or a text file (one number per line / whitespace separated).

    Values in [−negative_tol, 0) (rounding of an eigensolver) are set to 0; anything more negative, or
    non-finite, is an InputError.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("path", f"{str(p)!r} is not a file", "an existing .npy or text file of eigenvalues")
    tol = validate.nonnegative("negative_tol", negative_tol)
    try:
        raw = np.load(p, allow_pickle=False) if p.suffix == ".npy" else np.loadtxt(p, dtype=np.float64, ndmin=1)
    except ValueError as exc:
        raise InputError("path", f"{str(p)!r} could not be read as numbers ({exc})", ".npy or text eigenvalues") from None
    arr = validate.finite_array("spectrum", raw).ravel()
    if tol > 0:
        arr = np.where((arr < 0) & (arr >= -tol), 0.0, arr)
    return _finish("spectrum", arr)


def covariance_spectrum(x, *, rel_tol: float = 1e-12) -> np.ndarray:
    """Eigenvalues of the estimated-mean covariance (1/n) Σ (x − x̄)(x − x̄)ᵀ of the rows of ``x``.

    Eigenvalues with |σ| ≤ rel_tol·σ_max (rounding around an exact null space) are set to 0.
    """
    x = validate.finite_array("x", x, ndim=2)
    n = validate.n_samples(x.shape[0], estimated_mean=True, name="n_samples")
    xc = x - x.mean(axis=0)
    ev = np.linalg.eigvalsh(xc.T @ xc / n)
    ev = np.where(np.abs(ev) <= rel_tol * max(ev.max(), 0.0), 0.0, ev)
    return _finish("spectrum", ev)


def digits_spectrum() -> np.ndarray:
    """Pixel-covariance eigenvalues of scikit-learn's 8×8 digits (d = 64, 1797 images, pixels 0..16).

    A *substitute* for the paper's MNIST (28×28, d = 784), which is not available offline (see
    :data:`REAL_DATA_SUBSTITUTES`)."""
    from sklearn.datasets import load_digits

    return covariance_spectrum(load_digits().data.astype(np.float64))


def image_patch_spectrum(patch: int = 8, n_patches: int = 20000, seed: int = 0) -> np.ndarray:
    """Covariance eigenvalues of random grayscale ``patch``×``patch`` patches (pixels in [0, 1]) of
    scikit-learn's two sample images (d = patch², patch ≤ 32). A *substitute* for the paper's CelebA
    (see :data:`REAL_DATA_SUBSTITUTES`)."""
    from .datasets import image_patches

    patch = validate.positive_int("patch", patch)
    if patch > 32:
        raise InputError("patch", f"is {patch}", "1 <= patch <= 32 (d = patch² ≤ 1024)")
    n_patches = validate.positive_int("n_patches", n_patches, minimum=2)
    seed = validate.positive_int("seed", seed, minimum=0)
    out = (image_patches(n_patches, patch, rng=np.random.default_rng(seed)) + 1.0) / 2.0  # [−1, 1] → [0, 1]
    return covariance_spectrum(out)


def cifar10_spectrum_path() -> Path | None:
    """Where the CIFAR-10 spectrum file is looked for: $LINDIFF_VERIFY_CIFAR10_SPECTRUM, else
    ``../shared/data/cifar10_spectrum.npy`` relative to the repository root; None if absent."""
    env = os.environ.get("LINDIFF_VERIFY_CIFAR10_SPECTRUM")
    cands = [Path(env)] if env else []
    cands.append(Path(__file__).resolve().parents[3] / "shared" / "data" / "cifar10_spectrum.npy")
    for c in cands:
        if c.is_file():
            return c
    return None


def cifar10_spectrum(path=None) -> np.ndarray:
    """The 3072 pixel-covariance eigenvalues of CIFAR-10 (external file, not shipped; see
    :func:`cifar10_spectrum_path`). A *substitute* for the paper's CelebA (natural images, colour). Float32 rounding negatives down to −1e-6·σ_max are set to 0."""
    p = Path(path) if path is not None else cifar10_spectrum_path()
    if p is None:
        raise InputError("path", "no CIFAR-10 spectrum file found",
                         "a path to cifar10_spectrum.npy (or set $LINDIFF_VERIFY_CIFAR10_SPECTRUM)")
    if not p.is_file():
        raise InputError("path", f"{str(p)!r} is not a file", "an existing cifar10_spectrum.npy")
    raw = validate.finite_array("spectrum", np.load(p, allow_pickle=False) if p.suffix == ".npy" else np.loadtxt(p))
    return from_file(p, negative_tol=1e-6 * max(float(np.max(raw)), 0.0))


#: Spectra that stand in for the paper's data sets (CelebA, MNIST are not available offline): name → what
#: it substitutes. Every figure or number built from one says "substitute for …".
REAL_DATA_SUBSTITUTES = {
    "digits": "substitute for MNIST (scikit-learn 8×8 digits, d = 64)",
    "image_patches": "substitute for CelebA (grayscale 8×8 patches of scikit-learn's sample images, d = 64)",
    "cifar10": "substitute for CelebA (CIFAR-10 pixel covariance, d = 3072)",
}

SPECTRA = {
    "white": white,
    "power_law": power_law,
    "two_point": two_point,
    "spiked": spiked,
    "file": from_file,
    "digits": digits_spectrum,
    "image_patches": image_patch_spectrum,
    "cifar10": cifar10_spectrum,
}


def make_spectrum(name: str, **kwargs) -> np.ndarray:
    """Build a spectrum by name (one of :data:`SPECTRA`) with keyword arguments."""
    validate.choice("spectrum", name, tuple(SPECTRA))
    return SPECTRA[name](**kwargs)
