"""Appendix D.5–D.6 — D.17, D.18: second-order equivalents E Tr R², E Tr RΣ0R and the averaged residual (training) loss."""

import sympy as sp

from lindiff_verify.verification.registry import Derivation, Mutant, PaperRef

from . import _wishart_mc as _mc
from ._second_order import (_ASSUME, _REGIME, _VARS, S1, S2, T1, D, N, _identities, _mc_check, _symbolic, c, d, df1,
                            kap, q, rho, train, trR, trR2, trRSR, z)

# ---------------------------------------------------------------------------------------------- D.17

D17 = Derivation(
    id="D.17", title="Second-order equivalents E Tr R², E Tr RΣ0R (and E Tr R)",
    paper_ref=PaperRef("D.17", "Appendix D.5–D.6",
                       note="the paper's (D.17) most likely defines the two matrix functions whose averages follow; "
                            "these closed second-order forms are our reconstruction (docs/mathematics.md §E, §F.5)"),
    statement={"trR": trR, "trR2": trR2, "trRSR": trRSR},
    lhs={"trR": sp.Symbol("E Tr R"), "trR2": sp.Symbol("E Tr R²"), "trRSR": sp.Symbol("E Tr RΣ₀R")},
    variables=_VARS, assumptions=_ASSUME,
    checks=[
        _symbolic("sympy: E Tr R² = −d/dz E Tr R with dκ/dz = 1/D",
                  lambda st: {"Tr R² = −∂z(ρ S1)": _identities(
                      st["trR2"] - (st["trR"] / z - (S1 - kap * S2) / (z * D)))
                      .subs(z, kap * (1 - (d - kap * S1) / N))}),
        _mc_check("trR2", "trR2", [(0.1, 0.1, 0.0), (1.0, 1.0, 0.0)]),
        _mc_check("trRSR", "trRSR", [(0.1, 0.1, 0.0), (1.0, 1.0, 0.0)]),
    ],
    mutants=[
        Mutant("Tr R² without the T1²/(ND) term", "first-order product only", replace={"trR2": rho**2 * S2}),
        Mutant("Tr RΣ0R without 1/D", "missing D", replace={"trRSR": rho**2 * T1}),
        Mutant("ρ instead of ρ²", "one factor ρ", replace={"trR2": rho * (S2 + T1**2 / (N * D)),
                                                          "trRSR": rho * T1 / D}),
    ],
    claim_kind="asymptotic", regime=_REGIME,
)

# ---------------------------------------------------------------------------------------------- D.18

D18 = Derivation(
    id="D.18", title="Averaged residual (training) loss", paper_ref=PaperRef("D.18", "Appendix D.6"),
    statement={"train": train}, lhs={"train": sp.Symbol("E L_t^{train}")}, variables=_VARS, assumptions=_ASSUME,
    checks=[
        _symbolic("sympy: c = 0 gives df1 = Σσ/(σ+κ)",
                  lambda st: {"E L_train(c=0) − df1": _identities(st["train"].subs(c, 0) - df1)
                              .subs(q, kap * (1 - (d - kap * S1) / N))}),
        _mc_check("train", "train", [(0.1, 0.1, 0.0), (1.0, 1.0, 0.0), (1.5, 1.0, _mc.C_REG)]),
    ],
    mutants=[
        Mutant("ρ missing", "d − qS1", replace={"train": d - q * S1 - q * c * rho**2 * (S2 + T1**2 / (N * D))}),
        Mutant("sign of the c term", "+qcρ²(...)", replace={"train": d - q * rho * S1 + q * c * rho**2 * (S2 + T1**2 / (N * D))}),
    ],
    claim_kind="asymptotic", regime=_REGIME,
)
