"""Mutation-run entry point (outside ``testpaths``: not part of the default suite).

The default suite's derivation items share one cached record per derivation, so a coverage-based test
selection (mutmut records which tests call each function) would credit only the first item of each
derivation. Here each derivation is one item that runs it afresh and asserts all of it: every check
agrees and every declared mutant is rejected.
"""

from __future__ import annotations

import pytest

from lindiff_verify.verification.context import Context
from lindiff_verify.verification.registry import discover
from lindiff_verify.verification.runner import run_derivation

_REG = discover()


@pytest.mark.parametrize("did", list(_REG))
def test_derivation_agrees_and_rejects_its_mutants(did):
    rec = run_derivation(_REG[did], Context(seed=0, fidelity="quick"), thresholds=False)
    failing = {c["name"]: c["verdict"] for c in rec["checks"] if c["verdict"] != "agree"}
    alive = [m["name"] for m in rec["mutants"] if not m["killed"]]
    assert not failing and not alive, f"{did}: checks not agreeing {failing}; mutants alive {alive}"
