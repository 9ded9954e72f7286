"""Where theorists work: a Derivation and an agreement record render as report cards in a notebook, and
``lindiff_verify.check(id, seed=...)`` returns the record; ``import lindiff_verify`` stays light."""

from __future__ import annotations

import html
import re
import subprocess
import sys

import lindiff_verify
from lindiff_verify.verification.registry import discover


def _doc(frame: str) -> str:
    return html.unescape(re.search(r'srcdoc="(.*?)" style', frame, re.S).group(1))


def test_check_returns_the_record_and_renders_as_its_card():
    rec = lindiff_verify.check("eq.9", seed=0)
    assert rec["schema"] == "lindiff-verify/agreement/1" and rec["provenance"]["seed"] == 0
    (d,) = rec["derivations"]
    assert d["id"] == "eq.9" and d["verdict"] == "agree" and all(m["killed"] for m in d["mutants"])
    doc = _doc(rec._repr_html_())
    assert 'data-derivation="eq.9"' in doc and "<math" in doc and "Residual training loss" in doc


def test_a_derivation_renders_as_its_card_before_it_runs():
    d = discover()["eq.13"]
    doc = _doc(d._repr_html_())
    assert 'data-derivation="eq.13"' in doc and "not run" in doc
    assert "Wishart Monte Carlo" in doc  # its checks are listed


def test_import_is_light():
    code = "import sys, lindiff_verify; print(sorted(m for m in ('sympy', 'matplotlib', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
