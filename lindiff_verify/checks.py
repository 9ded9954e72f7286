"""Reusable check kinds, each with its error model.

* :func:`symbolic` — SymPy: residual expressions built from the statement simplify to zero. A residual
  that does not simplify is also evaluated at random rational points so the report can show its size.
* :func:`numeric` — any claim-vs-reference comparison whose cases carry their own tolerances
  (mpmath at high precision, exact recursions, Monte Carlo). Use the :mod:`tolerance` helpers.
* :func:`lambdify` / :func:`mp_lambdify` — evaluate statement entries in float64/array code or in mpmath.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction

import mpmath
import sympy

from .registry import Case, Check, Outcome

__all__ = ["symbolic", "numeric", "lambdify", "mp_lambdify", "residual_size", "as_outcome", "rationals", "mp_case"]


def lambdify(args: Sequence[sympy.Symbol], expr, modules="numpy"):
    """Float/array evaluation of a statement entry (vectorised over NumPy arrays)."""
    return sympy.lambdify(args, expr, modules=modules)


def mp_lambdify(args: Sequence[sympy.Symbol], expr):
    """mpmath evaluation at the working precision (pass mpf/mpc arguments)."""
    return sympy.lambdify(args, expr, modules="mpmath")


def rationals(rng: random.Random, n: int, lo: Fraction = Fraction(1, 7), hi: Fraction = Fraction(13, 3)):
    """n exact rationals in [lo, hi] (for exact residual evaluation)."""
    return [lo + (hi - lo) * Fraction(rng.randint(1, 997), 997) for _ in range(n)]


def residual_size(expr: sympy.Basic, points: int = 4, seed: int = 0) -> float:
    """max |expr| at random positive rational points (exact substitution, then 30-digit evaluation)."""
    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    rng = random.Random(seed)
    worst = 0.0
    for _ in range(points):
        vals = {s: sympy.Rational(*_frac(q)) for s, q in zip(syms, rationals(rng, len(syms)), strict=True)}
        try:
            v = complex(sympy.N(expr.xreplace(vals), 30))
        except (TypeError, ValueError, ZeroDivisionError):
            return float("inf")
        worst = max(worst, abs(v))
    return worst


def _frac(q: Fraction):
    return (q.numerator, q.denominator)


def symbolic(
    name: str,
    residuals: Callable[[Mapping[str, sympy.Basic]], Mapping[str, sympy.Basic]],
    *,
    description: str = "",
    simplify: Callable[[sympy.Basic], sympy.Basic] | None = None,
) -> Check:
    """A check that each residual built from the statement simplifies to exactly 0.

    Error model: exact algebra — the tolerance is 0; a residual that SymPy cannot reduce to 0 is a
    disagreement and its size at random rational points is reported (0 there would mean SymPy merely
    failed to prove an identity; such a case is flagged inconclusive instead).
    """
    simp = simplify or (lambda e: sympy.simplify(sympy.together(sympy.expand(e))))

    def compare(statement, _ref, ctx):
        out = Outcome(tolerance_model="exact algebra (tolerance 0)")
        for label, res in residuals(statement).items():
            r = simp(res)
            if r == 0:
                out.cases.append(Case({"residual": label}, 0.0, 0.0, 0.0))
                continue
            size = residual_size(r, seed=ctx.seed)
            if size == 0.0:
                out.inconclusive_reason = f"SymPy could not simplify residual {label!r}, which vanishes at sample points"
                continue
            out.cases.append(Case({"residual": label, "simplified": str(r)[:200]}, size, 0.0, 0.0))
        return out

    return Check(name, "symbolic", compare, "exact algebra: the residual must simplify to 0 (tolerance 0)",
                 description=description)


def as_outcome(result) -> Outcome:
    if isinstance(result, Outcome):
        return result
    return Outcome(cases=list(result))


def numeric(
    name: str,
    method: str,
    compare: Callable,
    *,
    reference: Callable | None = None,
    error_model: str,
    description: str = "",
    strategy=None,
    case: Callable | None = None,
) -> Check:
    """A numerical check; ``compare`` returns an Outcome or a list of Cases with per-case tolerances.

    With ``strategy`` (Hypothesis) and ``case(statement, params, ctx) -> Case``, a disagreement is shrunk
    to the smallest failing parameters, which the report shows.
    """
    return Check(name, method, compare, error_model, reference=reference, description=description,
                 strategy=strategy, case=case)


def mp_case(params: dict, value, reference, tolerance) -> Case:
    """A Case from mpmath numbers (stored as floats for the report; the comparison was done at precision)."""
    err = abs(mpmath.mpmathify(value) - mpmath.mpmathify(reference))
    # the error is kept from the high-precision difference: floats would round it away
    return Case(params, complex(value) if isinstance(value, mpmath.mpc) else float(value),
                complex(reference) if isinstance(reference, mpmath.mpc) else float(reference), float(tolerance),
                error=float(err))
