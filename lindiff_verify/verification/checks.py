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

from . import tolerance as _tolerance
from .limits import call_with_time_limit
from .registry import Case, Check, Outcome
from .tolerance import Tolerance

__all__ = ["symbolic", "numeric", "lambdify", "mp_lambdify", "residual_size", "as_outcome", "rationals", "mp_case",
           "judge", "explicit_matrices"]


def lambdify(args: Sequence[sympy.Symbol], expr, modules="numpy"):
    """Float/array evaluation of a statement entry (vectorised over NumPy arrays)."""
    return sympy.lambdify(args, expr, modules=modules)


def mp_lambdify(args: Sequence[sympy.Symbol], expr):
    """mpmath evaluation at the working precision (pass mpf/mpc arguments)."""
    return sympy.lambdify(args, expr, modules="mpmath")


def rationals(rng: random.Random, n: int, lo: Fraction = Fraction(1, 7), hi: Fraction = Fraction(13, 3)):
    """n exact rationals in [lo, hi] (for exact residual evaluation)."""
    return [lo + (hi - lo) * Fraction(rng.randint(1, 997), 997) for _ in range(n)]


def residual_size(expr: sympy.Basic, points: int = 3, seed: int = 0, dps: int = 80) -> float | None:
    """max |expr| at random rational points in (0, 1), evaluated in mpmath at ``dps`` digits.

    The rational points are exact; the evaluation is floating (exact rational arithmetic can blow up,
    e.g. factoring huge integers under a square root). A point where the expression is singular is
    skipped (up to 3·points tries); None when no point could be evaluated.
    """
    expr = sympy.sympify(expr)
    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    if any(not isinstance(s, sympy.Symbol) or isinstance(s, sympy.MatrixSymbol) for s in syms):
        raise TypeError("residual_size needs a scalar expression in plain symbols")
    try:
        f = sympy.lambdify(syms, expr, modules="mpmath")
    except Exception:  # noqa: BLE001 — an expression lambdify cannot print (an unevaluated Derivative): through SymPy
        f = None
        expr = expr.doit()
    rng = random.Random(seed)
    worst, used = 0.0, 0
    with mpmath.workdps(dps):
        for _ in range(3 * points):
            qs = rationals(rng, len(syms), Fraction(1, 11), Fraction(10, 11))
            try:
                if f is not None:
                    v = complex(f(*[mpmath.mpf(q.numerator) / q.denominator for q in qs]))
                else:
                    vals = {s: sympy.Rational(q.numerator, q.denominator) for s, q in zip(syms, qs, strict=True)}
                    v = complex(sympy.N(expr, dps, subs=vals))
            except (TypeError, ValueError, ZeroDivisionError, OverflowError, NameError, AttributeError):
                continue
            if v != v or abs(v) == float("inf"):
                continue
            worst, used = max(worst, abs(v)), used + 1
            if used == points:
                break
    return worst if used else None


def _frac(q: Fraction):
    return (q.numerator, q.denominator)


#: residuals smaller than this at 80-digit evaluation are zero (rounding of the 80-digit arithmetic)
_ZERO = 1e-50


def symbolic(
    name: str,
    residuals: Callable[[Mapping[str, sympy.Basic]], Mapping[str, sympy.Basic]],
    *,
    description: str = "",
    simplify: Callable[[sympy.Basic], sympy.Basic] | None = None,
    proof_seconds: float = 5.0,
    id: str | None = None,
) -> Check:
    """A check that each residual built from the statement is identically 0.

    Each residual is first evaluated at random rational points (mpmath, 80 digits): a non-zero value
    refutes the identity and is reported as the size of the disagreement. A residual that vanishes there is
    then simplified by SymPy (``simplify``, default ``simplify(together(expand(e)))``, at most
    ``proof_seconds``); when SymPy does not close it in time, the case records that the identity was verified
    at random points only (a non-zero analytic function vanishes at random points with probability 0).
    Error model: exact algebra, tolerance 0.
    """
    simp = simplify or (lambda e: sympy.simplify(sympy.together(sympy.expand(e))))
    # A mutant changes one piece of the statement, so most residuals are the same expressions as the claim's:
    # their evaluation and proof are kept by expression (a pure function of it), not redone per mutant.
    proofs: dict = {}
    sizes: dict = {}

    def prove(res) -> bool:
        if res not in proofs:
            r = call_with_time_limit(lambda: simp(res), proof_seconds)
            proofs[res] = r is not None and r == 0
        return proofs[res]

    def size_of(res, seed):
        key = (res, seed)
        if key not in sizes:
            try:
                sizes[key] = residual_size(res, seed=seed)
            except TypeError:  # matrix expressions
                sizes[key] = None
        return sizes[key]

    def compare(statement, _ref, ctx):
        out = Outcome()
        zero = _tolerance.exact()
        for label, res in residuals(statement).items():
            size = size_of(res, ctx.seed)
            if size is None:  # could not be evaluated at points: only the simplification can decide
                size = 0.0 if prove(res) else float("inf")
                if size:
                    out.cases.append(Case({"residual": label, "simplified": "not to 0"}, size, 0.0, zero))
                    continue
                out.cases.append(Case({"residual": label, "proof": "SymPy simplifies it to 0"}, 0.0, 0.0, zero))
                continue
            if size > _ZERO:
                out.cases.append(Case({"residual": label, "evaluated at": "3 random rational points, 80 digits"},
                                      size, 0.0, zero))
                continue
            proof = "SymPy simplifies it to 0" if prove(res) else "zero at 3 random rational points (80 digits)"
            out.cases.append(Case({"residual": label, "proof": proof}, 0.0, 0.0, zero))
        return out

    return Check(name, "symbolic", compare, "exact algebra: the residual must vanish identically (tolerance 0)",
                 description=description, id=id)


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
    error_model: str | None = None,
    description: str = "",
    strategy=None,
    domain=None,
    case: Callable | None = None,
    id: str | None = None,
    detects: str = "",
    relative_threshold: bool = True,
) -> Check:
    """A numerical check; ``compare`` returns an Outcome or a list of Cases with per-case tolerances.

    With ``case(statement, params, ctx) -> Case`` and a parameter ``domain`` (name → SymPy set, from which a
    Hypothesis strategy is inferred) or an explicit ``strategy``, a disagreement is shrunk to the smallest
    failing parameters, which the report shows (when Hypothesis is installed). Without ``error_model`` the
    record shows the model of the cases' tolerances. ``detects`` says what the check can and cannot detect
    (shown on the report card); ``relative_threshold=False`` (a sign or ordering claim, which a factor
    (1 ± ε) does not falsify) skips the detection-threshold search and leaves ``detects`` to say its power.
    """
    return Check(name, method, compare, error_model, reference=reference, description=description,
                 strategy=strategy, domain=domain, case=case, id=id, detects=detects,
                 relative_threshold=relative_threshold)


def mp_case(params: dict, value, reference, tolerance, *, bias_bound: float | None = None) -> Case:
    """A Case from mpmath numbers (stored as floats for the report; the comparison was done at precision)."""
    err = abs(mpmath.mpmathify(value) - mpmath.mpmathify(reference))
    # the error is kept from the high-precision difference: floats would round it away
    return Case(params, complex(value) if isinstance(value, mpmath.mpc) else float(value),
                complex(reference) if isinstance(reference, mpmath.mpc) else float(reference),
                tolerance if isinstance(tolerance, Tolerance) else float(tolerance), error=float(err),
                bias_bound=bias_bound)


def explicit_matrices(expr, dim: sympy.Symbol, n: int, mats: Mapping, scalars: Mapping | None = None, *,
                      adjugate_inverse: bool = False):
    """Evaluate a MatrixSymbol statement at a concrete dimension ``dim = n`` with explicit (exact) matrices.

    ``mats`` maps each MatrixSymbol to its explicit value, ``scalars`` maps scalar symbols to values; the
    identity becomes an explicit eye(n). With ``adjugate_inverse`` every ``Inverse`` is expanded as
    adj(M)/det(M) (cheap for small n, keeps rational entries exact).
    """
    e = expr.xreplace({dim: n})
    rep = {sympy.Identity(n): sympy.ImmutableMatrix(sympy.eye(n))}
    for sym, val in mats.items():
        shape = tuple(n if s == dim else s for s in sym.shape)
        rep[sympy.MatrixSymbol(sym.name, *shape)] = sympy.ImmutableMatrix(val)
    rep.update(scalars or {})
    e = e.xreplace(rep)
    if adjugate_inverse:
        e = e.replace(lambda u: isinstance(u, sympy.Inverse),
                      lambda u: (lambda M: sympy.ImmutableMatrix(M.adjugate() / M.det()))(sympy.ImmutableMatrix(u.arg.doit())))
    return e.doit()


def judge(params: dict, fit, claim_value, *, false_alarm: float = _tolerance.DEFAULT_FALSE_ALARM,
          bias_bound: float = 0.0, note: str = "", n_cases: int = 1) -> Case:
    """A Case comparing the claim (the d → ∞ value) with the extrapolated Monte Carlo value v∞ of ``fit``
    (:class:`~lindiff_verify.theory.extrapolation.FiniteSizeFit`).

    Tolerance: z·SE(v∞) (+ ``bias_bound``, a stated bound on a known deterministic bias), z Bonferroni over
    the Outcome's statistical cases at ``false_alarm`` (tolerance.monte_carlo; ``n_cases`` only sets the
    value before the Outcome corrects it).
    """
    tol = _tolerance.monte_carlo(fit.se, n_cases, false_alarm=false_alarm, bias_bound=bias_bound, note=note)
    p = dict(params)
    p.update({"fit slope b": fit.slope, "fit chi2/dof": round(fit.chi2 / max(fit.dof, 1), 3)})
    return Case(p, float(claim_value), fit.value, tol)
