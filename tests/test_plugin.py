"""The pytest plugin in a user's own project: a temporary folder outside this repository with one derivation
file and no conftest; ``pytest --derivations PATH`` (or the ini key) collects its checks and mutants."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PLUGIN = "lindiff_verify.verification.plugin"


def _pytest(project: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m pytest`` in ``project`` with this checkout importable; the plugin comes from the installed
    entry point, or (an install that predates it) is named with -p, exactly as the entry point would load it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PYTEST_ADDOPTS", None)
    installed = any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", PLUGIN]
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin, *args],
                          cwd=project, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture
def project(tmp_path, write_user_derivation):
    root = tmp_path / "user_project"
    write_user_derivation(root / "derivs" / "algebra", n=1)
    assert not list(root.rglob("conftest.py"))
    return root


def test_pyproject_declares_the_entry_point():
    text = (REPO / "pyproject.toml").read_text()
    assert "[project.entry-points.pytest11]" in text and f'lindiff_verify = "{PLUGIN}"' in text


def test_pytest_collects_a_users_derivations_with_no_conftest(project):
    r = _pytest(project, "--derivations", "derivs", "-vv")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "X.91::check::expand PASSED" in r.stdout and "X.91::mutant::no cross term PASSED" in r.stdout
    assert "algebra/user_1.py::X.91" in r.stdout, "items are named by their file"
    assert "4 passed" in r.stdout


def test_the_ini_key_names_the_folder_and_a_wrong_claim_fails_in_one_line(project, write_user_derivation):
    (project / "pyproject.toml").write_text('[tool.pytest.ini_options]\nlindiff_derivations = ["derivs"]\n')
    write_user_derivation(project / "derivs" / "wrong", n=2, claim="x**2 + 2*x")
    r = _pytest(project, "--seed", "3")
    assert r.returncode == 1, r.stdout + r.stderr
    failures = [line for line in r.stdout.splitlines() if line.startswith("FAILED")]
    assert failures and all("X.92" in line for line in failures), r.stdout
    assert "X.92 / floats: disagree" in r.stdout and "Traceback" not in r.stdout


def test_a_broken_file_is_one_failing_item_naming_it(project):
    (project / "derivs" / "broken.py").write_text("this is not python (\n")
    r = _pytest(project, "--derivations", "derivs")
    assert r.returncode == 1
    assert "broken.py failed to load: SyntaxError" in r.stdout and "4 passed" in r.stdout
