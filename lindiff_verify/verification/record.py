"""The agreement record: what a run found, as JSON-ready dicts (schema ``lindiff-verify/agreement/1``).

One typed definition shared by the runner (which builds it), the report (page and ``agreement.json``), its
template and the CLI table. :func:`jsonable` is the one JSON sanitiser (non-finite floats become the
strings ``"inf"``, ``"-inf"``, ``"nan"``, so the file is strict JSON).
"""

from __future__ import annotations

import math
from typing import Any, TypedDict

import mpmath
import numpy as np

__all__ = ["SCHEMA", "CaseRecord", "CheckRecord", "MutantRecord", "DerivationRecord", "Summary", "AgreementRecord",
           "finite", "jsonable"]

SCHEMA = "lindiff-verify/agreement/1"


class CaseRecord(TypedDict, total=False):
    """One comparison (the worst case of a check, or the minimal failing case found by shrinking)."""

    params: dict
    value: Any
    reference: Any
    abs_error: float | str
    tolerance: float | str


class CheckRecord(TypedDict, total=False):
    """A check's result on the claim."""

    id: str  # stable identifier (registry.Check.id)
    name: str  # its title
    method: str
    error_model: str | None
    description: str
    verdict: str  # agree / disagree / inconclusive / error
    cases: int
    failed_cases: int
    unsampled: int
    max_abs_error: float | str | None
    max_rel_error: float | str | None
    tolerance: float | str | None  # of the worst case
    max_error_ratio: float | str | None
    worst_case: CaseRecord | None
    measurements: dict
    inconclusive_reason: str | None
    tolerance_model: str | None
    minimal_failing_case: CaseRecord | dict | None
    error: str
    traceback: str
    seconds: float
    seeds: list[dict]
    detects_relative_error: float | None  # smallest relative error of the claim rejected (runner.detection_threshold)
    detects_absolute_error: float | str | None  # when no relative error ≤ 100 % is rejected


class MutantRecord(TypedDict, total=False):
    id: str
    name: str
    description: str
    killed: bool
    killed_by: list[str]  # names of the checks that rejected it
    checks: dict[str, dict]  # check name → {verdict, max_abs_error, max_rel_error, error}
    error: str


class DerivationRecord(TypedDict, total=False):
    id: str
    title: str
    paper_ref: str
    section: str
    claim_kind: str
    regime: str
    assumptions: list[str]
    variables: list[dict]
    statement: dict[str, str]
    notes: str
    source: str | None
    verdict: str
    checks: list[CheckRecord]
    mutants: list[MutantRecord]
    seconds: float
    error: str
    traceback: str
    # added by the report
    figures: list[dict]
    statement_latex: list[str | None]


class Summary(TypedDict, total=False):
    derivations: int
    agree: int
    disagree: int
    inconclusive: int
    error: int
    mutants: int
    mutants_killed: int
    checks: int
    figures: int  # report only
    figure_errors: int  # report only
    detection: dict  # distribution of detection thresholds, weakest checks first


class AgreementRecord(TypedDict):
    schema: str
    provenance: dict
    derivations: list[DerivationRecord]
    summary: Summary


def finite(x) -> float | str | None:
    """JSON-safe float (inf/nan become strings)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else str(x)


def jsonable(v):
    """A JSON-ready copy of ``v``: NumPy and mpmath numbers as floats, complex as {re, im}, arrays as lists,
    non-finite floats as strings, anything else unknown as its ``str``."""
    if isinstance(v, bool) or v is None or isinstance(v, (str, int)):
        return v
    if isinstance(v, (np.floating, np.integer)):
        return jsonable(v.item())
    if isinstance(v, float):
        return finite(v)
    if isinstance(v, complex):
        return {"re": finite(v.real), "im": finite(v.imag)}
    if isinstance(v, (list, tuple)):
        return [jsonable(u) for u in v]
    if isinstance(v, np.ndarray):
        return [jsonable(u) for u in v.tolist()]
    if isinstance(v, dict):
        return {str(k): jsonable(u) for k, u in v.items()}
    if isinstance(v, mpmath.mpf):
        return finite(float(v))
    return str(v)
