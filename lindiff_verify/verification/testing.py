"""Pytest support: derivation checks and mutants as test items, each derivation run once per session."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from .context import Context
from .registry import discover
from .runner import run_derivation

__all__ = ["Item", "derivation_items", "derivation_record"]


class Item(NamedTuple):
    id: str  # the derivation's id
    key: str  # the check's or mutant's stable id
    name: str  # its title (for the test id)


@lru_cache(maxsize=None)
def _registry(paths: tuple[str, ...]):
    return discover(paths)


def derivation_items(paths, *, kind: str) -> list[Item]:
    reg = _registry(tuple(paths))
    out = []
    for did in reg:
        d = reg[did]
        items = d.checks if kind == "check" else d.mutants
        out += [Item(did, x.id, x.name) for x in items]
    return out


@lru_cache(maxsize=None)
def _record(did: str, paths: tuple[str, ...], seed: int, fidelity: str) -> dict:
    # detection thresholds for the statistical checks only (the meta-test's subject): the others' cost time
    return run_derivation(_registry(paths)[did], Context(seed=seed, fidelity=fidelity), thresholds="statistical")


def derivation_record(did: str, paths=(), *, seed: int = 0, fidelity: str = "quick") -> dict:
    """The agreement record of one derivation (computed once per process and cached)."""
    return _record(did, tuple(paths), seed, fidelity)
