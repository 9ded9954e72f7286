"""The command line as a user meets it: list, check, exit codes, JSON shape, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from lindiff_verify.cli import main

SCHEMA_CHECK_KEYS = {"name", "method", "verdict", "cases", "max_abs_error", "max_rel_error", "tolerance",
                     "error_model", "seconds"}


@pytest.fixture
def cli():
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_list_json_names_every_derivation_with_reference_and_methods(cli):
    r = cli("list", "--json")
    assert r.exit_code == 0
    rows = json.loads(r.stdout)["derivations"]
    eq9 = next(x for x in rows if x["id"] == "eq.9")
    assert "arXiv:2505.24769v1" in eq9["paper_ref"] and "3.1" in eq9["paper_ref"]
    assert {"symbolic", "numeric"} <= set(eq9["methods"])


def test_list_table(cli):
    r = cli("list")
    assert r.exit_code == 0 and "eq.9" in r.stdout and "Residual" in r.stdout


def test_check_json_has_the_documented_shape(cli):
    r = cli("check", "eq.9", "--seed", "3", "--json", "-")
    assert r.exit_code == 0, r.stderr
    rec = json.loads(r.stdout)
    assert rec["schema"] == "lindiff-verify/agreement/1"
    assert {"version", "git_commit", "seed", "fidelity", "backend", "python", "packages"} <= set(rec["provenance"])
    assert rec["provenance"]["seed"] == 3
    (d,) = rec["derivations"]
    assert {"id", "title", "paper_ref", "verdict", "checks", "mutants"} <= set(d)
    assert d["verdict"] == "agree"
    for c in d["checks"]:
        assert SCHEMA_CHECK_KEYS <= set(c)
    for m in d["mutants"]:
        assert {"name", "description", "killed", "killed_by"} <= set(m) and m["killed"]
    assert set(rec["summary"]) >= {"derivations", "agree", "disagree", "inconclusive", "error", "mutants",
                                   "mutants_killed"}
    assert "agree" in r.stderr, "with --json - the table goes to stderr"


def test_check_writes_json_file(cli, tmp_path):
    out = tmp_path / "sub" / "a.json"
    r = cli("check", "eq.9", "--json", str(out))
    assert r.exit_code == 0 and json.loads(out.read_text())["summary"]["agree"] == 1


@pytest.mark.parametrize("args, parameter", [
    (["check", "eq.99"], "derivation id"),
    (["check", "eq.9", "--backend", "torch"], "backend"),
    (["check", "eq.9", "--seed", "-4"], "seed"),
    (["list", "--derivations", "/nonexistent/folder"], "derivations path"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_2(cli, args, parameter):
    r = cli(*args)
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and parameter in lines[0] and "Traceback" not in r.stderr


def test_usage_error_exits_2(cli):
    assert cli("check", "--fidelity", "medium").exit_code == 2


def test_user_derivations_are_checked_and_a_disagreement_exits_1(cli, tmp_path, write_user_derivation):
    write_user_derivation(tmp_path / "good", n=11)
    r = cli("check", "X.911", "--derivations", str(tmp_path / "good"))
    assert r.exit_code == 0, r.stdout
    write_user_derivation(tmp_path / "bad", n=12, claim="x**2 + 1 + 2*x*(1 + x/100)")
    r = cli("check", "X.912", "--derivations", str(tmp_path / "bad"))
    assert r.exit_code == 1 and "DISAGREE" in r.stdout


def test_console_script_is_installed():
    r = subprocess.run([sys.executable, "-m", "lindiff_verify", "list"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "eq.9" in r.stdout


def test_cupy_backend_without_a_gpu_is_a_clear_error(cli):
    from lindiff_verify.model.backend import cupy_available

    ok, why = cupy_available()
    if ok:
        pytest.skip(f"a CUDA device is present ({why})")
    r = cli("check", "eq.9", "--backend", "cupy")
    assert r.exit_code == 2 and "backend" in r.stderr and "cupy" in r.stderr
