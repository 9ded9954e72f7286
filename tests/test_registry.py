"""The registry's contract: every derivation is complete, exact, and its checks have power."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from lindiff_verify.verification import tolerance
from lindiff_verify.verification.checks import residual_size
from lindiff_verify.verification.context import Context
from lindiff_verify.model.errors import InputError
from lindiff_verify.verification.registry import CLAIM_KINDS, Case, Outcome, discover
from lindiff_verify.verification.runner import derivation_verdict, run_derivation

REGISTRY = discover()
IDS = list(REGISTRY)


def test_registry_discovers_the_builtin_derivations():
    assert "eq.9" in REGISTRY
    assert len(REGISTRY) >= 1


@pytest.mark.parametrize("did", IDS)
def test_derivation_is_complete(did):
    d = REGISTRY[did]
    assert d.id == d.paper_ref.label, "the id is the paper's label"
    assert d.title and d.paper_ref.section and "2505.24769" in str(d.paper_ref)
    assert len(d.checks) >= 2, "at least two independent checks"
    assert len(d.mutants) >= 2, "at least two mutants"
    assert d.claim_kind in CLAIM_KINDS
    assert d.variables, "variables with their domains are declared"
    names = [c.name for c in d.checks] + [m.name for m in d.mutants]
    assert len(set(names)) == len(names), "check and mutant names are unique within a derivation"


def _floats(expr):
    return [a for a in sp.preorder_traversal(expr) if isinstance(a, sp.Float)]


@pytest.mark.parametrize("did", IDS)
def test_statements_are_exact(did):
    """No sympy Float anywhere: a Float silently caps a high-precision evaluation at 15 digits."""
    d = REGISTRY[did]
    statements = [d.statement] + [d.mutated(m) for m in d.mutants]
    for st in statements:
        for key, expr in st.items():
            if isinstance(expr, sp.Basic):
                assert not _floats(expr), f"{did}: statement entry {key!r} contains Floats {_floats(expr)}"
    for eq in d.display_equations():
        assert not _floats(eq), f"{did}: display contains Floats"
        assert not isinstance(eq, sp.logic.boolalg.BooleanAtom), f"{did}: a display equation evaluated to {eq}"


def _differs(a, b) -> bool:
    if a == b:
        return False
    if isinstance(a, sp.Expr) and isinstance(b, sp.Expr) and not (a.is_Matrix or b.is_Matrix):
        try:
            return residual_size(a - b) > 0  # differs at random rational points
        except (TypeError, ValueError):
            pass
    return True  # structurally different (matrix expressions, relations)


@pytest.mark.parametrize("did", IDS)
def test_mutants_differ_from_the_claim(did):
    d = REGISTRY[did]
    for m in d.mutants:
        mutated = d.mutated(m)
        assert any(_differs(mutated[k], d.statement[k]) for k in d.statement), f"{did}: mutant {m.name!r} is the claim"


def test_verdicts_are_three_valued():
    assert Outcome().verdict == "inconclusive", "no case sampled is never a pass"
    assert Outcome(cases=[Case({}, 1.0, 1.0, 0.0)]).verdict == "agree"
    assert Outcome(cases=[Case({}, 1.0, 1.0, 0.0)], inconclusive_reason="x").verdict == "inconclusive"
    assert Outcome(cases=[Case({}, 1.1, 1.0, 0.05)]).verdict == "disagree"
    assert Outcome(cases=[Case({}, float("nan"), 1.0, 1.0)]).verdict == "disagree", "NaN is a disagreement"
    assert derivation_verdict(["agree", "inconclusive"]) == "inconclusive"
    assert derivation_verdict(["agree", "disagree"]) == "disagree"
    assert derivation_verdict(["disagree", "error"]) == "error"


def test_bonferroni_z_matches_the_normal_quantile():
    # P(|Z| > 3.8906) = 1e-4 for a standard normal (tables); with n cases each gets 1e-4 / n
    assert tolerance.bonferroni_z(1, 1e-4) == pytest.approx(3.8906, abs=1e-4)
    assert math.erfc(tolerance.bonferroni_z(10, 1e-3) / math.sqrt(2)) == pytest.approx(1e-4, rel=1e-9)


def test_context_streams_are_reproducible_and_independent():
    a = Context(seed=7).scoped("eq.9", "check").rng("x").standard_normal(4)
    b = Context(seed=7).scoped("eq.9", "check").rng("x").standard_normal(4)
    c = Context(seed=7).scoped("eq.9", "check").rng("y").standard_normal(4)
    d = Context(seed=8).scoped("eq.9", "check").rng("x").standard_normal(4)
    assert (a == b).all() and not (a == c).all() and not (a == d).all()


@pytest.mark.parametrize("kwargs, parameter", [
    ({"seed": -1}, "seed"), ({"fidelity": "medium"}, "fidelity"), ({"backend": "torch"}, "backend"), ({"dps": 10}, "dps"),
])
def test_context_rejects_bad_input(kwargs, parameter):
    with pytest.raises(InputError) as e:
        Context(**kwargs)
    assert e.value.parameter == parameter


def test_a_user_derivation_file_is_picked_up_and_checked(tmp_path, write_user_derivation):
    write_user_derivation(tmp_path / "mine")
    reg = discover([tmp_path / "mine"])
    assert "X.91" in reg and "eq.9" in reg
    rec = run_derivation(reg["X.91"], Context(seed=0))
    assert rec["verdict"] == "agree"
    assert all(m["killed"] for m in rec["mutants"])


def test_a_wrong_user_derivation_disagrees(tmp_path, write_user_derivation):
    write_user_derivation(tmp_path / "wrong", n=2, claim="x**2 + 2*x")
    rec = run_derivation(discover([tmp_path / "wrong"], include_builtin=False)["X.92"], Context(seed=0))
    assert rec["verdict"] == "disagree"
    assert {c["verdict"] for c in rec["checks"]} == {"disagree"}


def test_duplicate_ids_are_refused(tmp_path, write_user_derivation):
    write_user_derivation(tmp_path / "a", n=3)
    write_user_derivation(tmp_path / "b", n=3)
    with pytest.raises(InputError, match="declared twice"):
        discover([tmp_path / "a", tmp_path / "b"], include_builtin=False)


def test_unknown_id_is_a_clear_error():
    with pytest.raises(InputError, match="eq.99"):
        REGISTRY.select(["eq.99"])


def _wrong_above_3():
    """A claim wrong only for x > 3, with a dense check whose parameter domain is declared (x ∈ [0, 10])."""
    from lindiff_verify.verification import checks
    from lindiff_verify.verification.registry import Derivation, Mutant, PaperRef, Variable

    x = sp.Symbol("x", positive=True)
    wrong = (1 + x) ** 2 + sp.Max(0, x - 3)  # wrong only for x > 3

    def case(st, params, ctx):
        v = params["x"]
        return Case(params, float(checks.lambdify((x,), st["square"])(v)), (1 + v) ** 2, 1e-12 * (1 + v) ** 2)

    def compare(st, ref, ctx):
        return [case(st, {"x": v}, ctx) for v in (0.5, 2.0, 7.0, 9.5)]

    def small(st, ref, ctx):
        return [case(st, {"x": v}, ctx) for v in (0.5, 1.0)]

    return Derivation(
        id="X.99", title="wrong for x > 3", paper_ref=PaperRef("X.99", "test"), statement={"square": wrong},
        variables=[Variable(x, "x", sp.Interval.open(0, sp.oo))],
        checks=[checks.numeric("floats", "numeric", compare, error_model="float64", domain={"x": sp.Interval(0, 10)},
                               case=case),
                checks.numeric("small x", "numeric", small, error_model="float64")],
        mutants=[Mutant("m", "x^2", replace={"square": x**2}), Mutant("m2", "x^2 + 1", replace={"square": x**2 + 1})],
    )


def test_a_disagreement_is_shrunk_to_its_smallest_failing_case():
    """With the check's parameter domain declared, Hypothesis (inferred strategy) finds the minimal failing case."""
    pytest.importorskip("hypothesis")
    rec = run_derivation(_wrong_above_3(), Context(seed=0))
    c = rec["checks"][0]
    assert c["verdict"] == "disagree" and c["worst_case"]["params"]["x"] in (7.0, 9.5)
    small = c["minimal_failing_case"]["params"]["x"]
    assert 3 < small < 7, "Hypothesis finds a failing case smaller than any sampled one"
    assert "minimal_failing_case" not in rec["mutants"][0]["checks"]["floats"], "mutants are not shrunk"


def test_without_hypothesis_a_disagreement_is_reported_unshrunk(monkeypatch):
    from lindiff_verify.verification import domains

    monkeypatch.setattr(domains, "hypothesis_available", lambda: False)
    rec = run_derivation(_wrong_above_3(), Context(seed=0))
    c = rec["checks"][0]
    assert c["verdict"] == "disagree" and "error" not in c
    assert "unavailable" in c["minimal_failing_case"], "the record says why there is no shrunk case"


def test_derivations_are_listed_in_paper_order_numerically_with_sub_ids():
    """Main text, then the appendices, then our own; eq.2 before eq.13; a sub-id (X.9.a, X.9-b) after its parent
    and before X.10 (the registry's order is the report's and `list`'s)."""
    from lindiff_verify.verification.registry import Registry

    ids = ["X.10", "X.9-b", "X.9.a", "X.9", "D.11", "B.1", "eq.13", "eq.2"]
    assert sorted(ids, key=Registry.sort_key) == ["eq.2", "eq.13", "B.1", "D.11", "X.9", "X.9.a", "X.9-b", "X.10"]
