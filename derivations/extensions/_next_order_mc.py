"""Shared Wishart Monte Carlo at one finite d for X.5 (next-order measures) and X.4 (two finite models); not a
derivation file. Written from the definitions (docs/mathematics.md §1, §E), never from the equivalents it checks.

Data x ~ N(0, Σ0), Σ0 = diag(σ) (every averaged measure is rotation invariant), N samples, dense draws; the
estimated mean subtracts the sample mean m, δ = μ0 − m = −m (docs/mathematics.md §0). Per draw, with C = U diag(λ) Uᵀ,
Σ̃ = UᵀΣ0U, δ̃ = Uᵀδ and R = (C + z)⁻¹, z = q + c:
    Tr R, Tr Σ0R, Tr R², Tr RΣ0R, Tr Σ0RΣ0R = Σ_ij Σ̃_ij² r_i r_j, δᵀRδ, δᵀR²δ, ln det(C + z),
    test = d − 2q Tr R + q² Tr R² + q Tr RΣ0R + q δᵀR²δ,   train = d − q Tr R − q c Tr R²,   gap = test − train,
    align = q[Tr R(Σ0 + q)R − 2 Tr R(Σ0 + q)R∞ + Tr (Σ0 + q)R∞²] + q δᵀR²δ,  R∞ = (Σ0 + z)⁻¹   (eq.14),
    kl2 = Tr Σ0R + δᵀRδ − d + ln det(C + z) − ln det Σ0                                          (eq.15, ε = z).
Pairs (X.4): two independent training sets of sizes N, N′, A = q{Tr[(R − R′)(Σ0 + q)(R − R′)] + ‖Rδ − R′δ′‖²}.
"""

import numpy as np

from lindiff_verify.model.spectra import power_law

D_MC = 50
MEASURES = ("tr_R", "tr_Sigma_R", "tr_R2", "tr_R_Sigma_R", "tr_Sigma_R_Sigma_R", "delta_R2_delta", "logdet",
            "test", "train", "gap", "align", "kl2")


def spectrum(k, norm, d=D_MC):
    """σ_i ∝ i^(−k): ``norm`` "sigma1" (σ_1 = 1) or "trace" (Tr Σ0 = d, docs/mathematics.md §F.2)."""
    s = power_law(d, k)
    return s * (d / s.sum()) if norm == "trace" else s


SPECTRA = {"k=0": (0.0, "sigma1"), "k=1, σ1=1": (1.0, "sigma1"), "k=2, σ1=1": (2.0, "sigma1"),
           "k=1, TrΣ0=d": (1.0, "trace"), "k=2, TrΣ0=d": (2.0, "trace")}


def _draw(sig, n, est, k, rng):
    g = rng.standard_normal((k, n, sig.size)) * np.sqrt(sig)
    m = g.mean(axis=1) if est else np.zeros((k, sig.size))
    x = g - m[:, None, :] if est else g
    lam, u = np.linalg.eigh(np.swapaxes(x, 1, 2) @ x / n)
    return lam, u, -m


def per_draw(sig, n, est, qc, draws, rng, batch=250):
    """{measure: (draws, len(qc)) array} for the (q, c) pairs ``qc``."""
    d = sig.size
    out = {k: [] for k in MEASURES}
    lsig = float(np.log(sig).sum())
    done = 0
    while done < draws:
        k = min(batch, draws - done)
        lam, u, dlt = _draw(sig, n, est, k, rng)
        st = np.swapaxes(u, 1, 2) @ (sig[:, None] * u)  # Σ̃ (k, d, d)
        st2 = st**2
        sd = np.einsum("kii->ki", st)
        u2 = u**2
        dl = np.einsum("kji,kj->ki", u, dlt)  # δ̃
        rows = {m: [] for m in MEASURES}
        for q, c in qc:
            z = q + c
            r = 1.0 / (lam + z)
            v = dict(tr_R=r.sum(1), tr_Sigma_R=(sd * r).sum(1), tr_R2=(r * r).sum(1), tr_R_Sigma_R=(sd * r * r).sum(1),
                     tr_Sigma_R_Sigma_R=np.einsum("kij,ki,kj->k", st2, r, r), delta_R2_delta=(dl**2 * r * r).sum(1),
                     logdet=np.log(lam + z).sum(1))
            drd = (dl**2 * r).sum(1)
            v["test"] = d - 2 * q * v["tr_R"] + q**2 * v["tr_R2"] + q * v["tr_R_Sigma_R"] + q * v["delta_R2_delta"]
            v["train"] = d - q * v["tr_R"] - q * c * v["tr_R2"]
            v["gap"] = v["test"] - v["train"]
            mdiag = (sig + q) / (sig + z)
            cross = (np.einsum("kji,j->ki", u2, mdiag) * r).sum(1)
            own = (np.einsum("kji,j->ki", u2, sig + q) * r * r).sum(1)
            v["align"] = q * (own - 2 * cross + float(np.sum((sig + q) / (sig + z) ** 2))) + q * v["delta_R2_delta"]
            v["kl2"] = v["tr_Sigma_R"] + drd - d + v["logdet"] - lsig
            for m in MEASURES:
                rows[m].append(v[m])
        for m in MEASURES:
            out[m].append(np.stack(rows[m], 1))
        done += k
    return {m: np.concatenate(out[m]) for m in MEASURES}


def summary(sig, n, est, qc, draws, rng):
    """{measure: (mean, SE)} arrays over the (q, c) pairs."""
    v = per_draw(sig, n, est, qc, draws, rng)
    return {m: (a.mean(0), a.std(0, ddof=1) / np.sqrt(a.shape[0])) for m, a in v.items()}


def pair_alignment(sig, n, n2, est, qc, pairs, rng, batch=200):
    """(mean, SE) over independent pairs of A_{N,N′} for each (q, c) (docstring above)."""
    vals = []
    done = 0
    while done < pairs:
        k = min(batch, pairs - done)
        lam, u, dl = _draw(sig, n, est, k, rng)
        lam2, u2, dl2 = _draw(sig, n2, est, k, rng)
        row = []
        for q, c in qc:
            z = q + c
            R = (u / (lam + z)[:, None, :]) @ np.swapaxes(u, 1, 2)
            R2 = (u2 / (lam2 + z)[:, None, :]) @ np.swapaxes(u2, 1, 2)
            dR = R - R2
            tr = np.einsum("kij,j,kji->k", dR, sig + q, dR)
            mv = np.einsum("kij,kj->ki", R, dl) - np.einsum("kij,kj->ki", R2, dl2)
            row.append(q * (tr + (mv**2).sum(1)))
        vals.append(np.stack(row, 1))
        done += k
    v = np.concatenate(vals)
    return v.mean(0), v.std(0, ddof=1) / np.sqrt(v.shape[0])
