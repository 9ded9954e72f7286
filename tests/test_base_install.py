"""The base install (no test extra) imports and runs every library module and every derivation: nothing
may need Hypothesis, pytest or array-api-strict. Checked in a subprocess where those imports fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BLOCK = """
import sys
for name in ("hypothesis", "pytest", "array_api_strict", "pytest_benchmark"):
    sys.modules[name] = None  # import raises ImportError, as in a fresh venv with the base install
"""


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK + code], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)


def test_every_module_and_derivation_imports_without_test_packages():
    code = """
import importlib, pkgutil, lindiff_verify
for m in pkgutil.walk_packages(lindiff_verify.__path__, "lindiff_verify."):
    if m.name.endswith(("testing", "plugin", "__main__")):
        continue  # the pytest integration itself (the plugin is loaded by pytest only)
    importlib.import_module(m.name)
from lindiff_verify.verification.registry import discover
print(len(discover()))
"""
    r = _run(code)
    assert r.returncode == 0, r.stderr[-3000:]
    assert int(r.stdout.strip()) >= 20


def test_eq9_runs_and_says_shrinking_is_unavailable_without_hypothesis():
    code = """
import json
import sympy as sp
from lindiff_verify.verification.context import Context
from lindiff_verify.verification.registry import discover
from lindiff_verify.verification.runner import run_derivation
d = discover()["eq.9"]
lam, abar = sp.Symbol("lambda", nonnegative=True), sp.Symbol("alphabar", positive=True)
rec = run_derivation(d, Context(seed=0))
d.statement = {"summand": lam / (abar * lam + 1 - abar)}  # a wrong claim: its disagreement would be shrunk
bad = run_derivation(d, Context(seed=0), mutants=False)
print(json.dumps([rec["verdict"], [c.get("minimal_failing_case") for c in bad["checks"]]]))
"""
    r = _run(code)
    assert r.returncode == 0, r.stderr[-3000:]
    verdict, shrunk = json.loads(r.stdout.strip().splitlines()[-1])
    assert verdict == "agree"
    assert any(s and "Hypothesis is not installed" in s.get("unavailable", "") for s in shrunk)
