"""Bad input through the command line, table-driven: every subcommand and option.

Each row is (arguments, what the one stderr line must name). A row passes when the command exits 2 with
exactly one line on stderr that names the parameter (or file) and says what is allowed, with no traceback,
and — for the output options — before any check ran (nothing written, no "agree" table).
"""

from __future__ import annotations

import re
import textwrap

import pytest
from click.testing import CliRunner

from lindiff_verify.cli import main

GOOD = '''
import sympy as sp
from lindiff_verify.verification import checks
from lindiff_verify.verification.registry import Case, Derivation, Mutant, PaperRef, Variable
x = sp.Symbol("x", positive=True)
def _n(st, ref, ctx):
    f = checks.lambdify((x,), st["sq"])
    return [Case({{"x": 2.0}}, f(2.0), 9.0, 1e-12)]
d = Derivation(id="{id}", title="square", paper_ref=PaperRef("{id}", "test"), statement={{"sq": (1 + x)**2}},
               variables=[Variable(x, "x", "x > 0")], claim_kind="{kind}",
               checks=[checks.numeric("n", "numeric", _n, error_model="float64"),
                       checks.numeric("n again", "numeric", _n, error_model="float64")],
               mutants=[Mutant("m", "x^2", replace={{"sq": x**2}}), Mutant("m2", "x^2 + 1", replace={{"sq": x**2 + 1}})])
'''

#: folder name → {file name: source}
FOLDERS = {
    "syntax": {"bad_syntax.py": "def broken(:\n    pass\n"},
    "raises": {"bad_import.py": "raise RuntimeError('boom at import')\n"},
    "exits": {"bad_exit.py": "import sys\nsys.exit(3)\n"},
    "missing_module": {"bad_missing.py": "import no_such_module_here\n"},
    "duplicate": {"a.py": GOOD.format(id="X.777", kind="exact"), "b.py": GOOD.format(id="X.777", kind="exact")},
    "builtin_clash": {"clash.py": GOOD.format(id="eq.9", kind="exact")},
    "invalid": {"bad_kind.py": GOOD.format(id="X.778", kind="conjectural")},
}


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_input_cli")
    for folder, files in FOLDERS.items():
        (root / folder).mkdir()
        for name, src in files.items():
            (root / folder / name).write_text(textwrap.dedent(src))
    (root / "notes.txt").write_text("not python")
    (root / "a_file").write_text("a regular file")
    (root / "a_dir").mkdir()
    return root


def P(name):
    return ("@", name)  # a path below the fixture's root


ROWS = [
    # the group
    (["frobnicate"], "frobnicate"),
    (["--bogus"], "--bogus"),
    (["list", "extra-argument"], "extra-argument"),
    # list
    (["list", "--derivations", "/nonexistent/folder"], "derivations path"),
    (["list", "--derivations", P("notes.txt")], "notes.txt"),
    (["list", "--derivations", P("syntax")], "bad_syntax.py: line 1: SyntaxError"),
    (["list", "--derivations", P("raises")], "bad_import.py: RuntimeError at import: boom at import"),
    (["list", "--derivations", P("exits")], "bad_exit.py: SystemExit"),
    (["list", "--derivations", P("missing_module")], "bad_missing.py: ModuleNotFoundError"),
    (["list", "--derivations", P("duplicate")], "'X.777' is declared twice"),
    (["list", "--derivations", P("builtin_clash")], "'eq.9' is declared twice"),
    (["list", "--derivations", P("invalid")], "claim_kind"),
    (["list", "--json=yes"], "--json"),
    (["list", "--derivations"], "--derivations"),
    # check
    (["check", "eq.99"], "derivation id"),
    (["check", "eq.9", "eq.99", "eq.100"], "'eq.99', 'eq.100' not registered"),
    (["check", "eq.9", "--seed", "-1"], "--seed"),
    (["check", "eq.9", "--seed", "abc"], "--seed"),
    (["check", "eq.9", "--seed", "1.5"], "--seed"),
    (["check", "eq.9", "--seed"], "--seed"),
    (["check", "eq.9", "--fidelity", "medium"], "--fidelity"),
    (["check", "eq.9", "--backend", "torch"], "--backend"),
    (["check", "eq.9", "--json"], "--json"),
    (["check", "eq.9", "--json", "/proc/lindiff-verify.json"], "--json"),
    (["check", "eq.9", "--json", P("a_dir")], "is a folder"),
    (["check", "eq.9", "--json", P("a_file/record.json")], "which is a file"),
    (["check", "eq.9", "--no-mutants=1"], "--no-mutants"),
    (["check", "eq.9", "--derivations", P("syntax")], "bad_syntax.py"),
    (["check", "eq.9", "--derivations", P("raises")], "bad_import.py"),
    (["check", "eq.9", "--derivations", P("duplicate")], "X.777"),
    (["check", "eq.9", "--derivations", P("invalid")], "claim_kind"),
    (["check", "eq.9", "--derivations", P("notes.txt")], "notes.txt"),
    (["check", "eq.9", "--derivations", "/nonexistent.py"], "derivations path"),
    # report
    (["report", "--out", "/proc/lindiff-verify-report"], "--out"),
    (["report", "--out", P("a_file")], "a_file"),
    (["report", "--out", P("a_file/sub")], "which is a file"),
    (["report", "eq.9", "--seed", "-3"], "--seed"),
    (["report", "eq.9", "--seed", "x"], "--seed"),
    (["report", "eq.9", "--fidelity", "medium"], "--fidelity"),
    (["report", "eq.9", "--backend", "torch"], "--backend"),
    (["report", "eq.9", "--jobs", "0"], "--jobs"),
    (["report", "eq.9", "--jobs", "-2"], "--jobs"),
    (["report", "eq.9", "--jobs", "two"], "--jobs"),
    (["report", "eq.9", "--timeout", "-1"], "--timeout"),
    (["report", "eq.9", "--timeout", "abc"], "--timeout"),
    (["report", "eq.9", "--timeout", "nan"], "timeout"),
    (["report", "eq.9", "--timeout", "inf"], "timeout"),
    (["report", "eq.99"], "derivation id"),
    (["report", "--derivations", P("syntax")], "bad_syntax.py"),
    (["report", "--derivations", P("raises")], "bad_import.py"),
    (["report", "--derivations", P("duplicate")], "X.777"),
    (["report", "--derivations", P("invalid")], "claim_kind"),
    (["report", "--derivations", P("notes.txt")], "notes.txt"),
    (["report", "--derivations", "/nonexistent"], "derivations path"),
    (["report", "--no-builtin"], "derivations"),
    (["report", "eq.9", "--profile=yes"], "--profile"),
    (["report", "eq.9", "--figures=maybe"], "--figures"),
]

#: words that say what is allowed (click's own messages, or the project's "(allowed: …)")
_ALLOWED = re.compile(r"allowed|not one of|range|requires an argument|not a valid|does not take a value|"
                      r"No such (command|option)|unexpected extra argument|--help", re.I)


def _args(row, root):
    return [str(root / a[1]) if isinstance(a, tuple) else a for a in row]


def test_the_table_is_large_enough():
    assert len(ROWS) >= 40
    assert {r[0][0] for r in ROWS} >= {"list", "check", "report"}


@pytest.mark.parametrize("args, names", ROWS, ids=[" ".join(a if isinstance(a, str) else a[1] for a in r[0])[:60]
                                                    for r in ROWS])
def test_bad_input_is_one_line_and_exit_2(args, names, paths, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a report that wrongly ran would write reports/ here
    r = CliRunner().invoke(main, _args(args, paths), catch_exceptions=False)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.exit_code == 2, (r.exit_code, r.stderr, r.stdout[-500:])
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr and "agree" not in r.stdout
    assert names in lines[0], lines[0]
    assert _ALLOWED.search(lines[0]), lines[0]
    assert not (tmp_path / "reports").exists()
