"""One home per idea: a Case carries its Tolerance, an Outcome corrects statistical tolerances for its own
family of cases, the error model's text comes from the tolerance, checks and mutants have stable ids."""

from __future__ import annotations

import pytest
import sympy as sp

from lindiff_verify.verification import checks, tolerance
from lindiff_verify.verification.context import Context
from lindiff_verify.verification.registry import Case, Derivation, Mutant, Outcome, PaperRef, Variable
from lindiff_verify.verification.runner import run_derivation

x = sp.Symbol("x", positive=True)


def test_a_case_carries_its_tolerance_and_the_outcome_names_its_model():
    tol = tolerance.float64(scale=2.0)
    out = Outcome([Case({"x": 1}, 1.0, 1.0, tol)])
    assert out.cases[0].tolerance is tol and float(out.cases[0].tolerance) == pytest.approx(200 * 2**-52)
    assert out.tolerance_model == f"float64 rounding: {tolerance.FLOAT64_OPS:g}·eps·scale"


@pytest.mark.parametrize("n", [1, 3, 17])
def test_the_outcome_corrects_monte_carlo_tolerances_over_its_actual_cases(n):
    se = 0.01
    out = Outcome([Case({"k": k}, 0.0, 0.0, tolerance.monte_carlo(se)) for k in range(n)])
    out.cases.append(Case({"exact": True}, 0.0, 0.0, tolerance.exact()))  # not part of the statistical family
    z = tolerance.bonferroni_z(n)
    assert [float(c.tolerance) for c in out.judged[:n]] == pytest.approx([z * se] * n)
    assert f"Bonferroni over {n} case(s)" in out.tolerance_model
    # a difference of (z + ε)·SE is caught whatever family size the caller might have guessed
    out.cases[0] = Case({"k": 0}, (z * 1.001) * se, 0.0, tolerance.monte_carlo(se, n_cases=10**6))
    assert out.verdict == "disagree"


def test_array_tolerances_index_to_cases_and_keep_their_bias():
    tol = tolerance.monte_carlo([0.1, 0.2], bias_bound=[0.0, 0.5], note="stated bias")
    one = tol[1]
    assert float(one) == pytest.approx(tolerance.bonferroni_z(1) * 0.2 + 0.5)
    assert one.model.endswith("+ bound on the deterministic bias (stated bias)")


def test_student_t_tolerances_are_corrected_like_gaussian_ones():
    out = Outcome([Case({"k": k}, 0.0, 0.0, tolerance.student_t(1.0, dof=9)) for k in range(4)])
    assert float(out.judged[0].tolerance) > tolerance.bonferroni_z(4)  # heavier tails than the Gaussian quantile


def _derivation(mutant_names, check_ids=(None, None)):
    def numeric(st, ref, ctx):
        f = checks.lambdify((x,), st["square"])
        return [Case({"x": v}, f(v), (1 + v) ** 2, tolerance.float64(scale=(1 + v) ** 2)) for v in (0.5, 2.0)]

    return Derivation(
        id="X.990", title="test", paper_ref=PaperRef("X.990", "test"), statement={"square": (1 + x) ** 2},
        variables=[Variable(x, "a positive number", "x > 0")],
        checks=[checks.symbolic("expand", lambda st: {"r": st["square"] - (x**2 + 2 * x + 1)}, id=check_ids[0]),
                checks.numeric("floats", "numeric", numeric, id=check_ids[1])],
        mutants=[Mutant(n, "wrong", replace={"square": x**2 + k + 2}) for k, n in enumerate(mutant_names)])


def test_a_mutant_named_claim_does_not_overwrite_the_claim():
    rec = run_derivation(_derivation(["claim", "other"]), Context())
    assert rec["verdict"] == "agree", "the claim was judged, not the mutant called 'claim'"
    assert [m["killed"] for m in rec["mutants"]] == [True, True]


def test_checks_and_mutants_have_stable_ids_apart_from_their_titles():
    d = _derivation(["a", "b"])
    assert [c.id for c in d.checks] == ["expand", "floats"] and [m.id for m in d.mutants] == ["a", "b"]
    before = run_derivation(d, Context())
    d.checks[1].name = "a new title"
    rec = run_derivation(d, Context())
    assert [c["id"] for c in rec["checks"]] == ["expand", "floats"] and rec["checks"][1]["name"] == "a new title"
    assert rec["checks"][1]["seeds"] == before["checks"][1]["seeds"], "random streams follow the id, not the title"
    assert _derivation(["a", "b"], check_ids=("proof", "grid")).checks[1].id == "grid"
    with pytest.raises(Exception, match="check id"):
        _derivation(["a", "b"], check_ids=("same", "same"))


def test_the_error_model_comes_from_the_tolerance_when_not_stated():
    rec = run_derivation(_derivation(["a", "b"]), Context())
    numeric = rec["checks"][1]
    assert numeric["error_model"] == numeric["tolerance_model"] == "float64 rounding: 100·eps·scale"


@pytest.mark.parametrize("change, rule", [
    (dict(checks=1), "at least 2 independent checks"),
    (dict(mutants=1), "at least 2 wrong variants"),
    (dict(statement={"square": (1 + x) ** 2 * sp.Float(1.0)}), "sympy Float"),
    (dict(paper_ref=PaperRef("X.990", "")), "label and section"),
    (dict(variables=[]), "domains"),
    (dict(display=lambda st: [sp.Eq(sp.Symbol("f"), st["square"] * sp.Float(1.5))]), "Float"),
])
def test_the_registry_rules_are_enforced_when_an_entry_is_created(change, rule):
    base = _derivation(["a", "b"])
    fields = dict(id=base.id, title=base.title, paper_ref=base.paper_ref, statement=base.statement,
                  variables=base.variables, checks=base.checks, mutants=base.mutants)
    for k, v in change.items():
        fields[k] = fields[k][:v] if isinstance(v, int) else v
    with pytest.raises(Exception, match=rule):
        Derivation(**fields)


def test_a_check_that_rejects_no_mutant_is_inconclusive():
    d = _derivation(["a", "b"])
    d.checks.append(checks.numeric("blind", "numeric", lambda st, ref, ctx: [Case({}, 1.0, 1.0, tolerance.exact())]))
    d.checks[-1].id = "blind"
    rec = run_derivation(d, Context())
    blind = rec["checks"][-1]
    assert blind["verdict"] == "inconclusive" and "cannot fail" in blind["inconclusive_reason"]
    assert rec["verdict"] == "inconclusive"


def test_display_is_built_from_the_statement_as_equations():
    d = _derivation(["a", "b"])
    (eq,) = d.display_equations()
    assert isinstance(eq, sp.Equality) and eq.lhs == sp.Symbol("square") and eq.rhs == (1 + x) ** 2
    (meq,) = d.display_equations(d.mutated(d.mutants[0]))
    assert meq.rhs == x**2 + 2
