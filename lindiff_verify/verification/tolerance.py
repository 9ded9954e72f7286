"""Tolerances derived from error models — never tuned.

Each helper returns a :class:`Tolerance`: an absolute bound plus the sentence naming the model that
set it, which checks copy into their result (``error_model``) and the report prints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

__all__ = [
    "Tolerance",
    "monte_carlo",
    "bonferroni_z",
    "precision",
    "float64",
    "discretisation",
    "combine",
    "DEFAULT_FALSE_ALARM",
]

#: Probability that a correct claim is reported as a disagreement by one Monte Carlo check.
DEFAULT_FALSE_ALARM = 1e-4


@dataclass(frozen=True)
class Tolerance:
    value: float
    model: str
    #: the part of ``value`` that bounds a deterministic bias (0 when the bound is purely statistical)
    bias: float = 0.0

    def __float__(self) -> float:
        return float(self.value)

    def scaled(self, factor: float) -> "Tolerance":
        return Tolerance(float(self.value) * factor, self.model, float(np.asarray(self.bias).max()) * factor)


def bonferroni_z(n_cases: int, false_alarm: float = DEFAULT_FALSE_ALARM) -> float:
    """Two-sided Gaussian quantile so that n_cases comparisons together false-alarm with prob. ≤ false_alarm."""
    if not 0 < float(false_alarm) < 1:
        from ..model.errors import InputError

        raise InputError("false_alarm", f"is {false_alarm!r}", "a probability in (0, 1)")
    n = max(int(n_cases), 1)
    return float(-ndtri(false_alarm / (2 * n)))


def monte_carlo(standard_error, n_cases: int = 1, false_alarm: float = DEFAULT_FALSE_ALARM, bias_bound=0.0):
    """z·SE with z from a Bonferroni bound over ``n_cases`` (plus a known bias bound, e.g. a finite-step bias).

    ``standard_error`` may be an array; the result's ``value`` is then an array of per-case bounds.
    """
    z = bonferroni_z(n_cases, false_alarm)
    se = np.asarray(standard_error, dtype=float)
    model = (
        f"Monte Carlo: z·SE with z = {z:.2f} (two-sided, false-alarm rate {false_alarm:g} per check, "
        f"Bonferroni over {n_cases} case(s))"
    )
    if np.any(np.asarray(bias_bound) != 0):
        model += " + bound on the deterministic bias"
    bias = np.asarray(bias_bound, dtype=float)
    val = z * se + bias
    return Tolerance(val if val.ndim else float(val), model, bias if bias.ndim else float(bias))


def precision(dps: int, scale=1.0, guard_digits: int = 5):
    """High-precision arithmetic: |error| ≤ scale·10^-(dps − guard_digits) (guard digits for cancellation)."""
    val = np.asarray(scale, dtype=float) * 10.0 ** (-(dps - guard_digits))
    return Tolerance(
        val if val.ndim else float(val),
        f"mpmath at {dps} digits: scale·10^-({dps} - {guard_digits} guard digits)",
    )


def float64(scale=1.0, n_ops: float = 100.0):
    """Floating-point rounding: n_ops·eps·scale with eps = 2^-52 (a generous linear accumulation model)."""
    eps = np.finfo(np.float64).eps
    val = np.asarray(scale, dtype=float) * eps * n_ops
    return Tolerance(val if val.ndim else float(val), f"float64 rounding: {n_ops:g}·eps·scale")


def discretisation(bound, order: int, h: float, what: str = "step"):
    """A known discretisation error bound ``bound`` of order h^order (the caller derives ``bound``)."""
    val = np.asarray(bound, dtype=float)
    return Tolerance(val if val.ndim else float(val), f"discretisation error O({what}^{order}), {what} = {h:g}")


def combine(*tols: Tolerance) -> Tolerance:
    """Sum of independent bounds (triangle inequality)."""
    val = sum(np.asarray(t.value, dtype=float) for t in tols)
    return Tolerance(val if np.ndim(val) else float(val), " + ".join(t.model for t in tols))
