"""Errors raised for bad input: each names the offending parameter and its allowed range."""

from __future__ import annotations

__all__ = ["InputError", "ConvergenceError"]


class InputError(ValueError):
    """A parameter is outside its domain.

    ``parameter`` names it, ``allowed`` states the domain; ``str(err)`` is one readable line,
    which the CLI prints on stderr (exit status 2).
    """

    def __init__(self, parameter: str, problem: str, allowed: str | None = None):
        self.parameter = parameter
        self.problem = problem
        self.allowed = allowed
        msg = f"invalid {parameter}: {problem}"
        if allowed:
            msg += f" (allowed: {allowed})"
        super().__init__(msg)


class ConvergenceError(ArithmeticError):
    """An iterative solver did not converge; the message names the inputs it failed on."""
