"""Machine-readable domains (as Fungrim declares them) and the Hypothesis strategies inferred from them.

A domain is a SymPy set — ``sp.Interval.open(0, 1)``, ``sp.Range(1, 13)``, ``sp.Naturals0``,
``sp.FiniteSet(0, 1)``, ``sp.S.Reals`` — or a relation in the variable's symbol (``sp.Gt(x, 0)``,
``sp.And(0 < x, x < 1)``), turned into a set with ``as_set``. :func:`describe` writes it the way a paper
does ("0 < ᾱ < 1", "d ∈ {1, …, 12}"); :func:`strategy` infers a Hypothesis strategy drawing inside it.

Hypothesis is optional at run time: :func:`strategy` returns None when it is not installed (the runner
then skips shrinking), so a derivation never needs a test-only package to be imported or run.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping

import sympy as sp

__all__ = ["as_set", "describe", "strategy", "hypothesis_available", "is_machine_readable"]


def hypothesis_available() -> bool:
    return importlib.util.find_spec("hypothesis") is not None


def is_machine_readable(domain) -> bool:
    return isinstance(domain, (sp.Set, sp.logic.boolalg.Boolean)) and not isinstance(domain, sp.logic.boolalg.BooleanAtom)


def as_set(domain, symbol: sp.Symbol | None = None) -> sp.Set:
    """The SymPy set of a domain given as a set or as a relation in ``symbol``."""
    if isinstance(domain, sp.Set):
        return domain
    if isinstance(domain, sp.logic.boolalg.Boolean):
        syms = [symbol] if symbol is not None else sorted(domain.free_symbols, key=str)
        if len(syms) != 1:
            raise ValueError(f"a relational domain must be in one symbol, got {domain}")
        # sympy's solver needs a plain (assumption-free) real symbol to turn a relation into a set
        plain = sp.Symbol(syms[0].name, real=True)
        return domain.xreplace({syms[0]: plain}).as_set()
    raise TypeError(f"not a machine-readable domain: {domain!r} (a SymPy set or relation)")


def _pretty(x) -> str:
    """One line: a symbol's unicode name (α̅, σ₁), other expressions as SymPy writes them (1/N, d)."""
    if isinstance(x, sp.Symbol):
        return sp.pretty(x, use_unicode=True)
    if isinstance(x, sp.FiniteSet):
        return "{" + ", ".join(_pretty(a) for a in sorted(x.args, key=sp.default_sort_key)) + "}"
    if x == sp.S.Infinity:
        return "∞"
    return sp.sstr(x)


def describe(domain, symbol: sp.Symbol | None = None) -> str:
    """A domain as text: "0 < ᾱ < 1", "λ ≥ 0", "d ∈ {1, …, 12}", "x ∈ ℝ" (str of a legacy text domain)."""
    if isinstance(domain, str):
        return domain
    name = _pretty(symbol) if symbol is not None else "x"
    s = as_set(domain, symbol)
    if isinstance(s, sp.Interval):
        lo, hi = s.start, s.end
        if lo == sp.S.NegativeInfinity and hi == sp.S.Infinity:
            return f"{name} ∈ ℝ"
        if lo == sp.S.NegativeInfinity:
            return f"{name} {'<' if s.right_open else '≤'} {_pretty(hi)}"
        if hi == sp.S.Infinity:
            return f"{name} {'>' if s.left_open else '≥'} {_pretty(lo)}"
        return f"{_pretty(lo)} {'<' if s.left_open else '≤'} {name} {'<' if s.right_open else '≤'} {_pretty(hi)}"
    if isinstance(s, sp.Range):
        if s.size == sp.S.Infinity:
            return f"{name} ∈ {{{s.inf}, {s.inf + s.step}, …}}"
        return f"{name} ∈ {{{s.inf}, …, {s.sup}}}" if s.size > 3 else f"{name} ∈ {{{', '.join(map(str, s))}}}"
    named = {sp.S.Naturals0: "ℕ₀", sp.S.Naturals: "ℕ", sp.S.Integers: "ℤ", sp.S.Reals: "ℝ", sp.S.Complexes: "ℂ"}
    if s in named:
        return f"{name} ∈ {named[s]}"
    if isinstance(s, sp.Complement) and s.args[0] == sp.S.Complexes and isinstance(s.args[1], sp.Interval):
        i = s.args[1]
        return f"{name} ∈ ℂ \\ {'(' if i.left_open else '['}{_pretty(i.start)}, {_pretty(i.end)}{')' if i.right_open else ']'}"
    return f"{name} ∈ {_pretty(s) if isinstance(s, sp.FiniteSet) else sp.sstr(s)}"


def _float(x) -> float | None:
    return None if x in (sp.S.Infinity, sp.S.NegativeInfinity) else float(x)


def strategy(domain, symbol: sp.Symbol | None = None):
    """A Hypothesis strategy drawing inside ``domain`` (a set, a relation, or a mapping name → domain, which
    gives a dictionary strategy); None when Hypothesis is not installed or the set has no inferred strategy."""
    if not hypothesis_available():
        return None
    from hypothesis import strategies as st

    if isinstance(domain, Mapping):
        parts = {k: strategy(v) for k, v in domain.items()}
        return None if any(p is None for p in parts.values()) else st.fixed_dictionaries(parts)
    s = as_set(domain, symbol)
    if isinstance(s, sp.Range):
        if s.size == sp.S.Infinity:
            return st.integers(min_value=int(s.inf)) if s.step > 0 else None
        if abs(s.step) == 1:
            return st.integers(int(s.inf), int(s.sup))
        return st.sampled_from([int(v) for v in s])
    if s in (sp.S.Naturals0, sp.S.Naturals, sp.S.Integers):
        return st.integers(min_value={sp.S.Naturals0: 0, sp.S.Naturals: 1}.get(s))
    if isinstance(s, sp.Interval):
        return st.floats(min_value=_float(s.start), max_value=_float(s.end), exclude_min=bool(s.left_open)
                         and s.start.is_finite, exclude_max=bool(s.right_open) and s.end.is_finite,
                         allow_nan=False, allow_infinity=False)
    if isinstance(s, sp.FiniteSet):
        return st.sampled_from([int(v) if v.is_integer else float(v) for v in s])
    if isinstance(s, sp.Union):
        parts = [strategy(a) for a in s.args]
        return None if any(p is None for p in parts) else st.one_of(parts)
    return None
