"""A derivation's Monte Carlo runs through ``ctx.xp``: under array-api-strict (the bare standard, CPU) the
draws of several derivations' Monte Carlo checks pass through the namespace the context hands out, and the
verdicts are those of NumPy; on CuPy (GPU machines only) the verdicts are those of NumPy at the same seed."""

from __future__ import annotations

import types

import pytest

from lindiff_verify.model import backend
from lindiff_verify.verification.context import Context
from lindiff_verify.verification.registry import discover
from lindiff_verify.verification.runner import run_check

#: derivations whose Monte Carlo covers noise draws for losses (eq.2, eq.6, eq.8), test data (eq.10),
#: sampler trajectories (C.9), white Wishart draws (D.12) and dense Wishart draws (X.1)
GENERIC = ["eq.2", "eq.6", "eq.8", "eq.10", "C.9", "D.12", "X.1"]


class TracedNamespace(types.ModuleType):
    """array-api-strict, counting the array elements created through the namespace itself."""

    def __init__(self, inner):
        super().__init__("traced_array_api_strict")
        self._inner = inner
        self.elements = 0

    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        if name in ("asarray", "zeros", "ones", "empty", "full", "linspace", "arange", "eye"):
            def counted(*a, **k):
                out = attr(*a, **k)
                self.elements += int(getattr(out, "size", 0) or 0)
                return out

            return counted
        return attr


def _mc_checks(d):
    return [c for c in d.checks if c.method == "montecarlo"]


def _run_mc(d, ctx):
    return {c.name: run_check(d, c, ctx, {"claim": d.statement})["claim"] for c in _mc_checks(d)}


@pytest.fixture(scope="module")
def selected():
    return discover().select(GENERIC)


@pytest.fixture(scope="module")
def numpy_results(selected):
    return {d.id: _run_mc(d, Context(seed=0)) for d in selected}


@pytest.mark.parametrize("did", GENERIC)
def test_monte_carlo_runs_through_ctx_xp_under_array_api_strict(did, selected, numpy_results, monkeypatch):
    strict = pytest.importorskip("array_api_strict", reason="array-api-strict not installed (the 'test' extra)")
    traced = TracedNamespace(strict)
    real = backend.namespace
    monkeypatch.setattr(backend, "namespace", lambda name: traced if name == "array-api-strict" else real(name))
    (d,) = [x for x in selected if x.id == did]
    assert _mc_checks(d), f"{did} has a Monte Carlo check"
    res = _run_mc(d, Context(seed=0, backend="array-api-strict"))
    paths = 0
    for name, r in res.items():
        assert r["verdict"] == "agree", (name, r.get("error"))
        assert r["backend"] == "array-api-strict" and r["device"] == "cpu"
        assert r.get("total_paths", 0) > 0, f"{name} records its Monte Carlo sample size (ctx.paths)"
        paths += r["total_paths"]
        ref = numpy_results[did][name]
        assert r["verdict"] == ref["verdict"]
        # the same draws (array-api-strict wraps NumPy's), so the same numbers up to rounding
        assert r["max_abs_error"] == pytest.approx(ref["max_abs_error"], rel=1e-6, abs=1e-12)
    # every Monte Carlo sample went through the namespace the context handed out (at least one element each)
    assert traced.elements >= paths


@pytest.mark.gpu
def test_cupy_gives_the_numpy_verdicts(selected, numpy_results):
    ok, why = backend.cupy_available()
    if not ok:
        pytest.skip(f"needs a CUDA GPU with CuPy: {why}")
    for d in selected:
        res = _run_mc(d, Context(seed=0, backend="cupy"))
        for name, r in res.items():
            assert r["device"].startswith("gpu") and r["backend"] == "cupy"
            assert r["verdict"] == numpy_results[d.id][name]["verdict"] == "agree", (d.id, name, r.get("error"))
