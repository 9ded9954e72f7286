"""The authors' setting is recorded: every derivation names its schedule; new sections and ids are registered."""

from lindiff_verify.model import schedules
from lindiff_verify.verification.context import Context
from lindiff_verify.verification.registry import NO_SCHEDULE, SECTIONS, discover, section_of
from lindiff_verify.verification.runner import run

REGISTRY = discover()


def test_every_derivation_names_a_schedule():
    for d in REGISTRY.values():
        assert d.schedule == NO_SCHEDULE or any(n in d.schedule for n in ("merger_goldt", "linear", "VP", "constant")), d.id


def test_numbers_labelled_as_the_papers_use_the_authors_schedule():
    for did in ("V2.1", "X.3", "eq.9", "eq.10", "B.1", "C.9", "eq.13"):
        assert schedules.PAPER_SCHEDULE in REGISTRY[did].schedule, did


def test_the_json_provenance_names_each_derivations_schedule():
    res = run([REGISTRY["eq.9"]], Context(), mutants=False)
    assert res["provenance"]["schedules"] == {"eq.9": REGISTRY["eq.9"].schedule}
    assert res["derivations"][0]["schedule"] == REGISTRY["eq.9"].schedule


def test_v2_claims_have_their_own_section_and_ours_are_x():
    assert section_of("V2.1") == "V2" and "V2" in SECTIONS
    for did in ("X.2", "X.3"):
        assert did in REGISTRY and section_of(did) == "X"
    assert set(REGISTRY["D.21"].statement) == {"zeta0"}  # F, G moved to X.2 (ours)
