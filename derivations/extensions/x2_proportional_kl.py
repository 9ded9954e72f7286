"""X.2 — the proportional-limit KL E DKL = d·F(α) + G(α) + O(1/d) (ours; docs/mathematics.md §D, §F.5).

Not in the paper: inserting the paper's D.21 (ζ0 = 1 − α, α = d/N) into eq.15 at ε → 0 gives
F(α) = ½[α/(1 − α) − 1 − ((1 − α)/α) ln(1 − α)] = α/4 + 5α²/12 + …, and the exact inverse-Wishart /
digamma references give the O(1) terms G_known(α) = ½[α/(1 − α)² + ½ ln(1 − α)] (known mean) and
G_est(α) = ½[α/(1 − α) + 2α/(1 − α)² + (3/2) ln(1 − α)] (estimated mean; the e_m = 1/N variant is ours too).
The checks are defined beside their helpers in derivations/appendix_d/kl_asymptote.py.
"""

import sympy as sp

from lindiff_verify.verification.registry import Derivation, PaperRef, Variable

from ..appendix_d.kl_asymptote import X2_CHECKS, X2_MUTANTS, F_expr, G_est_expr, G_known_expr, N, al, d

X2 = Derivation(
    id="X.2",
    title="Proportional-limit KL d·F(α) + G(α) at ε → 0 (from D.21's ζ0)",
    paper_ref=PaperRef("X.2", "extension of Appendix D.8", note="ours: F, G_known, G_est are not in the paper"),
    statement={"F": F_expr, "G_known": G_known_expr, "G_est": G_est_expr},
    display=[sp.Eq(sp.Symbol("F"), F_expr), sp.Eq(sp.Symbol("G_known"), G_known_expr),
             sp.Eq(sp.Symbol("G_est"), G_est_expr)],
    variables=[Variable(al, "α = d/N", "0 < α < 1"), Variable(d, "dimension", "d ≥ 1"),
               Variable(N, "number of training samples", "N > d + 1 (known), N > d + 2 (estimated)")],
    assumptions=["Gaussian data", "ε = 0", "N > d", "G terms from the exact finite-N references (ours)",
                 "schedule-independent (no diffusion time enters)"],
    checks=X2_CHECKS,
    mutants=X2_MUTANTS,
    claim_kind="asymptotic",
    regime="ε → 0, d, N → ∞ at fixed α = d/N ∈ (0, 1); corrections O(1/d) beyond G",
    notes="The MC check uses Σ0 = I (E DKL does not depend on Σ0 at ε = 0).",
)
