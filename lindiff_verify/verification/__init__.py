"""Verification: the derivation registry, check kinds, tolerances, context, runner, pytest support."""
