"""The verdict machinery as a specification: tolerance models against their definitions, verdict and kill
rules, the symbolic zero test at the working precision, small-sample quantiles.

Every expected value here comes from a definition (scipy's quantiles, eps = 2^-52, 10^-digits), never from
the code under test.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import stats

from lindiff_verify.model.errors import InputError
from lindiff_verify.verification import checks, tolerance
from lindiff_verify.verification.context import Context
from lindiff_verify.verification.registry import Case, Derivation, Mutant, Outcome, PaperRef, Variable, discover
from lindiff_verify.verification.runner import derivation_verdict, exit_status, run_check, run_derivation, summarize

EPS64 = 2.0**-52  # float64 machine epsilon, by definition of the format (52 fraction bits)
ALPHA = tolerance.DEFAULT_FALSE_ALARM


def _z(n_cases, alpha=ALPHA):
    """Two-sided Bonferroni quantile: P(|Z| > z) = alpha / n_cases for each of n_cases comparisons."""
    return stats.norm.isf(alpha / (2 * n_cases))


# --------------------------------------------------------------------------------------------------------
# tolerance models
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_cases", [1, 2, 7, 40, 1000])
@pytest.mark.parametrize("alpha", [1e-4, 1e-2, 0.05])
def test_bonferroni_z_is_the_two_sided_normal_quantile_at_alpha_over_n(n_cases, alpha):
    assert tolerance.bonferroni_z(n_cases, alpha) == pytest.approx(_z(n_cases, alpha), rel=1e-12, abs=0)


def test_bonferroni_z_at_one_case_is_the_textbook_value():
    # P(|Z| > 1.959964) = 5 %, P(|Z| > 3.890592) = 1e-4 (normal table)
    assert tolerance.bonferroni_z(1, 0.05) == pytest.approx(1.959963985, abs=1e-8)
    assert tolerance.bonferroni_z(1, 1e-4) == pytest.approx(3.890591886, abs=1e-8)


@pytest.mark.parametrize("n_cases", [1, 3, 25])
def test_monte_carlo_tolerance_is_z_times_se(n_cases):
    se = np.array([0.01, 0.2, 3.0])
    tol = tolerance.monte_carlo(se, n_cases=n_cases)
    np.testing.assert_allclose(tol.value, _z(n_cases) * se, rtol=1e-12)
    assert tolerance.monte_carlo(0.5, n_cases=n_cases).value == pytest.approx(_z(n_cases) * 0.5, rel=1e-12, abs=0)


@pytest.mark.parametrize("bias", [1e-3, 0.25, 4.0])
def test_monte_carlo_bias_bound_is_added_once_and_not_scaled(bias):
    se = 0.02
    tol = tolerance.monte_carlo(se, n_cases=5, bias_bound=bias)
    assert tol.value == pytest.approx(_z(5) * se + bias, rel=1e-12, abs=0)
    assert "bias" in tol.model
    np.testing.assert_allclose(tolerance.monte_carlo([se, 2 * se], n_cases=5, bias_bound=[bias, 0.0]).value,
                               [_z(5) * se + bias, _z(5) * 2 * se], rtol=1e-12)


@pytest.mark.parametrize("factor", [0.01, 3.0])
def test_a_tolerance_in_other_units_scales_its_se_bias_and_value_alike(factor):
    """A per-dimension quantity (value/d) carries the total's tolerance × 1/d: z·SE/d + bias/d (D.22)."""
    tol = tolerance.monte_carlo(0.02, n_cases=5, bias_bound=0.5)
    s = tol.scaled(factor)
    assert s.se == pytest.approx(0.02 * factor, rel=1e-15) and s.bias == pytest.approx(0.5 * factor, rel=1e-15)
    assert s.value == pytest.approx((_z(5) * 0.02 + 0.5) * factor, rel=1e-12)
    assert s.model == tol.model
    v = tolerance.monte_carlo(np.array([0.01, 0.04]), n_cases=2).scaled(factor)
    np.testing.assert_allclose(v.value, _z(2) * np.array([0.01, 0.04]) * factor, rtol=1e-12)


def test_a_stated_bound_carries_its_reason_into_the_error_model():
    tol = tolerance.bound(2e-9, "Richardson: change between the last two extrapolants")
    assert tol.value == 2e-9 and "Richardson: change between the last two extrapolants" in tol.model


def test_monte_carlo_without_bias_says_no_bias():
    assert "bias" not in tolerance.monte_carlo(0.1).model


@pytest.mark.parametrize("scale", [1.0, 1e-3, 250.0])
@pytest.mark.parametrize("n_ops", [1, 100, 4096])
def test_float64_rounding_is_n_ops_eps_scale(scale, n_ops):
    assert tolerance.float64(scale, n_ops=n_ops).value == pytest.approx(n_ops * EPS64 * scale, rel=1e-14, abs=0)


def test_float64_default_is_a_hundred_roundings():
    assert tolerance.float64(2.0).value == pytest.approx(100 * 2.0 * EPS64, rel=1e-14, abs=0)


@pytest.mark.parametrize("dps", [15, 30, 50, 80])
@pytest.mark.parametrize("guard", [0, 5, 10])
def test_mpmath_tolerance_is_scale_times_ten_to_minus_digits_left(dps, guard):
    assert tolerance.precision(dps, 3.0, guard_digits=guard).value == pytest.approx(3.0 * 10.0 ** (guard - dps),
                                                                                      rel=1e-12, abs=0)


def test_mpmath_default_keeps_five_guard_digits():
    assert tolerance.precision(30).value == pytest.approx(1e-25, rel=1e-12, abs=0)
    assert tolerance.precision(50).value == pytest.approx(1e-45, rel=1e-12, abs=0)


def test_combined_bounds_add_and_discretisation_is_the_stated_bound():
    a, b = tolerance.float64(1.0), tolerance.discretisation(1e-6, 2, 1e-3)
    assert b.value == 1e-6
    assert tolerance.combine(a, b).value == pytest.approx(100 * EPS64 + 1e-6, rel=1e-14, abs=0)
    assert tolerance.combine(a, b).model == a.model + " + " + b.model


def test_the_nominal_false_alarm_rate_is_met_by_z_se():
    """Gaussian estimates, n cases per check: the fraction of checks with some |Δ| > z·SE is ≤ alpha·…"""
    rng = np.random.default_rng(1)
    alpha, n = 0.05, 4
    z = tolerance.bonferroni_z(n, alpha)
    hits = np.any(np.abs(rng.standard_normal((200_000, n))) > z, axis=1).mean()
    assert hits <= alpha and hits > 0.8 * alpha  # Bonferroni is tight for small alpha, independent cases


# --------------------------------------------------------------------------------------------------------
# finite-size extrapolation: the extrapolated SE and its Monte Carlo tolerance
# --------------------------------------------------------------------------------------------------------
def _extrapolation():
    from lindiff_verify.theory import extrapolation

    return extrapolation


def test_extrapolated_se_is_the_weighted_least_squares_covariance():
    ex = _extrapolation()
    d = np.array([8.0, 16.0, 32.0, 64.0])
    se = np.array([0.03, 0.02, 0.015, 0.01])
    v = np.array([1.12, 1.05, 1.03, 1.01])
    fit = ex.fit_finite_size(d, v, se)
    coef, cov = np.polyfit(1 / d, v, 1, w=1 / se, cov="unscaled")  # numpy's WLS: (XᵀWX)^-1
    assert fit.value == pytest.approx(coef[1], rel=1e-10, abs=0) and fit.slope == pytest.approx(coef[0], rel=1e-10, abs=0)
    assert fit.se == pytest.approx(math.sqrt(cov[1, 1]), rel=1e-10, abs=0)
    resid = (v - (coef[1] + coef[0] / d)) / se
    assert fit.chi2 == pytest.approx(resid @ resid, rel=1e-10, abs=0) and fit.dof == 2
    assert fit.p_value == pytest.approx(stats.chi2.sf(resid @ resid, 2), rel=1e-10, abs=0)


def _judge():
    try:
        from lindiff_verify.verification.checks import judge  # after the refactor
    except ImportError:
        from lindiff_verify.theory.extrapolation import judge
    return judge


@pytest.mark.parametrize("bias", [0.0, 0.004])
def test_extrapolated_case_tolerance_is_z_se_plus_bias_once(bias):
    ex = _extrapolation()
    fit = ex.fit_finite_size([10, 20, 40], [1.1, 1.05, 1.025], [0.01, 0.01, 0.01])
    case = _judge()({"x": 1}, fit, 1.0, n_cases=6, bias_bound=bias)
    assert float(case.tolerance) == pytest.approx(_z(6) * fit.se + bias, rel=1e-12, abs=0)
    assert case.reference == pytest.approx(fit.value) and case.value == 1.0


# --------------------------------------------------------------------------------------------------------
# small samples: a jackknife SE over n_batch batches takes a Student-t(n_batch − 1) quantile
# --------------------------------------------------------------------------------------------------------
def test_eq8_jackknife_tolerance_uses_student_t_with_n_batch_minus_one_dof():
    reg = discover()
    d = reg["eq.8"]
    chk = next(c for c in d.checks if c.method == "montecarlo")
    ctx = Context(seed=0).scoped(d.id, chk.name)
    ref = chk.reference(ctx)
    out = checks.as_outcome(chk.compare(d.statement, ref, ctx))
    ses = np.concatenate([r[4] for r in ref])
    n_batch = ref[0][5]
    judged = getattr(out, "judged", out.cases)  # tolerances after the Outcome's Bonferroni correction
    assert len(judged) == ses.size
    t_q = stats.t.isf(ALPHA / (2 * len(judged)), n_batch - 1)
    np.testing.assert_allclose([float(c.tolerance) for c in judged], t_q * ses, rtol=1e-10)
    # the normal quantile would be too narrow for 19 degrees of freedom
    assert t_q > 1.2 * _z(len(out.cases))


# --------------------------------------------------------------------------------------------------------
# verdicts: a case, an outcome, a derivation, the exit status
# --------------------------------------------------------------------------------------------------------
def test_a_case_agrees_within_its_tolerance_inclusive():
    assert Case({}, 1.5, 1.0, 0.5).ok
    assert not Case({}, 1.5 + 1e-12, 1.0, 0.5).ok
    assert not Case({}, float("nan"), 1.0, 1e9).ok
    assert not Case({}, float("inf"), 1.0, 1e9).ok
    assert not Case({}, 1.0, 1.0, 1.0, error=float("nan")).ok


def test_a_high_precision_error_is_not_rounded_away():
    with mpmath.workdps(50):
        c = checks.mp_case({}, mpmath.mpf(1) + mpmath.mpf(10) ** -40, mpmath.mpf(1), 1e-45)
    assert c.abs_error == pytest.approx(1e-40, rel=1e-6, abs=0) and not c.ok


def test_outcome_verdicts():
    good, bad = Case({}, 1.0, 1.0, 0.1), Case({}, 2.0, 1.0, 0.1)
    assert Outcome([good]).verdict == "agree"
    assert Outcome([good, bad]).verdict == "disagree"
    assert Outcome([]).verdict == "inconclusive"  # nothing compared is not a pass
    assert Outcome([good], inconclusive_reason="domain not sampled").verdict == "inconclusive"
    assert Outcome([bad], inconclusive_reason="x").verdict == "disagree"


@pytest.mark.parametrize("verdicts, expected", [
    (["agree", "agree"], "agree"),
    (["agree", "inconclusive"], "inconclusive"),
    (["inconclusive"], "inconclusive"),
    ([], "inconclusive"),
    (["agree", "disagree"], "disagree"),
    (["disagree", "error"], "error"),
    (["agree", "error"], "error"),
])
def test_derivation_verdict(verdicts, expected):
    assert derivation_verdict(verdicts) == expected


x = sp.Symbol("x", positive=True)


def _numeric_check(name, behaviour):
    """A numeric check whose compare does ``behaviour(statement value at 2)``."""

    def compare(st, _ref, _ctx):
        return behaviour(float(st["f"].subs(x, 2)))

    return checks.numeric(name, "numeric", compare, error_model="float64 rounding")


def _agree_if_four(v):
    return [Case({"x": 2}, v, 4.0, 1e-12)]


def _raise_unless_four(v):
    if v != 4.0:
        raise RuntimeError("cannot evaluate")
    return [Case({"x": 2}, v, 4.0, 1e-12)]


def _inconclusive(v):
    return Outcome([Case({"x": 2}, v, 4.0, 1e-12)], inconclusive_reason="domain not sampled")


class _Bare(Derivation):
    """A registry entry without the ≥ 2 checks / ≥ 2 mutants rule, to isolate one verdict rule at a time."""

    def validate(self):
        pass


def _derivation(check_list, mutants):
    return _Bare(id="X.99", title="t", paper_ref=PaperRef("X.99", "test"), statement={"f": x**2},
                      variables=[Variable(x, "x", "x > 0")], checks=check_list, mutants=mutants)


def _summary(rec):
    return summarize([rec])


def test_an_erroring_mutant_is_an_error_never_a_kill():
    d = _derivation([_numeric_check("raises on wrong values", _raise_unless_four)],
                    [Mutant("off by one", "x^2 + 1", replace={"f": x**2 + 1})])
    rec = run_derivation(d, Context())
    assert rec["checks"][0]["verdict"] != "error"  # (inconclusive: it kills no mutant)
    m = rec["mutants"][0]
    assert m["checks"]["raises on wrong values"]["verdict"] == "error"
    assert not m["killed"] and m["killed_by"] == []
    assert exit_status({"summary": _summary(rec)}) == 1


def test_a_mutant_that_cannot_be_built_is_not_killed():
    def broken(_st):
        raise ValueError("no such form")

    d = _derivation([_numeric_check("exact", _agree_if_four)], [Mutant("broken", "?", transform=broken)])
    m = run_derivation(d, Context())["mutants"][0]
    assert not m["killed"] and "no such form" in m["error"]


def test_an_erroring_check_is_an_error_never_agreement():
    d = _derivation([_numeric_check("exact", _agree_if_four),
                     _numeric_check("always raises", lambda v: _raise_unless_four(v + 1))],
                    [Mutant("off by one", "x^2 + 1", replace={"f": x**2 + 1})])
    rec = run_derivation(d, Context())
    assert rec["checks"][1]["verdict"] == "error" and rec["verdict"] == "error"
    assert exit_status({"summary": _summary(rec)}) == 1


def test_an_erroring_reference_makes_claim_and_mutants_errors():
    def bad_ref(_ctx):
        raise ArithmeticError("reference failed")

    chk = checks.numeric("bad ref", "numeric", lambda st, ref, ctx: [Case({}, 1.0, 1.0, 1.0)], reference=bad_ref,
                         error_model="none")
    res = run_check(_derivation([chk], []), chk, Context(), {"claim": {"f": x**2}, "m": {"f": x}})
    assert res["claim"]["verdict"] == "error" and res["m"]["verdict"] == "error"


def test_inconclusive_is_never_a_pass():
    d = _derivation([_numeric_check("inconclusive", _inconclusive), _numeric_check("exact", _agree_if_four)],
                    [Mutant("off by one", "x^2 + 1", replace={"f": x**2 + 1})])
    rec = run_derivation(d, Context())
    assert rec["verdict"] == "inconclusive"
    assert exit_status({"summary": _summary(rec)}) == 1


def test_kills_are_counted_from_disagreements_only():
    d = _derivation([_numeric_check("exact", _agree_if_four), _numeric_check("inconclusive", _inconclusive)],
                    [Mutant("off by one", "x^2 + 1", replace={"f": x**2 + 1}),
                     Mutant("same", "x·x", replace={"f": x * x})])
    rec = run_derivation(d, Context())
    by = {m["name"]: m for m in rec["mutants"]}
    assert by["off by one"]["killed_by"] == ["exact", "inconclusive"]  # both disagree at value 5
    assert not by["same"]["killed"]
    s = _summary(rec)
    assert (s["mutants"], s["mutants_killed"]) == (2, 1)


def test_exit_status_is_zero_only_when_everything_agrees_and_every_mutant_dies():
    ok = {"derivations": 1, "agree": 1, "disagree": 0, "inconclusive": 0, "error": 0, "mutants": 2,
          "mutants_killed": 2, "checks": 2}
    assert exit_status({"summary": ok}) == 0
    for change in ({"agree": 0, "disagree": 1}, {"agree": 0, "error": 1}, {"agree": 0, "inconclusive": 1},
                   {"mutants_killed": 1}, {"figure_errors": 1}):
        assert exit_status({"summary": {**ok, **change}}) == 1, change


def test_the_runner_restores_mpmath_precision_and_runs_at_the_context_precision():
    seen = []

    def compare(st, ref, ctx):
        seen.append(mpmath.mp.dps)
        return [Case({}, 1.0, 1.0, 0.0)]

    chk = checks.numeric("dps", "mpmath", compare, error_model="none")
    mpmath.mp.dps = 15
    run_check(_derivation([chk], []), chk, Context(dps=40), {"claim": {"f": x**2}})
    assert set(seen) == {40} and mpmath.mp.dps == 15


# --------------------------------------------------------------------------------------------------------
# the symbolic check's zero test works at the precision of its evaluation (80 digits)
# --------------------------------------------------------------------------------------------------------
def _symbolic_verdict(residual):
    chk = checks.symbolic("identity", lambda st: {"r": st["f"] - x**2 + residual})
    out = checks.as_outcome(chk.compare({"f": x**2}, None, Context()))
    return out.verdict, out.cases[0].abs_error


@pytest.mark.parametrize("size", [sp.Rational(1, 10**5), sp.Rational(1, 10**16), sp.Rational(1, 10**30)])
def test_a_small_but_nonzero_residual_refutes_the_identity(size):
    verdict, err = _symbolic_verdict(size * sp.sin(x) / (1 + x))
    assert verdict == "disagree" and err > 0


def test_a_residual_that_is_zero_only_in_float64_is_refuted():
    # exp(-40) ≈ 4e-18 is below float64 resolution of 1 but is 10^62 times the 80-digit rounding
    verdict, _ = _symbolic_verdict(sp.exp(-40) * x)
    assert verdict == "disagree"


def test_every_residual_is_reported_not_only_the_first_refuted_one():
    chk = checks.symbolic("identities", lambda st: {"wrong 1": st["f"] - x**2 - 1, "right": st["f"] - x**2,
                                                     "wrong 2": st["f"] - x**3})
    out = checks.as_outcome(chk.compare({"f": x**2}, None, Context()))
    assert [c.params["residual"] for c in out.cases] == ["wrong 1", "right", "wrong 2"]
    assert [c.ok for c in out.cases] == [False, True, False]


def test_a_true_identity_with_cancellation_agrees():
    r = (sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1) * 10**20
    verdict, err = _symbolic_verdict(r)
    assert verdict == "agree" and err == 0


def test_a_singular_point_is_skipped_and_the_next_points_are_evaluated():
    """The symbolic check's random points: a residual singular at the first one is evaluated at the others."""
    import random
    from fractions import Fraction

    q0 = checks.rationals(random.Random(0), 1, Fraction(1, 11), Fraction(10, 11))[0]  # the first point of seed 0
    v = checks.residual_size(1 / (x - sp.Rational(q0.numerator, q0.denominator)), seed=0)
    assert v is not None and v > 1  # |1/(x − q0)| ≥ 1/(10/11 − 1/11) at the other points


def test_a_residual_lambdify_cannot_print_is_evaluated_through_sympy():
    """An unevaluated derivative in a statement: evaluated at the random points all the same."""
    deriv = sp.Derivative(x**3, x)
    assert checks.residual_size(deriv - 3 * x**2) < 1e-70
    assert checks.residual_size(deriv - 3 * x) > 0.1  # 3x² − 3x at x in (1/11, 10/11)


def test_residual_size_resolves_the_working_precision():
    assert checks.residual_size(sp.exp(-150) * (1 + x)) > 0  # 1e-65 ≫ 1e-80
    assert checks.residual_size((sp.sqrt(x) ** 2 - x) * 10**30) < 1e-45


# --------------------------------------------------------------------------------------------------------
# context: reproducible, independent, recorded streams
# --------------------------------------------------------------------------------------------------------
def test_streams_are_a_function_of_seed_scope_and_name():
    a = Context(seed=3).scoped("eq.9", "mc").rng("draws").standard_normal(4)
    b = Context(seed=3).scoped("eq.9", "mc").rng("draws").standard_normal(4)
    c = Context(seed=4).scoped("eq.9", "mc").rng("draws").standard_normal(4)
    e = Context(seed=3).scoped("eq.9", "other").rng("draws").standard_normal(4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, e)


def test_every_stream_is_recorded_with_its_seed():
    ctx = Context(seed=11)
    s = ctx.scoped("D.1", "mc")
    s.rng("a"), s.rng("b")
    assert [u["stream"] for u in ctx.seeds_used] == ["D.1/mc/a", "D.1/mc/b"]
    assert all(u["entropy"] == 11 for u in ctx.seeds_used)
    seq = np.random.SeedSequence(11, spawn_key=tuple(ctx.seeds_used[0]["spawn_key"]))
    np.testing.assert_array_equal(np.random.default_rng(seq).random(3),
                                  Context(seed=11).scoped("D.1", "mc").rng("a").random(3))


def test_fidelity_sets_the_default_precision_and_sizes():
    assert Context().dps == 30 and Context(fidelity="full").dps == 50
    assert Context().pick(1, 2) == 1 and Context(fidelity="full").pick(1, 2) == 2


@pytest.mark.parametrize("n", [1, 4, 30])
def test_an_outcome_judges_its_statistical_cases_at_the_bonferroni_z_of_the_family(n):
    se, bias = 0.01, 0.002
    cases = [Case({"k": k}, 1.0, 1.0, tolerance.monte_carlo(se, bias_bound=bias)) for k in range(n)]
    exact = Case({"k": "exact"}, 1.0, 1.0, tolerance.float64(1.0))  # not statistical: not in the family
    out = Outcome(cases + [exact])
    judged = getattr(out, "judged", out.cases)
    np.testing.assert_allclose([float(c.tolerance) for c in judged[:n]], _z(n) * se + bias, rtol=1e-12)
    assert float(judged[n].tolerance) == pytest.approx(100 * EPS64, rel=1e-12, abs=0)
    # a case just outside z(n)·SE + bias disagrees, just inside agrees
    edge = _z(n) * se + bias
    assert Outcome([Case({}, 1.0 + 1.001 * edge, 1.0, tolerance.monte_carlo(se, bias_bound=bias))] +
                   cases[1:]).verdict == "disagree"
    assert Outcome([Case({}, 1.0 + 0.999 * edge, 1.0, tolerance.monte_carlo(se, bias_bound=bias))] +
                   cases[1:]).verdict == "agree"


def test_progress_is_reported_per_derivation_with_the_total():
    from lindiff_verify.verification.execution import make_engine
    from lindiff_verify.verification.runner import run_records

    reg = discover()
    seen = []
    run_records([reg["eq.9"], reg["C.1"]], Context(), make_engine(), mutants=False,
                progress=lambda did, done, total: seen.append((did, done, total)))
    assert seen == [("eq.9", 1, 2), ("C.1", 2, 2)]


def test_a_high_precision_case_keeps_its_stated_bias_bound():
    c = checks.mp_case({"N": 10}, mpmath.mpf(1) + mpmath.mpf(10) ** -30, 1, 1e-3, bias_bound=4e-4)
    assert c.bias == 4e-4 and c.ok


def test_a_display_entry_must_name_a_statement_entry():
    with pytest.raises(InputError) as e:
        Derivation(id="X.97", title="t", paper_ref=PaperRef("X.97", "test"), statement={"f": x**2},
                   lhs={"g": sp.Symbol("g(x)")}, variables=[Variable(x, "x", "x > 0")],
                   checks=[_numeric_check("a", _raise_unless_four), _numeric_check("b", _raise_unless_four)],
                   mutants=[Mutant("m1", "x^3", replace={"f": x**3}), Mutant("m2", "x^4", replace={"f": x**4})])
    assert e.value.parameter == "lhs" and e.value.allowed == "f"


def test_a_mutant_replacing_an_entry_the_statement_lacks_is_refused():
    """A typo in a mutant's replace= would otherwise add an unused entry and leave the claim unchanged."""
    with pytest.raises(KeyError, match="nope"):
        Mutant("typo", "x^3", replace={"nope": x**3}).apply({"f": x**2})
    assert Mutant("ok", "x^3", replace={"f": x**3}).apply({"f": x**2}) == {"f": x**3}


def test_a_reference_that_raises_is_an_error_naming_the_exception():
    def ref(_ctx):
        raise RuntimeError("the reference solver diverged")

    chk = checks.numeric("ref raises", "numeric", lambda st, r, c: [], reference=ref, error_model="e")
    rec = run_derivation(_derivation([chk], [Mutant("m", "x^3", replace={"f": x**3})]), Context())
    c = rec["checks"][0]
    assert c["verdict"] == "error" and "RuntimeError: the reference solver diverged" in c["error"]
    assert rec["verdict"] == "error" and not rec["mutants"][0]["killed"]


def test_the_record_carries_the_derivation_as_declared():
    d = discover()["D.22"]
    rec = run_derivation(d, Context(), mutants=False)
    assert (rec["regime"], rec["claim_kind"], rec["assumptions"]) == (d.regime, d.claim_kind, list(d.assumptions))
