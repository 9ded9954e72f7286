"""Self-consistency of the replica order parameter (D.11 / eq.12) and the Stieltjes transform (D.12–D.16).

Known-mean Wishart C = (1/N) Σ_μ x^μ x^μᵀ, x ~ N(0, Σ0), Σ0 with eigenvalues σ_i (multiplicities w_i),
d = Σ w_i, α = d/N.

* D.11 / eq.12:  κ = z + (κ/N) Σ_i σ_i/(σ_i + κ),  κ > 0 for z > 0;  ζ = z/κ.
  Write φ(κ) = κ − (1/N) Σ σκ/(σ + κ). φ(0) = 0, φ'(κ) = 1 − (1/N) Σ σ²/(σ + κ)² = D, φ'' > 0 (convex),
  φ → ∞. Hence φ(κ) = z has exactly one root κ > 0 for every z > 0 (for α > 1 it lies right of the
  positive zero κ0 of φ, so κ → κ0 > 0 as z → 0; for α < 1, κ ≈ z/(1 − α)). Newton started right of the
  root (at z + Σσ/N ≥ κ) decreases monotonically onto it (convexity): no wrong root can be returned.
* D.12 (Silverstein): g(w) = (1/d) E Tr(C − w)^{-1} solves g = (1/d) Σ 1/(σ(1 − α − α w g) − w).
  With the companion m̲ = −(1 − α)/w + α g one has κ(−w) = 1/m̲(w); we solve for κ at complex z = −w on the
  branch Im m̲ > 0 (⇔ Im g > 0) for Im w > 0, which is the unique solution there.
* D.14: g(−z) = (1/d) Σ 1/(ζσ_i + z) = (κ/(z d)) Σ 1/(σ_i + κ).

Densities follow by Stieltjes inversion, ρ(x) = Im g(x + i0)/π (continuous part; the point mass
1 − 1/α at 0 for α > 1 is separate).
"""

from __future__ import annotations

import mpmath
import numpy as np

from ..model import validate
from ..model.errors import ConvergenceError, InputError

__all__ = [
    "solve_kappa",
    "solve_zeta",
    "solve_kappa_mp",
    "stieltjes",
    "stieltjes_mp",
    "spectral_density",
    "point_mass_at_zero",
    "spectrum_weights",
]

_EPS = np.finfo(np.float64).eps


def spectrum_weights(spectrum, multiplicities=None):
    """Validated (σ, w): distinct-or-not eigenvalues σ_i > 0 and their positive multiplicities w_i."""
    sig = validate.spectrum("spectrum", spectrum, strictly_positive=True)
    if multiplicities is None:
        return sig, np.ones_like(sig)
    w = validate.finite_array("multiplicities", multiplicities)
    if w.ndim == 0:
        w = w.reshape(1)
    if w.shape != sig.shape:
        raise InputError("multiplicities", f"has shape {w.shape}", f"shape {sig.shape} (one per eigenvalue)")
    if np.any(w <= 0):
        i = int(np.flatnonzero(w <= 0)[0])
        raise InputError("multiplicities", f"entry {i} is {w[i]!r}", "multiplicities > 0")
    return sig, w


def _summary(sig, w, n):
    d = float(w.sum())
    return (f"spectrum of d = {d:g} eigenvalues in [{sig.min():.4g}, {sig.max():.4g}] "
            f"(mean {float(w @ sig) / d:.4g}), N = {n}")


def _z_array(z, name="z"):
    arr = validate.finite_array(name, z)
    if np.any(arr <= 0):
        i = int(np.flatnonzero(arr.ravel() <= 0)[0])
        raise InputError(name, f"entry {i} is {arr.ravel()[i]!r}" if arr.ndim else f"is {float(arr)!r}",
                         "z > 0 (real); use stieltjes() for complex arguments")
    return arr


def _df12(k, sig, w):
    """(Σ w σ/(σ+κ), Σ w σ²/(σ+κ)²) for each κ in the 1-d real array k (blocked so the work stays in cache)."""
    rows = max(1, int(2**17 // sig.size))
    d1 = np.empty(k.size)
    d2 = np.empty(k.size)
    buf = np.empty((min(rows, k.size), sig.size))
    for a in range(0, k.size, rows):
        kk = k[a : a + rows]
        t = buf[: kk.size]
        np.add(sig[None, :], kk[:, None], out=t)
        np.divide(sig[None, :], t, out=t)
        d1[a : a + rows] = t @ w
        np.square(t, out=t)
        d2[a : a + rows] = t @ w
    return d1, d2


def _kappa_newton(z, sig, w, n, max_iter=200):
    """Monotone Newton for φ(κ) = z from the right; z a 1-d float array. Returns κ (same shape)."""
    kappa = z + float(w @ sig) / n  # φ(κ) ≥ κ − Σσ/N ⇒ root ≤ z + Σσ/N
    active = np.arange(z.size)
    for _ in range(max_iter):
        if active.size == 0:
            break
        k = kappa[active]
        df1, df2 = _df12(k, sig, w)
        phi = k * (1.0 - df1 / n)
        dphi = 1.0 - df2 / n
        step = (phi - z[active]) / dphi
        new = k - step
        upd = (step > 4 * _EPS * k) & (new > 0)  # from the right the iterates decrease onto the root
        kappa[active] = np.where(upd, new, k)
        active = active[upd]
    return kappa, active


def solve_kappa(z, spectrum, n_samples, *, multiplicities=None) -> np.ndarray:
    """κ(z) > 0 solving D.11/eq.12, κ = z + (κ/N) Σ_i σ_i/(σ_i + κ), for real z > 0 (vectorised, float64).

    ``multiplicities`` repeats eigenvalues (d = Σ multiplicities). Raises ConvergenceError naming z and the
    spectrum if Newton fails to reach the rounding level (never returns an unconverged value).
    """
    zz = _z_array(z)
    sig, w = spectrum_weights(spectrum, multiplicities)
    n = validate.positive_int("n_samples", n_samples)
    flat = zz.ravel().astype(np.float64)
    kappa, left = _kappa_newton(flat, sig, w, n)
    # verify: residual at rounding level, κ > 0
    df1, _ = _df12(kappa, sig, w)
    resid = np.abs(kappa * (1 - df1 / n) - flat)
    scale = flat + kappa * (1 + float(w.sum()) / n)
    bad = ~(resid <= 256 * _EPS * scale) | ~(kappa > 0)
    bad[left] = True
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise ConvergenceError(f"solve_kappa did not converge at z = {flat[i]!r} for the {_summary(sig, w, n)}")
    return kappa.reshape(zz.shape)


def solve_zeta(z, spectrum, n_samples, *, multiplicities=None) -> np.ndarray:
    """ζ = z/κ(z), the solution of ζ = 1 − (1/N) Σ_i ζσ_i/(ζσ_i + z) in (0, 1]."""
    zz = _z_array(z)
    return zz / solve_kappa(zz, spectrum, n_samples, multiplicities=multiplicities)


def _check_dps(dps):
    if isinstance(dps, bool) or not isinstance(dps, (int, np.integer)) or int(dps) < 15:
        raise InputError("dps", f"is {dps!r}", "an integer number of digits >= 15")
    return int(dps)


def solve_kappa_mp(z, spectrum, n_samples, *, dps=50, multiplicities=None):
    """κ(z) of D.11 as an mpmath number at ``dps`` digits (monotone Newton from the right, from the float64 root).

    ``z`` may be an mpf/string/float > 0; spectrum entries are taken exactly as given (floats are exact
    binary numbers; pass strings or mpf for decimal values).
    """
    dps = _check_dps(dps)
    n = validate.positive_int("n_samples", n_samples)
    with mpmath.workdps(dps + 10):
        zm = mpmath.mpf(z)
        if not (mpmath.isfinite(zm) and zm > 0):
            raise InputError("z", f"is {z!r}", "a real z > 0")
        sig_m, w_m = _mp_spectrum(spectrum, multiplicities)
        sig_f = np.array([float(s) for s in sig_m])
        w_f = np.array([float(v) for v in w_m])
        if np.any(sig_f <= 0):
            raise InputError("spectrum", "has an eigenvalue <= 0", "eigenvalues > 0")
        nm = mpmath.mpf(n)

        def phi(k):
            s1 = mpmath.fsum(wi * si / (si + k) for si, wi in zip(sig_m, w_m))
            s2 = mpmath.fsum(wi * (si / (si + k)) ** 2 for si, wi in zip(sig_m, w_m))
            return k * (1 - s1 / nm), 1 - s2 / nm

        hi = zm + mpmath.fsum(wi * si for si, wi in zip(sig_m, w_m)) / nm
        try:
            k0 = float(solve_kappa(np.array([float(zm)]), sig_f, n, multiplicities=w_f)[0])
            start = mpmath.mpf(k0) * (1 + mpmath.mpf(2) ** -40)
            k = start if (start < hi and phi(start)[0] >= zm) else hi
        except (ConvergenceError, InputError):
            k = hi
        tol = mpmath.mpf(10) ** (-(dps + 5))
        for _ in range(400):
            f, df = phi(k)
            step = (f - zm) / df
            if step <= tol * k:  # monotone from the right: a non-positive step is the rounding level
                break
            k = k - step
        else:
            raise ConvergenceError(f"solve_kappa_mp did not converge at z = {zm} for the "
                                   f"{_summary(sig_f, w_f, n)}")
        f, _ = phi(k)
        if not (k > 0 and abs(f - zm) <= mpmath.mpf(10) ** (-dps) * (zm + k * (1 + sum(w_m) / nm))):
            raise ConvergenceError(f"solve_kappa_mp: residual {mpmath.nstr(f - zm, 5)} at z = {zm} for the "
                                   f"{_summary(sig_f, w_f, n)}")
    with mpmath.workdps(dps):
        return +k  # rounded to dps digits (the mpf keeps them whatever the caller's precision)


def _mp_spectrum(spectrum, multiplicities):
    if multiplicities is not None and isinstance(multiplicities, (list, tuple)) and any(
            isinstance(v, (str, mpmath.mpf)) for v in multiplicities):
        w_m = [mpmath.mpf(v) for v in multiplicities]
        if any(not mpmath.isfinite(v) or v <= 0 for v in w_m):
            raise InputError("multiplicities", "has a non-finite or non-positive entry", "multiplicities > 0")
        sig_m, _ = _mp_spectrum(spectrum, None)
        if len(sig_m) != len(w_m):
            raise InputError("multiplicities", f"has {len(w_m)} entries", f"{len(sig_m)} (one per eigenvalue)")
        return sig_m, w_m
    if isinstance(spectrum, (list, tuple)) and any(isinstance(s, (str, mpmath.mpf)) for s in spectrum):
        sig_m = [mpmath.mpf(s) for s in spectrum]
        if any(not mpmath.isfinite(s) or s <= 0 for s in sig_m):
            raise InputError("spectrum", "has a non-finite or non-positive eigenvalue", "finite eigenvalues > 0")
        if multiplicities is None:
            w_m = [mpmath.mpf(1)] * len(sig_m)
        else:
            _, w = spectrum_weights(np.ones(len(sig_m)), multiplicities)
            w_m = [mpmath.mpf(float(v)) for v in w]
        return sig_m, w_m
    sig, w = spectrum_weights(spectrum, multiplicities)
    return [mpmath.mpf(float(s)) for s in sig], [mpmath.mpf(float(v)) for v in w]


# ----------------------------------------------------------------------------------------------------
# complex arguments: the Stieltjes transform
# ----------------------------------------------------------------------------------------------------


def _kappa_complex(zc, sig, w, n, *, max_iter=100):
    """κ at complex zc = −w (Im w > 0 ⇒ Im κ < 0): fixed-point warm start, then damped Newton in the branch."""
    wv = -zc
    mbar = -1.0 / wv  # companion Stieltjes transform, in C+
    for _ in range(30):  # holomorphic self-map of C+ (Earle–Hamilton): converges, slowly near the axis
        mbar = -1.0 / (wv - ((sig[None, :] / (1.0 + sig[None, :] * mbar[:, None])) @ w) / n)
    return _newton_from(1.0 / mbar, zc, sig, w, n, max_iter=max_iter)


def _g_from_kappa(kappa, zc, sig, w):
    """g(−z) = (κ/(z d)) Σ w/(σ + κ) (D.14), z = zc complex."""
    d = float(w.sum())
    return kappa / zc * ((1.0 / (sig[None, :] + kappa[:, None])) @ w) / d


def stieltjes(z, spectrum, n_samples, *, multiplicities=None):
    """g(z) = (1/d) E Tr(C − z)^{-1} (D.12, deterministic equivalent) for complex z off the positive real axis.

    Solved on the branch Im g > 0 for Im z > 0 (g(z̄) = conj g(z)); real z < 0 uses :func:`solve_kappa`.
    Raises ConvergenceError if the solution is not found on that branch.
    """
    wv = validate.off_spectrum("z", z)
    sig, w = spectrum_weights(spectrum, multiplicities)
    n = validate.positive_int("n_samples", n_samples)
    flat = wv.ravel()
    out = np.empty(flat.shape, dtype=np.complex128)
    real = flat.imag == 0
    if np.any(real):
        zr = -flat.real[real]
        k = solve_kappa(zr, sig, n, multiplicities=w)
        out[real] = (k / zr) * ((1.0 / (sig[None, :] + k[:, None])) @ w) / float(w.sum())
    cpx = ~real
    if np.any(cpx):
        wc = flat[cpx]
        conj = wc.imag < 0
        wu = np.where(conj, np.conj(wc), wc)
        g = _stieltjes_upper(wu, sig, w, n)
        out[cpx] = np.where(conj, np.conj(g), g)
    return out.reshape(wv.shape)


def _stieltjes_upper(wu, sig, w, n):
    zc = -wu
    kappa, left = _kappa_complex(zc, sig, w, n)
    if left.size:  # continuation from far above the axis for the stubborn points
        kappa[left] = _continuation(wu[left], sig, w, n)
    g = _g_from_kappa(kappa, zc, sig, w)
    r = sig[None, :] / (sig[None, :] + kappa[:, None])
    resid = np.abs(kappa * (1.0 - (r @ w) / n) - zc)
    scale = np.abs(zc) + np.abs(kappa) * (1 + float(w.sum()) / n)
    bad = ~(resid <= 1e3 * _EPS * scale) | ~(g.imag > 0)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise ConvergenceError(f"stieltjes did not converge on the branch Im g > 0 at z = {wu[i]!r} for the "
                               f"{_summary(sig, w, n)}")
    return g


def _continuation(wu, sig, w, n, levels=40):
    """Solve at x + iY for Y decreasing geometrically to the target Im, Newton-continuing the solution.

    Intermediate levels need not reach the rounding level (they only seed the next); the final solution is
    validated by the caller's residual check."""
    scale = float(sig.max()) * (1 + np.sqrt(float(w.sum()) / n)) ** 2 + np.abs(wu.real)
    heights = np.stack([np.geomspace(10 * s + y, y, levels) for s, y in zip(scale, wu.imag)])
    kappa = None
    for j in range(levels):
        zc = -(wu.real + 1j * heights[:, j])
        if kappa is None:
            kappa, _ = _kappa_complex(zc, sig, w, n)
        else:
            kappa, _ = _newton_from(kappa, zc, sig, w, n)
    return kappa


def _residual_ok(kappa, zc, sig, w, n, factor=1e3):
    r = sig[None, :] / (sig[None, :] + kappa[:, None])
    resid = np.abs(kappa * (1.0 - (r @ w) / n) - zc)
    scale = np.abs(zc) + np.abs(kappa) * (1 + float(w.sum()) / n)
    return resid <= factor * _EPS * scale


def _newton_from(kappa0, zc, sig, w, n, max_iter=100):
    """Damped Newton for κ(1 − (1/N)Σ wσ/(σ + κ)) = zc from ``kappa0``, every step kept in the branch Im κ < 0
    (Im m̲ > 0); returns κ and the indices that did not converge."""
    kappa = kappa0.copy()
    active = np.arange(zc.size)
    for _ in range(max_iter):
        if active.size == 0:
            break
        k = kappa[active]
        r = sig[None, :] / (sig[None, :] + k[:, None])
        step = (k * (1.0 - (r @ w) / n) - zc[active]) / (1.0 - ((r * r) @ w) / n)
        newton = np.abs(step)  # convergence is judged on the full Newton step: a damped one can be tiny anywhere
        new = k - step
        for _ in range(40):
            out = ~(new.imag < 0)
            if not np.any(out):
                break
            step = np.where(out, step / 2, step)
            new = k - step
        kappa[active] = new
        active = active[~(newton <= 8 * _EPS * np.abs(k))]
    return kappa, active


def stieltjes_mp(z, spectrum, n_samples, *, dps=50, multiplicities=None):
    """g(z) of D.12 at ``dps`` digits (mpmath): Newton on κ(−z) from the float64 solution, branch checked."""
    dps = _check_dps(dps)
    n = validate.positive_int("n_samples", n_samples)
    with mpmath.workdps(dps + 10):
        wm = mpmath.mpmathify(z)
        if not mpmath.isfinite(wm) or (mpmath.im(wm) == 0 and mpmath.re(wm) >= 0):
            raise InputError("z", f"is {z!r}", "Im z ≠ 0, or real z < 0")
        sig_m, w_m = _mp_spectrum(spectrum, multiplicities)
        d = mpmath.fsum(w_m)
        nm = mpmath.mpf(n)
        if mpmath.im(wm) == 0:
            zr = -mpmath.re(wm)
            k = solve_kappa_mp(zr, sig_m, n, dps=dps + 10, multiplicities=[float(v) for v in w_m])
            g = k / zr * mpmath.fsum(wi / (si + k) for si, wi in zip(sig_m, w_m)) / d
            with mpmath.workdps(dps):
                return +g
        conj = mpmath.im(wm) < 0
        wu = mpmath.conj(wm) if conj else wm
        sig_f = np.array([float(s) for s in sig_m])
        w_f = np.array([float(v) for v in w_m])
        g0 = complex(stieltjes(np.array([complex(wu)]), sig_f, n, multiplicities=w_f)[0])
        # recover κ from g: g(−z) = (κ/(z d)) Σ w/(σ+κ) ⇒ use κ = 1/m̲, m̲ = −(1−α)/w + α g
        alpha = d / nm
        k = 1 / (-(1 - alpha) / wu + alpha * mpmath.mpc(g0))
        zc = -wu
        tol = mpmath.mpf(10) ** (-(dps + 5))
        for _ in range(200):
            s1 = mpmath.fsum(wi * si / (si + k) for si, wi in zip(sig_m, w_m))
            s2 = mpmath.fsum(wi * (si / (si + k)) ** 2 for si, wi in zip(sig_m, w_m))
            step = (k * (1 - s1 / nm) - zc) / (1 - s2 / nm)
            k = k - step
            if abs(step) <= tol * abs(k):
                break
        else:
            raise ConvergenceError(f"stieltjes_mp did not converge at z = {wu} for the {_summary(sig_f, w_f, n)}")
        g = k / zc * mpmath.fsum(wi / (si + k) for si, wi in zip(sig_m, w_m)) / d
        if not (mpmath.im(g) > 0 and mpmath.im(k) < 0):
            raise ConvergenceError(f"stieltjes_mp left the branch Im g > 0 at z = {wu}")
        if conj:
            g = mpmath.conj(g)
    with mpmath.workdps(dps):
        return +g


def point_mass_at_zero(spectrum, n_samples, *, multiplicities=None) -> float:
    """Weight of the eigenvalue 0 of C: max(0, 1 − N/d) (rank N < d)."""
    sig, w = spectrum_weights(spectrum, multiplicities)
    n = validate.positive_int("n_samples", n_samples)
    return max(0.0, 1.0 - n / float(w.sum()))


def spectral_density(x, spectrum, n_samples, *, multiplicities=None, eta=None):
    """Continuous part of the limiting eigenvalue density of C at real x ≥ 0: ρ(x) = Im g(x + iη)/π, η → 0.

    ``eta`` (default 1e-9 times the spectral scale) is the imaginary part used for the inversion; the
    result is continued from far above the axis so the branch is kept. The point mass at 0 for d > N is
    :func:`point_mass_at_zero` and is not included.
    """
    xx = validate.finite_array("x", x)
    if np.any(xx < 0):
        raise InputError("x", "has a negative entry", "x >= 0 (C is positive semi-definite)")
    sig, w = spectrum_weights(spectrum, multiplicities)
    n = validate.positive_int("n_samples", n_samples)
    scale = float(sig.max()) * (1 + np.sqrt(float(w.sum()) / n)) ** 2
    eta = 1e-9 * scale if eta is None else validate.positive("eta", eta)
    flat = xx.ravel()
    out = np.zeros(flat.shape)
    pos = flat > 0
    if np.any(pos):
        wu = flat[pos] + 1j * eta
        kappa = _continuation(wu, sig, w, n, levels=30)
        ok = _residual_ok(kappa, -wu, sig, w, n) & (kappa.imag <= 0)
        if not np.all(ok):
            i = int(np.flatnonzero(~ok)[0])
            raise ConvergenceError(f"spectral_density did not converge at x = {flat[pos][i]!r} for the "
                                   f"{_summary(sig, w, n)}")
        g = _g_from_kappa(kappa, -wu, sig, w)
        # remove the η-smeared image of the point mass at 0 (a Lorentzian of weight m0)
        m0 = max(0.0, 1.0 - n / float(w.sum()))
        out[pos] = np.maximum(g.imag / np.pi - m0 * eta / (np.pi * (flat[pos] ** 2 + eta**2)), 0.0)
    return out.reshape(xx.shape)
