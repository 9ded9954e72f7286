"""The derivation registry: each result of the paper is a data entry (Fungrim style).

A :class:`Derivation` holds the claim as SymPy expressions (``statement``), its variables with their
domains, assumptions, the kind of claim (exact / asymptotic / approximate) and its regime, the
independent :class:`Check` objects that test it, and the :class:`Mutant` wrong variants that those
checks must reject. Files in ``derivations/`` are discovered automatically: any module-level
``Derivation`` object (or list ``DERIVATIONS``) in a ``*.py`` file not starting with ``_`` is registered.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sympy

from .._meta import PAPER
from ..model.errors import InputError

__all__ = [
    "PaperRef",
    "Variable",
    "Case",
    "Outcome",
    "Check",
    "Mutant",
    "Figure",
    "Derivation",
    "Registry",
    "discover",
    "default_derivation_paths",
    "CLAIM_KINDS",
    "METHODS",
    "SECTIONS",
]

CLAIM_KINDS = ("exact", "asymptotic", "approximate")
METHODS = ("symbolic", "mpmath", "recursion", "montecarlo", "numeric")
#: Paper sections used to group derivations in reports, in order.
SECTIONS = {
    "main": "Main text (§2–§4)",
    "B": "Appendix B — learning dynamics",
    "C": "Appendix C — sampling dynamics",
    "D": "Appendix D — replica theory at finite N",
    "X": "Extensions beyond the paper",
}


@dataclass(frozen=True)
class PaperRef:
    """Where a result stands in the paper."""

    label: str  # the paper's label, e.g. "eq.8", "C.9"
    section: str  # e.g. "3.1", "Appendix C.3.1"
    arxiv: str = PAPER
    note: str = ""

    def __str__(self) -> str:
        s = f"{self.arxiv}, {self.section}, {self.label}"
        return s + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class Variable:
    """A symbol of the statement, what it means and its domain (stated; checks sample inside it)."""

    symbol: sympy.Symbol
    meaning: str
    domain: str


@dataclass
class Case:
    """One comparison: the claim's value against an independent reference, within a tolerance.

    ``tolerance`` is absolute. A non-finite ``value`` is a disagreement (a claim must not produce NaN).
    """

    params: dict
    value: Any
    reference: Any
    tolerance: float
    error: float | None = None  # set when the difference was computed at higher precision

    @property
    def abs_error(self) -> float:
        if self.error is not None:
            return float(self.error)
        try:
            return float(abs(complex(self.value) - complex(self.reference)))
        except (TypeError, ValueError, OverflowError):
            return float("nan")

    @property
    def rel_error(self) -> float:
        ref = abs(complex(self.reference))
        e = self.abs_error
        return e / ref if ref > 0 else (0.0 if e == 0 else float("inf"))

    @property
    def ok(self) -> bool:
        e = self.abs_error
        return e == e and e <= float(self.tolerance)  # NaN fails


@dataclass
class Outcome:
    """What a check's comparison returns: its cases, plus cases that could not be sampled.

    ``measurements`` carries extra numbers for the report (a fitted finite-size slope, a measured gap).
    ``inconclusive_reason`` makes the verdict inconclusive (e.g. the domain could not be sampled).
    """

    cases: list[Case] = field(default_factory=list)
    unsampled: int = 0
    measurements: dict = field(default_factory=dict)
    inconclusive_reason: str | None = None
    tolerance_model: str | None = None

    @property
    def verdict(self) -> str:
        if any(not c.ok for c in self.cases):
            return "disagree"
        if self.inconclusive_reason or not self.cases:
            return "inconclusive"
        return "agree"

    @property
    def worst(self) -> Case | None:
        bad = [c for c in self.cases if not c.ok]
        pool = bad or self.cases
        if not pool:
            return None

        def excess(c):
            e = c.abs_error
            return float("inf") if e != e else e / (float(c.tolerance) or 1e-300)

        return max(pool, key=excess)


@dataclass
class Check:
    """An independent test of a statement.

    ``reference(ctx)`` computes what does not depend on the claim (Monte Carlo draws, a high-precision
    integration, an exact recursion); it runs once per run and is shared by the claim and all mutants.
    ``compare(statement, ref, ctx)`` evaluates a statement (the claim or a mutant) against it and
    returns an :class:`Outcome` (or a list of :class:`Case`). ``error_model`` says what set the tolerance.
    """

    name: str
    method: str
    compare: Callable[[Mapping[str, sympy.Basic], Any, Any], Any]
    error_model: str
    reference: Callable[[Any], Any] | None = None
    description: str = ""
    #: Optional Hypothesis strategy over this check's parameter domain, and ``case(statement, params, ctx)``
    #: evaluating one case: when the check disagrees, the runner asks Hypothesis for the smallest failing case.
    strategy: Any = None
    case: Callable[[Mapping[str, sympy.Basic], Any, Any], Case] | None = None
    #: why this check cannot detect small relative errors of the claim (shown with its detection threshold)
    detection_note: str = ""

    def __post_init__(self):
        if self.method not in METHODS:
            raise InputError("method", f"is {self.method!r}", ", ".join(METHODS))


@dataclass
class Mutant:
    """A wrong variant of a statement: ``replace`` swaps entries of the statement dict, or
    ``transform`` maps the whole dict to the mutated one."""

    name: str
    description: str
    replace: Mapping[str, sympy.Basic] | None = None
    transform: Callable[[dict], dict] | None = None

    def apply(self, statement: Mapping[str, sympy.Basic]) -> dict:
        out = dict(statement)
        if self.replace:
            unknown = set(self.replace) - set(out)
            if unknown:
                raise KeyError(f"mutant {self.name!r} replaces unknown statement entries {sorted(unknown)}")
            out.update(self.replace)
        if self.transform:
            out = dict(self.transform(out))
        return out


@dataclass
class Figure:
    """A named figure function: ``make(ctx) -> matplotlib.figure.Figure`` (seeded through ``ctx``)."""

    name: str
    title: str
    make: Callable[[Any], Any]
    caption: str = ""


@dataclass
class Derivation:
    id: str
    title: str
    paper_ref: PaperRef
    statement: Mapping[str, sympy.Basic]
    variables: Sequence[Variable]
    checks: Sequence[Check]
    mutants: Sequence[Mutant]
    assumptions: Sequence[str] = ()
    claim_kind: str = "exact"
    regime: str = ""
    notes: str = ""
    figures: Sequence[Figure] = ()
    display: sympy.Basic | Sequence[sympy.Basic] | None = None
    section: str | None = None
    source: str | None = None  # file it was loaded from (set by discovery)

    def __post_init__(self):
        if self.claim_kind not in CLAIM_KINDS:
            raise InputError("claim_kind", f"is {self.claim_kind!r} in {self.id}", ", ".join(CLAIM_KINDS))
        if self.section is None:
            self.section = section_of(self.id)
        self.statement = dict(self.statement)

    def mutated(self, mutant: Mutant) -> dict:
        return mutant.apply(self.statement)

    def display_equations(self) -> list[sympy.Basic]:
        if self.display is None:
            return list(self.statement.values())
        if isinstance(self.display, sympy.Basic):
            return [self.display]
        return list(self.display)


def section_of(derivation_id: str) -> str:
    head = derivation_id.split(".")[0]
    if head in ("eq", "fig"):
        return "main"
    return head if head in SECTIONS else "X"


def _id_sort_key(did: str):
    sec = section_of(did)
    order = list(SECTIONS).index(sec)
    num = did.split(".", 1)[-1]
    parts = []
    for p in num.replace("-", ".").split("."):
        parts.append((0, int(p), "") if p.isdigit() else (1, 0, p))
    return (order, parts)


class Registry(Mapping):
    """Derivations by id, in paper order."""

    def __init__(self, derivations: Sequence[Derivation] = ()):
        self._d: dict[str, Derivation] = {}
        for d in derivations:
            self.add(d)

    def add(self, d: Derivation):
        if d.id in self._d:
            other = self._d[d.id].source
            raise InputError("derivation id", f"{d.id!r} is declared twice ({other} and {d.source})", "unique ids")
        self._d[d.id] = d

    def __getitem__(self, key):
        return self._d[key]

    def __iter__(self):
        return iter(sorted(self._d, key=_id_sort_key))

    def __len__(self):
        return len(self._d)

    def select(self, ids: Sequence[str] | None) -> list[Derivation]:
        if not ids:
            return [self._d[k] for k in self]
        unknown = [i for i in ids if i not in self._d]
        if unknown:
            raise InputError(
                "derivation id", f"{', '.join(map(repr, unknown))} not registered", "one of " + ", ".join(self)
            )
        seen, out = set(), []
        for i in ids:
            if i not in seen:
                seen.add(i)
                out.append(self._d[i])
        return out


def default_derivation_paths() -> list[Path]:
    """Built-in derivations: ``derivations/`` beside the package (source checkout / editable install),
    or the copy shipped inside the package; plus any paths in $LINDIFF_VERIFY_DERIVATIONS (os.pathsep)."""
    here = Path(__file__).resolve().parents[1]  # the lindiff_verify package
    paths = []
    for cand in (here.parent / "derivations", here / "builtin_derivations"):
        if cand.is_dir():
            paths.append(cand)
            break
    extra = os.environ.get("LINDIFF_VERIFY_DERIVATIONS", "")
    paths += [Path(p) for p in extra.split(os.pathsep) if p]
    return paths


def _load_module(path: Path):
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    modname = f"lindiff_verify._derivations.{path.stem}_{digest}"
    if modname in sys.modules:
        return sys.modules[modname]
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[modname]
        raise
    return module


def _derivations_in(module) -> list[Derivation]:
    found = []
    for name, obj in vars(module).items():
        if name.startswith("_"):
            continue
        if isinstance(obj, Derivation):
            found.append(obj)
        elif name == "DERIVATIONS":
            found.extend(o for o in obj if isinstance(o, Derivation))
    uniq, seen = [], set()
    for d in found:
        if id(d) not in seen:
            seen.add(id(d))
            uniq.append(d)
    return uniq


def discover(extra_paths: Sequence[str | os.PathLike] = (), *, include_builtin: bool = True) -> Registry:
    """Load every derivation file in the built-in folder and in ``extra_paths`` (folders or files)."""
    paths = (default_derivation_paths() if include_builtin else []) + [Path(p) for p in extra_paths]
    reg = Registry()
    for p in paths:
        if not p.exists():
            raise InputError("derivations path", f"{str(p)!r} does not exist", "an existing folder or .py file")
        files = [p] if p.is_file() else sorted(f for f in p.glob("*.py") if not f.name.startswith("_"))
        for f in files:
            module = _load_module(f)
            for d in _derivations_in(module):
                if d.source is None:
                    d.source = str(f)
                reg.add(d)
    return reg
