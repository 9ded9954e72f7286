"""The report reads like the paper: equations with both sides, names as names, no raw TeX in text, the
worst case's own tolerance, the measured-gaps panel and the claims by kind."""

from __future__ import annotations

import sympy as sp

from lindiff_verify.report.build import _view
from lindiff_verify.report.mathml import lhs_for, name_tex, to_mathml
from lindiff_verify.report.render import claim_kinds, measured_gaps, text
from lindiff_verify.verification.registry import discover


def test_multi_letter_symbols_render_as_names():
    assert name_tex("df1") == r"\mathrm{df}_{1}"
    assert name_tex("TrR") == r"\mathrm{Tr}\,R"
    assert name_tex("D_KL(p_0 ‖ p_s)") == r"D_{\mathrm{KL}}(p_{0}\,\|\,p_{s})"
    assert name_tex("(Sigma_0+kappa)^{-1}") == r"(\Sigma_{0}+\kappa)^{-1}"
    for plain in ("x", "lambda_i", "alphabar", "Sigma_0", "S1", "e_m"):
        assert name_tex(plain) is None, plain  # SymPy prints these right
    m = str(to_mathml(sp.Symbol("df1") * sp.Symbol("rho"), display="inline"))
    assert '<mi mathvariant="normal">df</mi>' in m, m  # one identifier, not d·f
    assert "<mi>d</mi><mi>f</mi>" not in m


def test_every_displayed_statement_is_an_equation():
    reg = discover()
    for did in reg:
        for tex in _view(reg[did])["display_latex"]:
            assert tex and (" = " in tex or "=" in tex or "\\leq" in tex or "<" in tex), (did, tex)
    assert lhs_for("trSR").startswith(r"E\,\mathrm{Tr}")
    assert lhs_for("square") == r"\mathrm{square}"


def test_plain_text_fields_carry_no_raw_tex():
    assert str(text("ℝ^{d×d}")) == "ℝ<sup>d×d</sup>"
    assert str(text("x_t = a_t x_0 + s_t ε")) == "x<sub>t</sub> = a<sub>t</sub> x<sub>0</sub> + s<sub>t</sub> ε"
    assert str(text("E L_test − E L_train")) == "E L<sub>test</sub> − E L<sub>train</sub>"
    assert str(text("d^(1/k)")) == "d<sup>1/k</sup>"
    assert str(text("kl_gaussian_mp and num_train_timesteps")) == "kl_gaussian_mp and num_train_timesteps"
    assert str(text("a < b")) == "a &lt; b"


def _rec(did, kind, measurements, worst=None):
    return {"id": did, "claim_kind": kind,
            "checks": [{"name": "mc", "measurements": measurements, "worst_case": worst or {}}]}


def test_measured_gaps_panel_lists_gaps_and_not_quantities():
    recs = [
        _rec("eq.13", "asymptotic", {"k=2, d=40: relative error of leading form vs MC": -0.07,
                                     "k=2: relative error extrapolated to d → ∞": -0.16, "k=2: its SE": 0.02}),
        _rec("eq.10", "exact", {"d=4: gap total Σ_t, per dimension": [9.1e4, 2.2e4]}),  # a quantity, not a gap
        _rec("C.9", "asymptotic", {"reproduction gap: sample mean / m at λ = 1e-3 … 1e3": [1.0, 0.9, 0.61]}),
        _rec("X.9", "approximate", {}, worst={"abs_error": 0.03}),
    ]
    gaps = {g["id"]: g for g in measured_gaps(recs)}
    assert set(gaps) == {"eq.13", "C.9", "X.9"}
    assert gaps["eq.13"]["size"] == -0.16 and "extrapolated" in gaps["eq.13"]["what"] and gaps["eq.13"]["more"] == 1
    assert abs(gaps["C.9"]["size"] - (0.61 - 1)) < 1e-12
    assert gaps["X.9"]["size"] == 0.03
    assert claim_kinds(recs) == {"exact": 1, "asymptotic": 2, "approximate": 1}
