"""The package's layers import downward only, and no module imports itself back through others.

_meta < model < theory < simulation < verification < report < cli (< the package's __init__/__main__).
Every import statement counts, including those inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "lindiff_verify"
LAYERS = ["_meta", "model", "theory", "simulation", "verification", "report", "cli"]


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of the lindiff_verify modules imported by ``path``."""
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("lindiff_verify")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("lindiff_verify"):
                continue
            for a in node.names:  # "from .pkg import module" imports the module
                sub = f"{mod}.{a.name}"
                out.add(sub if _exists(sub) else mod)
    return {m for m in out if m != me}


def _exists(mod: str) -> bool:
    p = PKG.parent / Path(*mod.split("."))
    return p.with_suffix(".py").is_file() or (p / "__init__.py").is_file()


def _layer(mod: str) -> int:
    parts = mod.split(".")
    if len(parts) == 1 or parts[1] in ("__init__", "__main__"):
        return len(LAYERS)  # the package itself: on top
    return LAYERS.index(parts[1])


GRAPH = {_module_name(p): _imports(p) for p in PKG.rglob("*.py")}


@pytest.mark.parametrize("mod", sorted(GRAPH))
def test_imports_go_downward_only(mod):
    up = sorted(m for m in GRAPH[mod] if _layer(m) > _layer(mod))
    assert not up, f"{mod} (layer {LAYERS[_layer(mod)] if _layer(mod) < len(LAYERS) else 'top'}) imports upward: {up}"


def test_there_is_no_import_cycle():
    graph = {m: {d for d in deps if d in GRAPH} for m, deps in GRAPH.items()}
    state: dict[str, int] = {}

    def visit(m, stack):
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycle = stack[stack.index(d):] + [d]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if d not in state:
                visit(d, stack + [d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_every_module_sits_in_a_layer():
    assert all(_layer(m) <= len(LAYERS) for m in GRAPH)
    assert {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").is_file()} <= set(LAYERS)
