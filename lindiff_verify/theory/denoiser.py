r"""The affine linear denoiser ε_θ(x, t) = W_t x + b_t and its losses (paper eq.2/eq.6, eq.8, eq.9, eq.10).

Conventions (stated once, used everywhere):

* timesteps t = 1..T; arrays over t have shape (T,), entry t − 1 belongs to t (as in :mod:`schedules`);
* a_t = √ᾱ_t, s_t = √(1 − ᾱ_t); γ_t ≥ 0 the ridge penalty, the paper's choice γ_t = c·ᾱ_t;
* every loss is the eq.6 noise average done *exactly*, **summed over the d directions** per timestep
  (not divided by d) and not summed over t;
* "train" loss = (1/N) Σ_μ E_ε ‖ε − W x_t^μ − b‖² *without* the penalty γ‖W‖²; the eq.2 objective is
  train + γ‖W‖_F² (``include_penalty=True``);
* the data enter through (m, C): estimated mean m = x̄, C = (1/N) Σ (x − m)(x − m)ᵀ; or known mean
  m = 0, C = (1/N) Σ x xᵀ, where the model has no bias (b ≡ 0, which is also what eq.8 gives for m = 0).

eq.6:  L_t(W, b) = Tr[(I − s W)(I − s W)ᵀ] + ᾱ Tr[W C Wᵀ] + ‖a W m + b‖² + γ ‖W‖_F².
eq.8:  W_t* = s_t (ᾱ_t C + (1 − ᾱ_t + γ_t) I)^{-1},  b_t* = −a_t W_t* m.
With C = U diag(λ) Uᵀ, W_t* = U diag(w_t) Uᵀ with w_ti = s_t / (ᾱ_t λ_i + 1 − ᾱ_t + γ_t): one eigendecomposition,
then O(T·d) work for all per-timestep quantities (:class:`LinearDenoiser`).
"""

from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from ..model import validate
from ..model.errors import InputError
from ..model.schedules import NoiseSchedule

__all__ = [
    "LinearDenoiser",
    "regularisation",
    "optimal_denoiser",
    "training_loss",
    "test_loss",
    "residual_loss",
    "population_diagonal",
]


def _abar_arrays(schedule):
    """(ᾱ_t, 1 − ᾱ_t) as float64 NumPy arrays from a NoiseSchedule or an array of alphas_cumprod."""
    if isinstance(schedule, NoiseSchedule):
        return schedule.alphas_cumprod, schedule.one_minus_alphas_cumprod
    ab = validate.probability_open("alphas_cumprod", schedule)
    ab = ab.reshape(-1) if ab.ndim == 0 else ab
    if ab.ndim != 1:
        raise InputError("alphas_cumprod", f"has shape {ab.shape}", "a 1-d array of ᾱ_t in (0, 1)")
    return ab, 1.0 - ab


def regularisation(schedule, *, c=None, gamma=None) -> np.ndarray:
    """γ_t over t: the paper's γ_t = c·ᾱ_t (c ≥ 0), or an explicit array ``gamma`` (≥ 0, shape (T,))."""
    ab, _ = _abar_arrays(schedule)
    if gamma is not None and c is not None:
        raise InputError("gamma", "given together with c", "either c (γ_t = c·ᾱ_t) or an explicit gamma array")
    if gamma is None:
        c = validate.nonnegative("c", 0.0 if c is None else c)
        return c * ab
    g = validate.finite_array("gamma", gamma)
    if g.ndim == 0:
        g = np.full(ab.shape, float(g))
    if g.shape != ab.shape:
        raise InputError("gamma", f"has shape {g.shape}", f"shape {ab.shape} (one γ_t per timestep)")
    if np.any(g < 0):
        i = int(np.flatnonzero(g < 0)[0])
        raise InputError("gamma", f"entry {i} is {g[i]!r}", "gamma_t >= 0")
    return g


def _check_square(name, A, xp):
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise InputError(name, f"has shape {tuple(A.shape)}", "a square d×d matrix")
    if not bool(xp.all(xp.isfinite(A))):
        raise InputError(name, "contains non-finite entries", "finite real numbers")


def _check_vector(name, v, d, xp):
    if tuple(v.shape) != (d,):
        raise InputError(name, f"has shape {tuple(v.shape)}", f"shape ({d},)")
    if not bool(xp.all(xp.isfinite(v))):
        raise InputError(name, "contains non-finite entries", "finite real numbers")


def _psd_eigenvalues(lam, xp, name="C"):
    """Clip eigenvalues that are negative by rounding only (|λ| ≤ 100·d·eps·max|λ|); reject real negatives."""
    d = lam.shape[0]
    scale = float(xp.max(xp.abs(lam))) if d else 0.0
    tol = float(100.0 * d * np.finfo(np.float64).eps * scale)
    if bool(xp.any(lam < -tol)):
        worst = float(xp.min(lam))
        raise InputError(name, f"has eigenvalue {worst!r}", "a positive semi-definite matrix (eigenvalues >= 0)")
    return xp.where(lam < 0, xp.zeros_like(lam), lam)


def population_diagonal(U, Sigma0):
    """Σ̃_ii = u_iᵀ Σ0 u_i for the columns u_i of U; ``Sigma0`` dense (d, d) or its diagonal (d,) when Σ0 is
    diagonal in the standard basis. One O(d³) (dense) or O(d²) (diagonal) product, independent of t."""
    xp = array_namespace(U, Sigma0)
    d = U.shape[0]
    if Sigma0.ndim == 1:
        _check_vector("Sigma0", Sigma0, d, xp)
        return xp.sum(Sigma0[:, None] * U * U, axis=0)
    if tuple(Sigma0.shape) != (d, d):
        raise InputError("Sigma0", f"has shape {tuple(Sigma0.shape)}", f"shape ({d}, {d}) or its diagonal ({d},)")
    _check_square("Sigma0", Sigma0, xp)
    return xp.sum(U * (Sigma0 @ U), axis=0)


class LinearDenoiser:
    """The eq.8 optimum for every timestep, stored in the eigenbasis of C.

    Build with :meth:`fit` (from C or from an eigen-pair) or :meth:`from_data`. Array methods return
    shape (T,) (losses) or (T, d) (coefficients) in the namespace of the inputs.
    """

    def __init__(self, eigenvalues, eigenvectors, mean, alphas_cumprod, one_minus_alphas_cumprod, gamma):
        self.xp = xp = array_namespace(eigenvalues, eigenvectors, mean)
        self.eigenvalues = eigenvalues
        self.eigenvectors = eigenvectors
        self.mean = mean
        f64 = xp.float64
        self.alphas_cumprod = xp.asarray(np.asarray(alphas_cumprod, dtype=np.float64), dtype=f64)
        self.one_minus_alphas_cumprod = xp.asarray(np.asarray(one_minus_alphas_cumprod, dtype=np.float64), dtype=f64)
        self.gamma = xp.asarray(np.asarray(gamma, dtype=np.float64), dtype=f64)
        self.mean_eigenbasis = eigenvectors.T @ mean  # m̂ = Uᵀ m, once

    # -- construction ------------------------------------------------------------------------------
    @classmethod
    def fit(cls, C=None, m=None, schedule=None, *, eigen=None, c=None, gamma=None):
        """From C (one ``eigh``) or ``eigen=(λ, U)`` with C = U diag(λ) Uᵀ; m the empirical mean
        (None: m = 0, the known-mean variant); ``schedule`` a NoiseSchedule or array of ᾱ_t;
        regularisation γ_t = c·ᾱ_t or an explicit array ``gamma`` (default γ = 0)."""
        if schedule is None:
            raise InputError("schedule", "is missing", "a NoiseSchedule or an array of alphas_cumprod")
        if (C is None) == (eigen is None):
            raise InputError("C", "and eigen both given or both missing", "exactly one of C or eigen=(λ, U)")
        if C is not None:
            xp = array_namespace(C)
            _check_square("C", C, xp)
            lam, U = xp.linalg.eigh(C)
        else:
            lam, U = eigen
            xp = array_namespace(lam, U)
            d = lam.shape[0] if lam.ndim == 1 else -1
            if lam.ndim != 1 or tuple(U.shape) != (d, d):
                raise InputError("eigen", f"has shapes {tuple(lam.shape)}, {tuple(U.shape)}", "(λ of shape (d,), U of shape (d, d))")
            _check_vector("eigen", lam, d, xp)
            _check_square("eigen", U, xp)
        lam = _psd_eigenvalues(lam, xp)
        d = lam.shape[0]
        if m is None:
            m = xp.zeros(d, dtype=lam.dtype)
        _check_vector("m", m, d, xp)
        ab, omab = _abar_arrays(schedule)
        g = regularisation(ab, c=c, gamma=gamma)
        return cls(lam, U, m, ab, omab, g)

    @classmethod
    def from_data(cls, x, schedule, *, estimated_mean: bool = True, c=None, gamma=None):
        """Fit to the rows of ``x`` via :func:`lindiff_verify.model.data.empirical_moments`."""
        from ..model.data import empirical_moments

        m, C = empirical_moments(x, estimated_mean=estimated_mean)
        return cls.fit(C, m, schedule, c=c, gamma=gamma)

    # -- per-timestep quantities -----------------------------------------------------------------------
    @property
    def d(self) -> int:
        return int(self.eigenvalues.shape[0])

    @property
    def num_train_timesteps(self) -> int:
        return int(self.alphas_cumprod.shape[0])

    def _a_s(self):
        xp = self.xp
        return xp.sqrt(self.alphas_cumprod), xp.sqrt(self.one_minus_alphas_cumprod)

    def coefficients(self):
        """w_ti = s_t / (ᾱ_t λ_i + 1 − ᾱ_t + γ_t), shape (T, d): W_t* = U diag(w_t) Uᵀ (eq.8)."""
        _, s = self._a_s()
        denom = self.alphas_cumprod[:, None] * self.eigenvalues[None, :] + (self.one_minus_alphas_cumprod + self.gamma)[:, None]
        return s[:, None] / denom

    def _t(self, t):
        t = validate.positive_int("t", t)
        if t > self.num_train_timesteps:
            raise InputError("t", f"is {t}", f"1 <= t <= {self.num_train_timesteps}")
        return t - 1

    def W(self, t: int):
        """Dense W_t* (d×d) for one 1-based timestep (O(d²))."""
        i = self._t(t)
        w = self.coefficients_at(i)
        U = self.eigenvectors
        return (U * w[None, :]) @ U.T

    def b(self, t: int):
        """Dense b_t* = −a_t W_t* m (d,) for one 1-based timestep."""
        i = self._t(t)
        a = self.xp.sqrt(self.alphas_cumprod[i])
        return self.eigenvectors @ (-a * self.coefficients_at(i) * self.mean_eigenbasis)

    def coefficients_at(self, i: int):
        s = self.xp.sqrt(self.one_minus_alphas_cumprod[i])
        return s / (self.alphas_cumprod[i] * self.eigenvalues + self.one_minus_alphas_cumprod[i] + self.gamma[i])

    def train_loss(self, include_penalty: bool = False):
        """eq.6 at the optimum, shape (T,): Σ_i (1 − s w)² + ᾱ λ w² (+ γ w² with the penalty)."""
        xp = self.xp
        _, s = self._a_s()
        w = self.coefficients()
        lt = (1.0 - s[:, None] * w) ** 2 + self.alphas_cumprod[:, None] * self.eigenvalues[None, :] * w**2
        if include_penalty:
            lt = lt + self.gamma[:, None] * w**2
        return xp.sum(lt, axis=1)

    def residual_loss(self):
        """eq.9 for γ = 0: Σ_i ᾱλ/(ᾱλ + 1 − ᾱ) (general γ: the train loss at the optimum), shape (T,)."""
        return self.train_loss(include_penalty=False)

    def _population_terms(self, mu0, Sigma0):
        xp = self.xp
        _check_vector("mu0", mu0, self.d, xp)
        diag = population_diagonal(self.eigenvectors, Sigma0)
        q = self.eigenvectors.T @ (mu0 - self.mean)  # u_iᵀ δ, δ = μ0 − m
        return diag, q

    def test_loss(self, mu0, Sigma0):
        """Test loss for x_0 ~ N(μ0, Σ0), shape (T,): Σ_i (1 − s w)² + ᾱ w² (Σ̃_ii + (u_iᵀδ)²), δ = μ0 − m."""
        xp = self.xp
        diag, q = self._population_terms(mu0, Sigma0)
        _, s = self._a_s()
        w = self.coefficients()
        lt = (1.0 - s[:, None] * w) ** 2 + self.alphas_cumprod[:, None] * w**2 * (diag + q**2)[None, :]
        return xp.sum(lt, axis=1)

    def gap(self, mu0, Sigma0):
        """eq.10, test − train (penalty excluded), shape (T,): Σ_i ᾱ w² (Σ̃_ii − λ_i + (u_iᵀδ)²);
        for γ_t = c ᾱ_t this is Σ_i ᾱ(1 − ᾱ)(Σ̃_ii − λ_i + (u_iᵀδ)²)/(ᾱ(λ_i + c) + 1 − ᾱ)²."""
        xp = self.xp
        diag, q = self._population_terms(mu0, Sigma0)
        w = self.coefficients()
        return xp.sum(self.alphas_cumprod[:, None] * w**2 * (diag - self.eigenvalues + q**2)[None, :], axis=1)


# -- dense single-timestep formulas for arbitrary (W, b) ---------------------------------------------------
def _dense_inputs(W, b, M, v, alphabar, names=("C", "m")):
    xp = array_namespace(W, b, M, v)
    _check_square("W", W, xp)
    d = W.shape[0]
    if tuple(M.shape) != (d, d):
        raise InputError(names[0], f"has shape {tuple(M.shape)}", f"shape ({d}, {d}) like W")
    _check_square(names[0], M, xp)
    _check_vector("b", b, d, xp)
    _check_vector(names[1], v, d, xp)
    ab = float(validate.probability_open("alphabar", alphabar))
    return xp, d, ab


def training_loss(W, b, C, m, alphabar, gamma=0.0, *, include_penalty: bool = True, _names=("C", "m")):
    """eq.6 for any W (d×d), b (d,) at one timestep: Tr[(I − sW)(I − sW)ᵀ] + ᾱ Tr[W C Wᵀ] + ‖aWm + b‖²
    (+ γ‖W‖_F² when ``include_penalty``). Returns a 0-d array of the inputs' namespace."""
    xp, d, ab = _dense_inputs(W, b, C, m, alphabar, _names)
    g = validate.nonnegative("gamma", gamma)
    a, s = ab**0.5, (1.0 - ab) ** 0.5
    A = xp.eye(d, dtype=W.dtype) - s * W
    r = a * (W @ m) + b
    out = xp.sum(A * A) + ab * xp.sum((W @ C) * W) + xp.sum(r * r)
    if include_penalty:
        out = out + g * xp.sum(W * W)
    return out


def test_loss(W, b, mu0, Sigma0, alphabar):
    """E_{x0 ~ N(μ0, Σ0)} E_ε ‖ε − W(a x0 + s ε) − b‖² = Tr[(I − sW)(I − sW)ᵀ] + ᾱ Tr[W Σ0 Wᵀ] + ‖aWμ0 + b‖²."""
    return training_loss(W, b, Sigma0, mu0, alphabar, 0.0, include_penalty=False, _names=("Sigma0", "mu0"))


def optimal_denoiser(C, m, alphabar, gamma=0.0):
    """Dense eq.8 at one timestep by a linear solve (no eigendecomposition): (W*, b*)."""
    xp = array_namespace(C, m)
    _check_square("C", C, xp)
    d = C.shape[0]
    _check_vector("m", m, d, xp)
    ab = float(validate.probability_open("alphabar", alphabar))
    g = validate.nonnegative("gamma", gamma)
    A = ab * C + (1.0 - ab + g) * xp.eye(d, dtype=C.dtype)
    W = (1.0 - ab) ** 0.5 * xp.linalg.solve(A, xp.eye(d, dtype=C.dtype))
    return W, -(ab**0.5) * (W @ m)


def residual_loss(eigenvalues, alphas_cumprod):
    """eq.9 over t: Σ_i ᾱ_t λ_i / (ᾱ_t λ_i + 1 − ᾱ_t), shape (T,) (γ = 0; summed over directions)."""
    lam = validate.spectrum("eigenvalues", eigenvalues)
    ab, omab = _abar_arrays(alphas_cumprod)
    x = ab[:, None] * lam[None, :]
    return np.sum(x / (x + omab[:, None]), axis=1)
