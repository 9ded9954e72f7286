"""Tolerances derived from error models — never tuned. The one home of every safety factor.

Each helper returns a :class:`Tolerance`: an absolute bound, the error model that set it and the model's
sentence (``model``), generated from its parameters. A :class:`~lindiff_verify.verification.registry.Case`
carries its Tolerance; statistical tolerances (:func:`monte_carlo`, :func:`student_t`) are corrected for
the family of comparisons by the :class:`~lindiff_verify.verification.registry.Outcome` that holds them
(Bonferroni over its statistical cases), so no caller counts the family by hand.

Safety factors, named here and nowhere else:

* :data:`DEFAULT_FALSE_ALARM` — probability that a correct claim is reported as a disagreement by one
  statistical check (the whole family of its cases together).
* :data:`FLOAT64_OPS` — the default number of rounding steps of a float64 evaluation (linear accumulation
  model, n_ops·eps·scale); :data:`FLOAT64_OPS_LINEAR_ALGEBRA` for dense matrix algebra (solves, traces
  of products) at the dimensions the checks use.
* :data:`GUARD_DIGITS` — digits of an mpmath evaluation set aside for cancellation.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats
from scipy.special import ndtri

__all__ = [
    "Tolerance",
    "monte_carlo",
    "student_t",
    "bonferroni_z",
    "precision",
    "float64",
    "discretisation",
    "bound",
    "exact",
    "combine",
    "DEFAULT_FALSE_ALARM",
    "FLOAT64_OPS",
    "FLOAT64_OPS_LINEAR_ALGEBRA",
    "GUARD_DIGITS",
]

#: Probability that a correct claim is reported as a disagreement by one Monte Carlo check.
DEFAULT_FALSE_ALARM = 1e-4
#: Rounding steps of a float64 evaluation of a closed form (n_ops·eps·scale).
FLOAT64_OPS = 100.0
#: Rounding steps of dense float64 linear algebra (solves, traces of products) at d ≤ 32.
FLOAT64_OPS_LINEAR_ALGEBRA = 1e3
#: Digits of an mpmath evaluation reserved for cancellation: |error| ≤ scale·10^-(dps − GUARD_DIGITS).
GUARD_DIGITS = 5


def _num(x):
    a = np.asarray(x, dtype=float)
    return a if a.ndim else float(a)


@dataclass(frozen=True)
class Tolerance:
    """An absolute bound on |claim − reference| and the error model that set it.

    ``kind`` names the model; ``params`` are its parameters, from which ``model`` (the sentence the report
    prints) is generated. Statistical kinds carry ``se`` (standard errors) and ``bias`` (a stated bound on a
    deterministic bias): ``value = q·se + bias``, with ``q`` the two-sided quantile at the false-alarm rate
    shared by ``family`` comparisons. ``note`` adds what the model alone does not say.
    """

    value: float | np.ndarray
    kind: str = "bound"
    params: dict = field(default_factory=dict)
    se: float | np.ndarray | None = None
    bias: float | np.ndarray = 0.0
    note: str = ""
    parts: tuple = ()  # the summands of a combined tolerance

    def __float__(self) -> float:
        return float(self.value)

    @property
    def statistical(self) -> bool:
        return self.se is not None or any(p.statistical for p in self.parts)

    @property
    def model(self) -> str:
        p = self.params
        if self.kind == "monte_carlo":
            s = (f"Monte Carlo: z·SE with z = {bonferroni_z(p['family'], p['false_alarm']):.2f} (two-sided, "
                 f"false-alarm rate {p['false_alarm']:g} per check, Bonferroni over {p['family']} case(s))")
            s += " + bound on the deterministic bias" if p.get("bias_stated") else ""
        elif self.kind == "student_t":
            s = (f"Monte Carlo: t·SE with t the Student-t({p['dof']}) quantile at the Bonferroni level "
                 f"(false-alarm rate {p['false_alarm']:g} per check over {p['family']} case(s))")
        elif self.kind == "precision":
            s = f"mpmath at {p['dps']} digits: scale·10^-({p['dps']} - {p['guard_digits']} guard digits)"
        elif self.kind == "float64":
            s = f"float64 rounding: {p['n_ops']:g}·eps·scale"
        elif self.kind == "discretisation":
            s = f"discretisation error O({p['what']}^{p['order']}), {p['what']} = {p['h']:g}"
        elif self.kind == "exact":
            s = "exact algebra (tolerance 0)"
        elif self.kind == "sum":
            s = " + ".join(t.model for t in self.parts)
        else:  # "bound": a bound derived by the caller, named by its note
            s = ""
        if self.note:
            s = f"{s} ({self.note})" if s else self.note
        return s

    def __getitem__(self, index) -> "Tolerance":
        """The tolerance of one entry of an array-valued tolerance (same model)."""
        def pick(x):
            return x if np.ndim(x) == 0 else _num(np.asarray(x)[index])

        return replace(self, value=pick(self.value), se=None if self.se is None else pick(self.se),
                       bias=pick(self.bias), parts=tuple(t[index] for t in self.parts))

    def for_family(self, n: int) -> "Tolerance":
        """A statistical tolerance re-derived for a family of ``n`` comparisons (others unchanged)."""
        if self.kind == "sum":
            parts = tuple(t.for_family(n) for t in self.parts)
            return replace(self, parts=parts, value=_num(sum(np.asarray(t.value, dtype=float) for t in parts)))
        if self.se is None or self.params.get("family") == n:
            return self
        params = {**self.params, "family": n}
        q = _quantile(self.kind, params)
        return replace(self, params=params, value=_num(q * np.asarray(self.se, dtype=float)
                                                       + np.asarray(self.bias, dtype=float)))

    def scaled(self, factor: float) -> "Tolerance":
        return replace(self, value=_num(np.asarray(self.value, dtype=float) * factor),
                       se=None if self.se is None else _num(np.asarray(self.se, dtype=float) * factor),
                       bias=_num(np.asarray(self.bias, dtype=float) * factor))


def bonferroni_z(n_cases: int, false_alarm: float = DEFAULT_FALSE_ALARM) -> float:
    """Two-sided Gaussian quantile so that n_cases comparisons together false-alarm with prob. ≤ false_alarm."""
    if not 0 < float(false_alarm) < 1:
        from ..model.errors import InputError

        raise InputError("false_alarm", f"is {false_alarm!r}", "a probability in (0, 1)")
    n = max(int(n_cases), 1)
    return float(-ndtri(false_alarm / (2 * n)))


def _quantile(kind: str, params: dict) -> float:
    z = bonferroni_z(params["family"], params["false_alarm"])
    if kind == "student_t":
        return float(stats.t.ppf(1 - stats.norm.sf(z), params["dof"]))
    return z


def monte_carlo(standard_error, n_cases: int = 1, false_alarm: float = DEFAULT_FALSE_ALARM, bias_bound=0.0,
                note: str = ""):
    """z·SE (+ a stated bound on a known deterministic bias, e.g. a finite-step bias), z two-sided at
    ``false_alarm`` with a Bonferroni correction over the family of comparisons.

    The family is the statistical cases of the Outcome the tolerance ends up in (the Outcome corrects it);
    ``n_cases`` only sets the value read before that (e.g. by a test). ``standard_error`` may be an array.
    """
    se = _num(standard_error)
    bias = _num(bias_bound)
    params = {"family": max(int(n_cases), 1), "false_alarm": false_alarm,
              "bias_stated": bool(np.any(np.asarray(bias_bound) != 0))}
    val = _num(_quantile("monte_carlo", params) * np.asarray(se) + np.asarray(bias))
    return Tolerance(val, "monte_carlo", params, se=se, bias=bias, note=note)


def student_t(standard_error, dof: int, false_alarm: float = DEFAULT_FALSE_ALARM, note: str = ""):
    """t·SE with t the Student-t(``dof``) quantile at the Bonferroni level (for SEs estimated from ``dof`` + 1
    batches, e.g. a jackknife); the family is corrected by the Outcome as for :func:`monte_carlo`."""
    se = _num(standard_error)
    params = {"family": 1, "false_alarm": false_alarm, "dof": int(dof)}
    return Tolerance(_num(_quantile("student_t", params) * np.asarray(se)), "student_t", params, se=se, note=note)


def precision(dps: int, scale=1.0, guard_digits: int = GUARD_DIGITS, note: str = ""):
    """High-precision arithmetic: |error| ≤ scale·10^-(dps − guard_digits) (guard digits for cancellation)."""
    val = _num(np.asarray(scale, dtype=float) * 10.0 ** (-(dps - guard_digits)))
    return Tolerance(val, "precision", {"dps": dps, "guard_digits": guard_digits}, note=note)


def float64(scale=1.0, n_ops: float = FLOAT64_OPS, note: str = ""):
    """Floating-point rounding: n_ops·eps·scale with eps = 2^-52 (a generous linear accumulation model)."""
    eps = np.finfo(np.float64).eps
    val = _num(np.asarray(scale, dtype=float) * eps * n_ops)
    return Tolerance(val, "float64", {"n_ops": n_ops}, note=note)


def discretisation(bound, order: int, h: float, what: str = "step", note: str = ""):
    """A known discretisation error bound ``bound`` of order h^order (the caller derives ``bound``)."""
    return Tolerance(_num(bound), "discretisation", {"order": order, "h": h, "what": what}, note=note)


def bound(value, why: str):
    """A bound the caller derived (a truncation remainder, a Richardson change, a rigorous inequality):
    ``why`` names it."""
    return Tolerance(_num(value), "bound", note=why)


def exact():
    """Exact algebra: tolerance 0."""
    return Tolerance(0.0, "exact")


def combine(*tols: Tolerance) -> Tolerance:
    """Sum of independent bounds (triangle inequality)."""
    val = _num(sum(np.asarray(t.value, dtype=float) for t in tols))
    return Tolerance(val, "sum", parts=tuple(tols))
