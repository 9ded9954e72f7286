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
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sympy

from .._meta import PAPER
from ..model.errors import InputError
from . import domains
from .tolerance import Tolerance

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
    "load_error",
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
    """A symbol of the statement, what it means and its domain: a SymPy set or relation (machine-readable,
    see :mod:`~lindiff_verify.verification.domains`; a text domain is accepted for shapes SymPy has no set
    for, e.g. "C ⪰ 0")."""

    symbol: sympy.Symbol
    meaning: str
    domain: Any

    @property
    def domain_text(self) -> str:
        return domains.describe(self.domain, self.symbol)


@dataclass
class Case:
    """One comparison: the claim's value against an independent reference, within a tolerance.

    ``tolerance`` is a :class:`~lindiff_verify.verification.tolerance.Tolerance` (absolute; a bare number is
    accepted and wrapped as a bound named by the check's error model). A non-finite ``value`` is a
    disagreement (a claim must not produce NaN).
    """

    params: dict
    value: Any
    reference: Any
    tolerance: Tolerance
    error: float | None = None  # set when the difference was computed at higher precision
    #: the part of ``tolerance`` that bounds a known deterministic bias (neglected terms, discretisation);
    #: the rest is the statistical / rounding allowance. Shown apart in the report.
    bias_bound: float | None = None

    def __post_init__(self):
        if not isinstance(self.tolerance, Tolerance):
            self.tolerance = Tolerance(float(self.tolerance))

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
    def bias(self) -> float | None:
        """The part of the tolerance that bounds a known deterministic bias (None: none stated)."""
        if self.bias_bound is not None:
            return float(self.bias_bound)
        b = self.tolerance.bias
        return float(np.max(b)) if np.any(np.asarray(b) != 0) else None

    @property
    def error_ratio(self) -> float:
        """|Δ|/tolerance (∞ for a non-zero error at tolerance 0 or a NaN error)."""
        e, t = self.abs_error, float(self.tolerance)
        if e != e:
            return float("inf")
        return e / t if t > 0 else (0.0 if e == 0 else float("inf"))

    @property
    def ok(self) -> bool:
        e = self.abs_error
        return e == e and e <= float(self.tolerance)  # NaN fails


class Outcome:
    """What a check's comparison returns: its cases, plus cases that could not be sampled.

    Statistical tolerances are corrected here for the family of comparisons: :attr:`judged` holds the cases
    with a Bonferroni correction over this outcome's statistical cases (the verdict reads those).
    ``measurements`` carries extra numbers for the report (a fitted finite-size slope, a measured gap).
    ``inconclusive_reason`` makes the verdict inconclusive (e.g. the domain could not be sampled).
    :attr:`tolerance_model` is derived from the cases' tolerances; a sentence assigned to it names only the
    cases given bare numbers as tolerances (prefer a :mod:`~lindiff_verify.verification.tolerance` helper).
    """

    def __init__(self, cases: Sequence[Case] | None = None, unsampled: int = 0, measurements: dict | None = None,
                 inconclusive_reason: str | None = None, tolerance_model: str | None = None):
        self.cases: list[Case] = list(cases or [])
        self.unsampled = unsampled
        self.measurements: dict = dict(measurements or {})
        self.inconclusive_reason = inconclusive_reason
        self._stated_model = tolerance_model

    def __repr__(self) -> str:
        return f"Outcome({len(self.cases)} cases, verdict={self.verdict!r})"

    @property
    def family(self) -> int:
        """Number of statistical comparisons sharing the false-alarm rate."""
        return sum(c.tolerance.statistical for c in self.cases)

    @property
    def judged(self) -> list[Case]:
        n = self.family
        if not n:
            return list(self.cases)
        return [dataclasses.replace(c, tolerance=c.tolerance.for_family(n)) if c.tolerance.statistical else c
                for c in self.cases]

    @property
    def tolerance_model(self) -> str | None:
        models = [c.tolerance.model or self._stated_model for c in self.judged]
        models = list(dict.fromkeys(m for m in models if m))
        return "; ".join(models) if models else self._stated_model

    @tolerance_model.setter
    def tolerance_model(self, text: str | None):
        self._stated_model = text

    @property
    def verdict(self) -> str:
        cases = self.judged
        if any(not c.ok for c in cases):
            return "disagree"
        if self.inconclusive_reason or not cases:
            return "inconclusive"
        return "agree"

    @property
    def worst(self) -> Case | None:
        cases = self.judged
        bad = [c for c in cases if not c.ok]
        pool = bad or cases
        if not pool:
            return None

        def excess(c):  # a zero tolerance ranks cases by their error
            e = c.abs_error
            return float("inf") if e != e else e / (float(c.tolerance) or 1e-300)

        return max(pool, key=excess)


@dataclass
class Check:
    """An independent test of a statement.

    ``reference(ctx)`` computes what does not depend on the claim (Monte Carlo draws, a high-precision
    integration, an exact recursion); it runs once per run and is shared by the claim and all mutants.
    ``compare(statement, ref, ctx)`` evaluates a statement (the claim or a mutant) against it and
    returns an :class:`Outcome` (or a list of :class:`Case`). ``error_model`` says what set the tolerance
    when the cases' tolerances do not say it all (None: the record shows the cases' tolerance models).
    ``id`` is the check's stable identifier: its random streams (``ctx.rng`` names are scoped by it), test
    ids and record keys. It defaults to the name the check was first declared with; when the title changes,
    set ``id`` to the old name and the numbers stay the same.
    """

    name: str
    method: str
    compare: Callable[[Mapping[str, sympy.Basic], Any, Any], Any]
    error_model: str | None = None
    reference: Callable[[Any], Any] | None = None
    description: str = ""
    #: Optional Hypothesis strategy over this check's parameter domain, and ``case(statement, params, ctx)``
    #: evaluating one case: when the check disagrees, the runner asks Hypothesis for the smallest failing case.
    strategy: Any = None
    case: Callable[[Mapping[str, sympy.Basic], Any, Any], Case] | None = None
    id: str | None = None
    #: the parameter domain of ``case`` (name → SymPy set or relation); the strategy is inferred from it
    domain: Mapping[str, Any] | None = None

    def shrinking_strategy(self):
        """The Hypothesis strategy for shrinking a disagreement (None without ``case``, or without Hypothesis)."""
        if self.case is None:
            return None
        if self.strategy is not None:
            return self.strategy
        return domains.strategy(self.domain) if self.domain else None  # None without Hypothesis
    #: what this check can and cannot detect (e.g. "an error larger than the bias bound, not a smaller one")
    detects: str = ""
    #: False for a check of a sign or an ordering: claim × (1 ± ε) is no error of such a claim, so no relative
    #: detection threshold is measured; ``detects`` must then say what the check's power is against
    relative_threshold: bool = True

    def __post_init__(self):
        if self.method not in METHODS:
            raise InputError("method", f"is {self.method!r}", ", ".join(METHODS))
        if not self.relative_threshold and not self.detects.strip():
            raise InputError("detects", "is empty for a check without a relative threshold",
                             "a sentence saying what the check can detect")


@dataclass
class Mutant:
    """A wrong variant of a statement: ``replace`` swaps entries of the statement dict, or
    ``transform`` maps the whole dict to the mutated one."""

    name: str
    description: str
    replace: Mapping[str, sympy.Basic] | None = None
    transform: Callable[[dict], dict] | None = None
    id: str | None = None  # stable identifier; defaults to the name it was declared with

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
    """One result of the paper (or one of ours, id ``X.*``) as a data entry, with the checks that test it.

    How to write one (a file in ``derivations/<section>/`` or in a folder given with ``--derivations``)::

        x = sp.Symbol("x", positive=True)
        square = Derivation(
            id="X.9", title="Binomial square", paper_ref=PaperRef("X.9", "our extension"),
            statement={"square": (1 + x) ** 2},                 # the claim: named SymPy expressions
            lhs={"square": sp.Symbol("f(x)")},                  # what each entry is claimed to equal: display f(x) = (1 + x)²
            variables=[Variable(x, "a positive number", sp.Interval.open(0, sp.oo))],
            checks=[checks.symbolic(...), checks.numeric(...)],  # ≥ 2 independent checks
            mutants=[Mutant("no cross term", "x² + 1", replace={"square": x**2 + 1}), ...],  # ≥ 2 wrong variants
            claim_kind="exact")                                 # or "asymptotic" / "approximate" (+ ``regime``)

    Fields:

    * ``id`` — the paper's label ("eq.9", "C.9", "D.21"), or ``X.<n>`` for results not in the paper; it equals
      ``paper_ref.label``. ``paper_ref`` — :class:`PaperRef` (label, section, and a ``note`` such as
      "reconstructed in docs/mathematics.md §D").
    * ``statement`` — name → SymPy expression, exact (rationals, no ``sympy.Float``: a Float caps every
      high-precision evaluation at 15 digits). Checks read it; mutants replace entries of it.
    * ``lhs`` — name → the left-hand side each entry equals, so the report shows an equation
      ``lhs = statement[name]`` (default: the entry's name); or ``display(statement) -> [sp.Eq(...), ...]``
      for a presentation built from the statement (a sum written out, a symbol expanded). Never type the
      formula a second time.
    * ``variables`` — :class:`Variable` (symbol, meaning, domain); the domain is a SymPy set or relation
      (``sp.Interval.open(0, 1)``, ``sp.Range(1, 13)``, ``sp.Ge(x, 0)``), from which the report writes
      "0 < ᾱ < 1" and Hypothesis strategies are inferred (:mod:`~lindiff_verify.verification.domains`).
    * ``checks`` — at least two independent :class:`Check` (see :mod:`~lindiff_verify.verification.checks`):
      ``checks.symbolic`` (residuals that must vanish identically) and ``checks.numeric`` (claim against an
      independent reference, each :class:`Case` with a :mod:`~lindiff_verify.verification.tolerance`
      Tolerance: ``tolerance.monte_carlo(se)``, ``precision(ctx.dps, scale)``, ``float64(scale)``, ...;
      the Outcome applies the Bonferroni correction itself). Random draws come from ``ctx.rng(name)``,
      sizes from ``ctx.pick(quick=..., full=...)``; ``{dps}`` / ``{fidelity}`` in a check's name or
      description are filled in from the run context.
    * ``mutants`` — at least two :class:`Mutant` wrong variants; at run time every check must reject at
      least one of them (a check that cannot fail is inconclusive), and every mutant must be rejected.
    * ``claim_kind`` — exact / asymptotic / approximate, with ``regime`` saying where it holds; ``notes``,
      ``assumptions``, ``figures`` (:class:`Figure`) are shown on the report card.

    Rules checked when the entry is created (``InputError`` naming the rule): ≥ 2 checks, ≥ 2 mutants, a
    paper reference (label and section), declared variables, unique check and mutant names and ids, no
    sympy Float in the statement, its mutants or its display. (Displays built from ``lhs`` or from the
    statement are equations; a hand-typed ``display`` is accepted as given.)
    """

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
    display: Callable[[Mapping[str, sympy.Basic]], Sequence[sympy.Basic]] | sympy.Basic | Sequence[sympy.Basic] | None = None
    section: str | None = None
    source: str | None = None  # file it was loaded from (set by discovery)
    #: the noise schedule(s) its numbers use (model.schedules names; recorded in the JSON provenance);
    #: NO_SCHEDULE when no schedule enters (ᾱ_t or q_t are free variables of the statement)
    schedule: str = NO_SCHEDULE
    lhs: Mapping[str, sympy.Basic] | None = None

    def __post_init__(self):
        if self.claim_kind not in CLAIM_KINDS:
            raise InputError("claim_kind", f"is {self.claim_kind!r} in {self.id}", ", ".join(CLAIM_KINDS))
        if self.section is None:
            self.section = section_of(self.id)
        self.statement = dict(self.statement)
        self.checks, self.mutants = list(self.checks), list(self.mutants)
        for x in (*self.checks, *self.mutants):
            if x.id is None:
                x.id = x.name  # the title it was declared with; keep the id when the title changes
        self.validate()

    # -- the registry's rules ---------------------------------------------------------------------------
    def _rule(self, what: str, problem: str, allowed: str):
        raise InputError(what, f"{problem} in {self.id}", allowed)

    def validate(self) -> None:
        """The rules every entry obeys (raised as InputError when the entry is created)."""
        if not isinstance(self.paper_ref, PaperRef):
            self._rule("paper_ref", f"is {self.paper_ref!r}", "a PaperRef(label, section)")
        if not self.paper_ref.label or not self.paper_ref.section:
            self._rule("paper_ref", f"is {str(self.paper_ref)!r}", "the paper's label and section")
        if len(self.checks) < 2:
            self._rule("checks", f"has {len(self.checks)} check(s)", "at least 2 independent checks")
        if len(self.mutants) < 2:
            self._rule("mutants", f"has {len(self.mutants)} mutant(s)", "at least 2 wrong variants")
        if not self.variables:
            self._rule("variables", "are not declared", "the statement's symbols with their domains")
        for kind, items in (("check", self.checks), ("mutant", self.mutants)):
            for attr in ("id", "name"):
                vals = [getattr(x, attr) for x in items]
                dup = sorted({v for v in vals if vals.count(v) > 1})
                if dup:
                    self._rule(f"{kind} {attr}", f"{', '.join(map(repr, dup))} repeated", f"unique {kind} {attr}s")
        statements = {"the statement": self.statement}
        for m in self.mutants:
            try:
                statements[f"mutant {m.name!r}"] = self.mutated(m)
            except Exception as exc:  # noqa: BLE001 — a mutant that cannot be applied is a broken entry
                self._rule(f"mutant {m.name!r}", f"cannot be applied ({type(exc).__name__}: {exc})",
                           "replace/transform of existing statement entries")
        for where, st in statements.items():
            for key, expr in st.items():
                if isinstance(expr, sympy.Basic) and expr.has(sympy.Float):
                    self._rule("statement", f"{where}, entry {key!r}, contains a sympy Float",
                               "exact numbers (sympy.Rational, sympy.Integer)")
        if self.lhs is not None:
            unknown = sorted(set(self.lhs) - set(self.statement))
            if unknown:
                self._rule("lhs", f"names unknown statement entries {unknown}", ", ".join(self.statement))
        for eq in self.display_equations():
            if isinstance(eq, sympy.Basic) and eq.has(sympy.Float):
                self._rule("display", f"{eq} contains a sympy Float", "exact numbers")

    def check_power(self, killed_by: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
        """The run-time rule: ``{check id: ids of the mutants it rejected}`` from ``killed_by`` (mutant id →
        ids of the checks that rejected it); a check with an empty list has no demonstrated power."""
        return {c.id: [m for m, ks in killed_by.items() if c.id in ks] for c in self.checks}

    #: why a check that rejects no mutant is not evidence (the run-time rule's verdict)
    POWERLESS = "rejects none of the mutants: a check that cannot fail is no evidence"

    def _repr_html_(self):
        """In a notebook: the derivation's report card (rendered by the report layer, see HTML_CARD)."""
        return HTML_CARD(self) if HTML_CARD is not None else None

    def mutated(self, mutant: Mutant) -> dict:
        return mutant.apply(self.statement)

    def display_equations(self, statement: Mapping[str, sympy.Basic] | None = None) -> list[sympy.Basic]:
        """The displayed equations, built from ``statement`` (default: the claim)."""
        st = self.statement if statement is None else statement
        if callable(self.display):
            return list(self.display(st))
        if self.display is not None:  # typed display (prefer lhs= or a function of the statement)
            return [self.display] if isinstance(self.display, sympy.Basic) else list(self.display)
        lhs = self.lhs or {k: sympy.Symbol(k) for k in st}  # default: the entry's name is its left-hand side
        return [sympy.Eq(lhs[k], st[k], evaluate=False) for k in lhs]


#: renders a Derivation as HTML (a notebook's rich display); set by ``lindiff_verify.report.notebook``, which
#: the package loads when IPython is running or the report layer is imported
HTML_CARD: Callable[["Derivation"], str] | None = None


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

    #: the paper order of ids: section, then the numeric parts (eq.2 < eq.13 < eq.13.a < eq.14)
    sort_key = staticmethod(_id_sort_key)

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


def load_error(path, exc: BaseException) -> InputError:
    """One line naming a derivation file that failed to import and why (syntax error with its line, the
    exception raised at import time, or a Derivation that failed validation)."""
    if isinstance(exc, SyntaxError):
        where = f"line {exc.lineno}: " if exc.lineno else ""
        why = f"{where}SyntaxError: {exc.msg}"
    elif isinstance(exc, InputError):
        why = str(exc)
    else:
        why = f"{type(exc).__name__} at import: {exc}"
    return InputError("derivations file", f"{path}: {why}", "a Python file that imports cleanly")


def discover(extra_paths: Sequence[str | os.PathLike] = (), *, include_builtin: bool = True,
             load_errors: list | None = None) -> Registry:
    """Load every derivation file in the built-in package and in ``extra_paths`` (folders, walked
    recursively, or single ``.py`` files).

    A file that fails to import is an InputError naming the file and the problem (:func:`load_error`),
    unless ``load_errors`` is a list: then the failure is appended to it as ``{"file", "error",
    "traceback"}`` and discovery goes on. Duplicate ids are always an InputError.
    """
    paths = (default_derivation_paths() if include_builtin else []) + [Path(p) for p in extra_paths]
    reg = Registry()
    folders = [p.resolve() for p in paths if p.is_dir()]
    for p in paths:
        if p.is_file() and p.suffix != ".py":
            raise InputError("derivations path", f"{str(p)!r} is not a .py file", "a folder or a .py file")
        # a file inside a folder also given loads as part of it (one module, not a duplicate)
        root = p if p.is_dir() else next((r for r in folders if p.resolve().is_relative_to(r)), None)
        for f in derivation_files(p):
            try:
                module = _load_module(f, root)
            except (Exception, SystemExit) as exc:
                if load_errors is None:
                    raise load_error(f, exc) from exc
                load_errors.append({"file": str(f), "error": f"{type(exc).__name__}: {exc}",
                                    "traceback": traceback.format_exc(limit=4)})
                continue
            for d in _derivations_in(module):
                if d.source is None:
                    d.source = str(f)
                reg.add(d)
    return reg
