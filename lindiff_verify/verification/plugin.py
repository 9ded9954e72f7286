"""pytest plugin (entry point ``pytest11: lindiff_verify``): a user's derivations as test items.

In any repository with lindiff-verify installed::

    pytest --derivations my_derivations/          # or, in pytest.ini / pyproject: lindiff_derivations = my_derivations

collects, for every derivation found there (folders walked recursively, ``_*.py`` helpers skipped), one item
per check (the claim must agree, and the check must reject at least one mutant) and one per mutant (some
check must reject it). Each derivation runs once per session, at ``--seed`` (default 0) and
``--fidelity`` (quick / full). A file that does not load is one failing item naming the file and the
problem. No conftest is needed: the options, the ini key and the items all come from this plugin.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from .context import FIDELITIES, Context

__all__ = ["pytest_addoption", "pytest_collection_modifyitems", "DerivationItem"]


def pytest_addoption(parser):
    group = parser.getgroup("lindiff-verify", "lindiff-verify derivations")
    group.addoption("--derivations", action="append", default=[], metavar="PATH",
                    help="folder (or .py file) of derivations to collect as test items; repeatable")
    group.addoption("--fidelity", default="quick", choices=FIDELITIES, help="fidelity of derivation checks")
    group.addoption("--seed", type=int, default=0, help="root seed of derivation checks")
    parser.addini("lindiff_derivations", "folders (or .py files) of derivations to collect as test items",
                  type="paths", default=[])


def _paths(config) -> tuple[str, ...]:
    """--derivations on the command line, else the ini key (relative to the ini file's folder)."""
    given = config.getoption("--derivations")
    if given:
        return tuple(str(Path(p).resolve()) for p in given)
    return tuple(str(Path(p).resolve()) for p in config.getini("lindiff_derivations"))


@lru_cache(maxsize=None)
def _registry(paths: tuple[str, ...]):
    from .registry import discover

    errors: list[dict] = []
    return discover(paths, include_builtin=False, load_errors=errors), tuple(
        (e["file"], e["error"]) for e in errors)


@lru_cache(maxsize=None)
def _record(paths: tuple[str, ...], did: str, seed: int, fidelity: str) -> dict:
    from .runner import run_derivation

    return run_derivation(_registry(paths)[0][did], Context(seed=seed, fidelity=fidelity))


class DerivationFailure(Exception):
    """A derivation item failed: the message is the whole report (no traceback into the runner)."""


class DerivationItem(pytest.Item):
    """One check (``kind="check"``), one mutant (``"mutant"``) or one file that failed to load (``"load"``)."""

    def __init__(self, *, kind: str, did: str = "", key: str = "", paths: tuple[str, ...] = (), error: str = "",
                 **kwargs):
        super().__init__(**kwargs)
        self.kind, self.did, self.key, self.paths, self.error = kind, did, key, paths, error

    def runtest(self):
        if self.kind == "load":
            raise DerivationFailure(self.error)
        cfg = self.config
        rec = _record(self.paths, self.did, cfg.getoption("--seed"), cfg.getoption("--fidelity"))
        if self.kind == "check":
            res = next(c for c in rec["checks"] if c["id"] == self.key)
            if res["verdict"] != "agree":
                why = res.get("error") or res.get("inconclusive_reason") or ""
                raise DerivationFailure(
                    f"{self.did} / {res['name']}: {res['verdict']} — |Δ| {res.get('max_abs_error')} against tolerance "
                    f"{res.get('tolerance')} ({res.get('tolerance_model') or res.get('error_model')}); worst case "
                    f"{res.get('worst_case')}{'; ' + why if why else ''}")
        else:
            m = next(m for m in rec["mutants"] if m["id"] == self.key)
            if not m["killed"]:
                raise DerivationFailure(f"{self.did}: mutant {m['name']!r} ({m['description']}) passed every check")

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, DerivationFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, ""


def _items(session, paths: tuple[str, ...]) -> list[DerivationItem]:
    from ..model.errors import InputError

    try:
        reg, errors = _registry(paths)
    except InputError as exc:  # a missing folder, two derivations with the same id, a broken entry
        return [DerivationItem.from_parent(session, name=f"derivations::{exc.parameter}", kind="load",
                                           error=str(exc))]
    def rel(path: Path) -> str:
        try:
            return path.relative_to(session.config.rootpath).as_posix()
        except ValueError:
            return path.as_posix()

    out = []
    for file, error in errors:
        out.append(DerivationItem.from_parent(session, name="load", nodeid=f"{rel(Path(file))}::load", path=Path(file),
                                              kind="load", error=f"{file} failed to load: {error}"))
    for did in reg:
        d = reg[did]
        path = Path(d.source) if d.source else session.path
        for kind, entries in (("check", d.checks), ("mutant", d.mutants)):
            for x in entries:
                name = f"{did}::{kind}::{x.id}"
                out.append(DerivationItem.from_parent(session, name=name, nodeid=f"{rel(path)}::{name}", path=path,
                                                      kind=kind, did=did, key=x.id, paths=paths))
    return out


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """Append the derivation items (before -k / -m selection, which then applies to them too)."""
    paths = _paths(config)
    if paths:
        items.extend(_items(session, paths))
