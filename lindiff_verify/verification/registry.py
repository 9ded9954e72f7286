"""The derivation registry: each result of the paper is a data entry (Fungrim style).

A :class:`Derivation` holds the claim as SymPy expressions (``statement``), its variables with their
domains, assumptions, the kind of claim (exact / asymptotic / approximate) and its regime, the
independent :class:`Check` objects that test it, and the :class:`Mutant` wrong variants that those
checks must reject. The ``derivations/`` package (and any folder given with ``--derivations``) is walked
recursively: any module-level ``Derivation`` object (or list ``DERIVATIONS``) in a ``*.py`` file not
starting with ``_`` is registered; ``_*.py`` files are helpers, imported normally by the entries.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import sys
import traceback
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
    "derivation_files",
    "builtin_derivations_path",
    "display_module_name",
    "default_derivation_paths",
    "CLAIM_KINDS",
    "METHODS",
    "SECTIONS",
]

CLAIM_KINDS = ("exact", "asymptotic", "approximate")
#: Derivation.schedule when no noise schedule enters the statement or its checks.
NO_SCHEDULE = "none (no noise schedule enters: ᾱ_t or q_t are free variables of the statement)"
METHODS = ("symbolic", "mpmath", "recursion", "montecarlo", "numeric")
#: Paper sections used to group derivations in reports, in order.
SECTIONS = {
    "main": "Main text (§2–§4)",
    "B": "Appendix B — learning dynamics",
    "C": "Appendix C — sampling dynamics",
    "D": "Appendix D — replica theory at finite N",
    "V2": "Paper v2 (January 2026) — new claims",
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
    #: the noise schedule(s) its numbers use (model.schedules names; recorded in the JSON provenance);
    #: NO_SCHEDULE when no schedule enters (ᾱ_t or q_t are free variables of the statement)
    schedule: str = NO_SCHEDULE

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
        if self._d.get(d.id) is d:  # the same object reached twice (a file named twice): nothing new
            return
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


def builtin_derivations_path() -> Path | None:
    """The built-in derivations package: ``derivations/`` beside the package (source checkout, editable
    install) or ``lindiff_verify/builtin_derivations`` (wheel)."""
    here = Path(__file__).resolve().parents[1]  # the lindiff_verify package
    for cand in (here.parent / "derivations", here / "builtin_derivations"):
        if (cand / "__init__.py").is_file():
            return cand
    return None


def default_derivation_paths() -> list[Path]:
    """The built-in derivations plus any paths in $LINDIFF_VERIFY_DERIVATIONS (separated by os.pathsep)."""
    builtin = builtin_derivations_path()
    paths = [builtin] if builtin else []
    extra = os.environ.get("LINDIFF_VERIFY_DERIVATIONS", "")
    return paths + [Path(p) for p in extra.split(os.pathsep) if p]


#: Module name of the built-in derivations package, in a source checkout and in the wheel alike.
BUILTIN_PACKAGE = "lindiff_verify.builtin_derivations"
#: Prefix of the module names given to user derivation folders (``<prefix>.<folder>_<digest>.<file>``).
USER_PREFIX = "lindiff_verify._derivations"


def _is_helper(rel: Path) -> bool:
    """Files (or folders) whose name starts with ``_`` or ``.`` are helpers, not derivation files."""
    return any(part.startswith(("_", ".")) for part in rel.parts)


def derivation_files(path: Path) -> list[Path]:
    """The derivation files of a folder (recursively; helpers excluded) or the file itself."""
    if not path.exists():
        raise InputError("derivations path", f"{str(path)!r} does not exist", "an existing folder or .py file")
    if path.is_file():
        return [path]
    return sorted(f for f in path.rglob("*.py") if not _is_helper(f.relative_to(path)))


def _package_name(root: Path) -> str:
    builtin = builtin_derivations_path()
    if builtin is not None and root.resolve() == builtin.resolve():
        return BUILTIN_PACKAGE
    digest = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:10]
    stem = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in root.name) or "root"
    return f"{USER_PREFIX}.{stem}_{digest}"


def _package(root: Path):
    """Import folder ``root`` as a package (its ``__init__.py`` if any), so that the derivation files
    inside it import their helpers with ordinary relative imports."""
    name = _package_name(root)
    if name in sys.modules:
        return name
    init = root / "__init__.py"
    if init.is_file():
        spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(root)])
    else:
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(root)]
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        if spec.loader is not None:
            spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return name


def _package_root(file: Path) -> Path | None:
    """The outermost folder above ``file`` that is a regular package (an unbroken chain of __init__.py)."""
    root = None
    parent = file.parent
    while (parent / "__init__.py").is_file():
        root = parent
        if parent.parent == parent:
            break
        parent = parent.parent
    return root


def _load_module(path: Path, root: Path | None = None):
    """Import one derivation file as a submodule of the package ``root``: a folder given to discovery, else
    the package the file sits in, else the file's own folder (so that it may import its siblings)."""
    path = path.resolve()
    root = (root or _package_root(path) or path.parent).resolve()
    rel = path.relative_to(root).with_suffix("")
    return importlib.import_module(".".join((_package(root), *rel.parts)))


def display_module_name(modname: str) -> str:
    """A readable name for a derivation module: ``derivations.`` plus its path inside the folder it was
    loaded from (``derivations.main.eq09_residual_loss`` for the built-in eq.9, ``derivations.my_file``
    for ``my_file.py`` in a user folder or given alone)."""
    for prefix in (BUILTIN_PACKAGE, USER_PREFIX):
        if modname.startswith(prefix + "."):
            rest = modname[len(prefix) + 1:].split(".")
            return ".".join(("derivations", *(rest if prefix == BUILTIN_PACKAGE else rest[1:])))
    return modname


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


def discover(extra_paths: Sequence[str | os.PathLike] = (), *, include_builtin: bool = True,
             load_errors: list | None = None) -> Registry:
    """Load every derivation file in the built-in package and in ``extra_paths`` (folders, walked
    recursively, or single ``.py`` files).

    A file that fails to import raises, unless ``load_errors`` is a list: then the failure is appended to
    it as ``{"file", "error", "traceback"}`` and discovery goes on. Duplicate ids are always an InputError.
    """
    paths = (default_derivation_paths() if include_builtin else []) + [Path(p) for p in extra_paths]
    reg = Registry()
    folders = [p.resolve() for p in paths if p.is_dir()]
    for p in paths:
        # a file inside a folder also given loads as part of it (one module, not a duplicate)
        root = p if p.is_dir() else next((r for r in folders if p.resolve().is_relative_to(r)), None)
        for f in derivation_files(p):
            try:
                module = _load_module(f, root)
            except Exception as exc:
                if load_errors is None:
                    raise
                load_errors.append({"file": str(f), "error": f"{type(exc).__name__}: {exc}",
                                    "traceback": traceback.format_exc(limit=4)})
                continue
            for d in _derivations_in(module):
                if d.source is None:
                    d.source = str(f)
                reg.add(d)
    return reg
