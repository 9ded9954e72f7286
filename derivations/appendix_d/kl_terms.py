"""Appendix D.7 — D.19, D.20: the two terms of the averaged KL divergence, E Tr(C + ε)⁻¹Σ0 and E ln det(C + ε) − ln det Σ0."""

import sympy as sp

import numpy as np

from lindiff_verify.theory import finite_n
from lindiff_verify.verification.registry import Derivation, Mutant, PaperRef, Variable

from ._second_order import _ASSUME, _REGIME, _VARS, L, N, _exact_eps0, _mc_check, _mp_check, d, df1, logdet, rho, trSR

_KL_CASES = ((0.5, 0.1, 0.0), (0.5, 1.0, 0.0), (2.0, 0.1, 0.0), (2.0, 1.0, 0.0))  # (α, q = ε, c = 0)

D19 = Derivation(
    id="D.19", title="KL term E Tr(C + ε)^-1 Σ0", paper_ref=PaperRef("D.19", "Appendix D.7"),
    statement={"trSR": trSR}, lhs={"trSR": sp.Symbol("E Tr (C + ε)⁻¹Σ₀")}, variables=_VARS, assumptions=_ASSUME,
    checks=[
        _exact_eps0("trSR", lambda dd, nn: finite_n.expected_trace_inverse(dd, nn), None),
        _mc_check("trSR", "trSR", [(0.1, 0.1, 0.0), (1.0, 1.0, 0.0)]),
        _mp_check("trSR", lambda a, ev, cv: (lambda x: 1 / (x + ev)), "1/(x + ε)", _KL_CASES),
    ],
    mutants=[
        Mutant("ρ missing", "df1", replace={"trSR": df1}),
        Mutant("ρ d", "df1 replaced by d", replace={"trSR": rho * d}),
    ],
    claim_kind="asymptotic", regime=_REGIME + "; ε = z > 0 (ε → 0 needs N > d)",
)

D20 = Derivation(
    id="D.20", title="KL term E ln det(C + ε) − ln det Σ0",
    paper_ref=PaperRef("D.20", "Appendix D.7",
                       note="the paper's (D.20) most likely is a condition (\"when (D.20)\"); this log-determinant "
                            "equivalent is our reconstruction of the KL term it conditions (docs/mathematics.md §F.5)"),
    statement={"logdet": logdet}, lhs={"logdet": sp.Symbol("E ln det(C + ε) − ln det Σ₀")}, variables=_VARS + [Variable(L, "Σ ln(1 + κ/σ_i)", sp.Interval(0, sp.oo))],
    assumptions=_ASSUME,
    checks=[
        _exact_eps0("logdet", lambda dd, nn: finite_n.expected_logdet(dd, nn), None),
        _mc_check("logdet", "logdet", [(0.1, 0.1, 0.0), (1.0, 1.0, 0.0)]),
        _mp_check("logdet", lambda a, ev, cv: (lambda x: np.log(x + ev)), "ln(x + ε)", _KL_CASES),
    ],
    mutants=[
        Mutant("N instead of N − d", "N ln ρ", replace={"logdet": L + N * sp.log(rho) - df1}),
        Mutant("+df1", "sign flip", replace={"logdet": L + (N - d) * sp.log(rho) + df1}),
    ],
    claim_kind="asymptotic", regime=_REGIME + "; ε = z > 0",
)
