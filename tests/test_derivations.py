"""Every built-in derivation, as test items: one per check (the claim must agree) and one per mutant (some
check must reject it). New files in derivations/ are collected automatically; a folder given with
--derivations PATH is collected by the pytest plugin (lindiff_verify.verification.plugin)."""

from __future__ import annotations

import pytest

from lindiff_verify.verification.testing import derivation_items, derivation_record


def pytest_generate_tests(metafunc):
    cfg = metafunc.config
    if "check_item" in metafunc.fixturenames:
        items = derivation_items((), kind="check")
        metafunc.parametrize("check_item", items, ids=[f"{i.id}::{i.key}" for i in items])
    if "mutant_item" in metafunc.fixturenames:
        items = derivation_items((), kind="mutant")
        metafunc.parametrize("mutant_item", items, ids=[f"{i.id}::{i.key}" for i in items])


@pytest.fixture
def record_of(request):
    cfg = request.config
    return lambda did: derivation_record(did, (), seed=cfg.getoption("--seed"),
                                         fidelity=cfg.getoption("--fidelity"))


def test_check_agrees(check_item, record_of):
    rec = record_of(check_item.id)
    res = next(c for c in rec["checks"] if c["id"] == check_item.key)
    assert res["verdict"] == "agree", (
        f"{check_item.id} / {check_item.name}: {res['verdict']} — error {res.get('max_abs_error')} vs tolerance "
        f"{res.get('tolerance')}; worst case {res.get('worst_case')}; {res.get('error') or res.get('inconclusive_reason') or ''}"
    )


def test_mutant_is_rejected(mutant_item, record_of):
    rec = record_of(mutant_item.id)
    m = next(m for m in rec["mutants"] if m["id"] == mutant_item.key)
    assert m["killed"], f"{mutant_item.id}: mutant {m['name']!r} ({m['description']}) passed every check: {m['checks']}"


def test_check_has_power(check_item, record_of):
    """A check that rejects none of its derivation's mutants could not fail: it has no power."""
    rec = record_of(check_item.id)
    name = next(c["name"] for c in rec["checks"] if c["id"] == check_item.key)
    killed = [m["name"] for m in rec["mutants"] if name in m["killed_by"]]
    assert killed, f"{check_item.id} / {check_item.name} rejects none of the mutants {[m['name'] for m in rec['mutants']]}"
