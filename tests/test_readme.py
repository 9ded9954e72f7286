"""README's "Adding a derivation" example runs as printed: extracted from README.md, checked through the CLI
(every check agrees, every mutant is killed) and reported with its figure."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from lindiff_verify.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _example() -> tuple[str, str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Adding a derivation"):]
    code = re.search(r"```python\n(# (\S+)\n.*?)```", section, re.S)
    return code.group(2), code.group(1)


def test_readme_example_checks_and_reports(tmp_path):
    path, code = _example()
    target = tmp_path / path
    target.parent.mkdir(parents=True)
    target.write_text(code)
    runner = CliRunner()
    r = runner.invoke(main, ["check", "X.10", "--derivations", str(target.parent), "--json", str(tmp_path / "a.json")])
    assert r.exit_code == 0, r.output + r.stderr
    rec = json.loads((tmp_path / "a.json").read_text())
    (d,) = rec["derivations"]
    assert d["verdict"] == "agree" and len(d["checks"]) == 2
    assert d["mutants"] and all(m["killed"] for m in d["mutants"])
    assert any(s["stream"].endswith("/draws") for c in d["checks"] for s in c.get("seeds", []))
    r = runner.invoke(main, ["report", "X.10", "--derivations", str(target.parent), "--out", str(tmp_path / "rep"),
                             "--no-progress"])
    assert r.exit_code == 0, r.output + r.stderr
    fig = json.loads((tmp_path / "rep" / "agreement.json").read_text())["derivations"][0]["figures"][0]
    assert fig["error"] is None and fig["unlabelled_axes"] == []
