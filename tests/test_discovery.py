"""Discovery of derivation files: a package walked recursively, helpers imported normally, the same
built-in derivations from a source checkout and from the wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lindiff_verify.verification.registry import (BUILTIN_PACKAGE, builtin_derivations_path, derivation_files,
                                                  discover, display_module_name)

REPO = Path(__file__).resolve().parents[1]
SECTION_FOLDERS = ("main", "appendix_b", "appendix_c", "appendix_d", "extensions")


def test_builtin_derivations_are_a_package_by_paper_section():
    root = builtin_derivations_path()
    assert (root / "__init__.py").is_file()
    for folder in SECTION_FOLDERS:
        assert (root / folder / "__init__.py").is_file(), folder
    files = derivation_files(root)
    assert files and not any(part.startswith("_") for f in files for part in f.relative_to(root).parts)


def test_every_derivation_folder_ships_in_the_wheel():
    """pyproject lists each folder of derivations/ as a package of lindiff_verify.builtin_derivations."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    packages = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    root = builtin_derivations_path()
    folders = {".".join((BUILTIN_PACKAGE, *p.parent.relative_to(root).parts)) for p in root.rglob("__init__.py")}
    assert folders <= packages, f"add to [tool.setuptools] packages: {sorted(folders - packages)}"


#: files still to be split by topic (a ratchet: the list may only shrink)
TO_SPLIT: set[str] = set()


def test_no_derivation_file_is_longer_than_400_lines():
    root = builtin_derivations_path()
    long = {f.relative_to(root).as_posix(): n for f in root.rglob("*.py") if (n := len(f.read_text().splitlines())) > 400}
    assert set(long) <= TO_SPLIT, f"split these by topic: { {k: v for k, v in long.items() if k not in TO_SPLIT} }"


def test_helpers_are_imported_normally():
    root = builtin_derivations_path()
    tricks = [str(f.relative_to(root)) for f in root.rglob("*.py") if "spec_from_file_location" in f.read_text()]
    assert not tricks


def test_every_builtin_entry_lives_in_the_builtin_package():
    reg = discover()
    modules = {sys.modules[name].__file__: name for name in list(sys.modules) if name.startswith(BUILTIN_PACKAGE)}
    sources = {reg[did].source for did in reg}
    for src in sources:
        assert modules.get(str(Path(src).resolve()), "").startswith(BUILTIN_PACKAGE + "."), src
    assert display_module_name(BUILTIN_PACKAGE + ".main.eq09_residual_loss") == "derivations.main.eq09_residual_loss"


USER_HELPER = """
import sympy as sp
x = sp.Symbol("x", positive=True)
CLAIM = (1 + x) ** 2
"""


def test_a_user_folder_is_walked_recursively_and_its_helpers_import_relatively(tmp_path, write_user_derivation):
    top = tmp_path / "mine"
    write_user_derivation(top, n=1)
    sub = top / "appendix"
    sub.mkdir()
    (sub / "_shared.py").write_text(USER_HELPER)  # a helper: not scanned, imported by its sibling
    path = write_user_derivation(sub, n=2)
    path.write_text(path.read_text().replace('statement={"square": (1 + x)**2}', 'statement={"square": CLAIM}')
                    .replace("import sympy as sp\n", "import sympy as sp\nfrom ._shared import CLAIM\n", 1))
    assert "from ._shared import CLAIM" in path.read_text()
    (top / "_scratch.py").write_text("raise RuntimeError('a helper is never imported by discovery')\n")
    reg = discover([top], include_builtin=False)
    assert sorted(reg) == ["X.91", "X.92"]
    assert Path(reg["X.92"].source) == path
    # the same folder named twice (or a file inside it named too) adds nothing and is not a duplicate
    assert sorted(discover([top, top, path], include_builtin=False)) == ["X.91", "X.92"]


def test_the_environment_variable_adds_folders(tmp_path, monkeypatch, write_user_derivation):
    write_user_derivation(tmp_path / "env" / "deep", n=3)
    monkeypatch.setenv("LINDIFF_VERIFY_DERIVATIONS", str(tmp_path / "env"))
    reg = discover()
    assert "X.93" in reg and "eq.9" in reg


@pytest.mark.slow
def test_the_wheel_ships_the_same_derivations(tmp_path):
    """Built wheel: derivations/ becomes lindiff_verify.builtin_derivations with every subpackage and helper."""
    src = tmp_path / "src"  # build from a copy: setuptools writes build/ and *.egg-info beside the sources
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "lindiff_verify", "derivations"):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__")} if copy is shutil.copytree else {}))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(src)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    shipped = {p.relative_to(site / "lindiff_verify" / "builtin_derivations")
               for p in (site / "lindiff_verify" / "builtin_derivations").rglob("*.py")}
    source = {p.relative_to(src / "derivations") for p in (src / "derivations").rglob("*.py")}
    assert shipped == source
    code = "from lindiff_verify.verification.registry import discover; print(' '.join(discover()))"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin"},
                         check=True, capture_output=True, text=True).stdout.split()
    assert out == list(discover())
