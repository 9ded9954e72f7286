"""Power of the checks: every Monte Carlo and finite-size-extrapolated check rejects a claim that is off by
2 % (quick fidelity) or 0.5 % (full), or its derivation says why it cannot (``Check.detects``: what it can and cannot detect).

The threshold is measured by the runner (``detects_relative_error``: bisection on claim × (1 ± ε) against the
already-computed reference). A tolerance widened by mistake shows up here as a threshold above target.
"""

from __future__ import annotations

import pytest
import sympy as sp

from lindiff_verify.verification import checks
from lindiff_verify.verification.context import Context
from lindiff_verify.verification.registry import Case, Derivation, Mutant, PaperRef, Variable, discover
from lindiff_verify.verification import runner
from lindiff_verify.verification.runner import run_derivation
from lindiff_verify.verification.testing import derivation_record

TARGET = {"quick": 0.02, "full": 0.005}
#: checks measured above target (seed 0), to be strengthened (issue 15): (fidelity, id, check) → threshold.
#: Listed here they xfail with their number; any other weak check fails the suite.
KNOWN_WEAK = {
    # bias-limited: the asymptote's own gap at d = 400, N = 1.6·10^5 (1/d + d/N terms) is 1.2 % of the value
    ("full", "D.22", "Wishart Monte Carlo at d = 100, N = 10^4 and d = 400, N = 1.6·10^5"): 0.014,
    ("quick", "X.1", "exact inverse Wishart at z → 0: relative error O(1/d²) (no 1/d term)"): None,
}
IDS = list(discover())


def is_statistical(check: dict) -> bool:
    """Monte Carlo checks and checks whose reference is extrapolated in the size (d or N)."""
    return runner.is_statistical(check["method"], check["name"], check["error_model"],
                                 check.get("tolerance_model") or "")


@pytest.mark.parametrize("did", IDS)
def test_statistical_checks_detect_the_target_relative_error(did, request):
    cfg = request.config
    fidelity = cfg.getoption("--fidelity")
    rec = derivation_record(did, cfg.getoption("--derivations"), seed=cfg.getoption("--seed"), fidelity=fidelity)
    weak, known = [], []
    for c in rec["checks"]:
        if not is_statistical(c) or c.get("detects") or c["verdict"] != "agree":
            continue  # a check that does not agree fails test_check_agrees already
        eps = c.get("detects_relative_error")
        if eps is None or eps > TARGET[fidelity]:
            msg = f"{c['name']}: detects {eps if eps is not None else 'no relative error ≤ 100 %'}"
            (known if (fidelity, did, c["name"]) in KNOWN_WEAK else weak).append(msg)
    assert not weak, f"{did} at {fidelity} fidelity (target {TARGET[fidelity]:.1%}): {weak}"
    if known:
        pytest.xfail(f"known weak, to be strengthened: {known}")


# -- the threshold itself, on a check whose answer is known -----------------------------------------------
x = sp.Symbol("x", positive=True)


class _Bare(Derivation):
    """One check, one mutant: the registry's ≥ 2 rule is not the subject here."""

    def validate(self):
        pass


def _derivation(tol_rel, value=4.0):
    def compare(st, _ref, _ctx):
        v = float(st["f"].subs(x, 2))
        return [Case({"x": 2}, v, value, tol_rel * value)]

    chk = checks.numeric("known tolerance", "montecarlo", compare, error_model="z·SE")
    return _Bare(id="X.98", title="t", paper_ref=PaperRef("X.98", "test"), statement={"f": x**2},
                      variables=[Variable(x, "x", "x > 0")], checks=[chk],
                      mutants=[Mutant("m", "x^3", replace={"f": x**3})])


@pytest.mark.parametrize("tol_rel", [0.004, 0.03])
def test_the_threshold_of_an_exact_claim_is_its_relative_tolerance(tol_rel):
    c = run_derivation(_derivation(tol_rel), Context())["checks"][0]
    assert c["detects_relative_error"] == pytest.approx(tol_rel, rel=0.03)


def test_the_threshold_covers_both_signs():
    # claim 4, reference 4.04, tolerance 0.08: +ε is rejected from 3 %, −ε from 1 %; both from 3 %
    def compare(st, _ref, _ctx):
        return [Case({}, float(st["f"].subs(x, 2)), 4.04, 0.08)]

    d = _derivation(0.0)
    d.checks[0].compare = compare
    c = run_derivation(d, Context())["checks"][0]
    assert c["detects_relative_error"] == pytest.approx(0.03, rel=0.03)


def test_a_check_blind_to_scale_states_an_absolute_threshold():
    def compare(st, _ref, _ctx):  # compares a difference that is 0 for any multiple of the claim
        f = st["f"]
        return [Case({}, float((f.subs(x, 2) - 4 * f.subs(x, 1))), 0.0, 1e-9)]

    d = _derivation(0.0)
    d.checks[0].compare = compare
    c = run_derivation(d, Context())["checks"][0]
    assert c["detects_relative_error"] is None and c["detects_absolute_error"] == pytest.approx(1e-9)


def test_the_agreement_record_gives_every_numeric_check_a_threshold():
    rec = run_derivation(discover()["eq.9"], Context(), mutants=False)
    numeric = [c for c in rec["checks"] if c["method"] != "symbolic"]
    assert numeric and all(c.get("detects_relative_error") or c.get("detects_absolute_error") for c in numeric)
    # a float64 dense solve sees relative errors far below a Monte Carlo check's
    assert all(c["detects_relative_error"] < 1e-6 for c in numeric)


def test_a_sign_check_records_no_relative_threshold_and_must_say_its_power():
    """A sign or ordering claim is not falsified by claim × (1 ± ε): its check opts out of the search
    (``relative_threshold=False``) and its ``detects`` sentence is then required."""
    d = _derivation(0.01)
    calls = []
    inner = d.checks[0].compare
    d.checks[0] = checks.numeric("signs", "montecarlo", lambda st, r, c: calls.append(1) or inner(st, r, c),
                                 detects="the sign of each difference, no size", relative_threshold=False)
    c = run_derivation(d, Context(), mutants=False)["checks"][0]
    assert c["verdict"] == "agree" and len(calls) == 1  # compared once: no bisection
    assert "detects_relative_error" not in c and "detects_absolute_error" not in c
    assert c["detects"] == "the sign of each difference, no size"
    with pytest.raises(Exception, match="detects"):
        checks.numeric("signs", "montecarlo", inner, relative_threshold=False)
