"""Run derivations' checks against the claim and its mutants; build the agreement record (JSON twin
of the report). Schema ``lindiff-verify/agreement/1``."""

from __future__ import annotations

import math
import platform
import subprocess
import time
import traceback
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

import mpmath
import numpy as np

from .._meta import __version__
from .checks import as_outcome
from .context import Context
from .registry import Derivation, Outcome

__all__ = ["SCHEMA", "exit_status", "run_check", "run_derivation", "run", "provenance", "summarize", "derivation_verdict"]

SCHEMA = "lindiff-verify/agreement/1"
_PACKAGES = ("numpy", "scipy", "sympy", "mpmath", "array-api-compat", "hypothesis", "matplotlib", "jinja2", "cupy-cuda12x")


def _git_commit() -> str:
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(ctx: Context) -> dict:
    pk = {}
    for name in _PACKAGES:
        try:
            pk[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {
        "version": __version__,
        "git_commit": _git_commit(),
        "seed": ctx.seed,
        "fidelity": ctx.fidelity,
        "backend": ctx.backend,
        "dps": ctx.dps,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": pk,
    }


def _finite(x):
    """JSON-safe float (inf/nan become strings)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else str(x)


def _jsonable(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, float):
        return _finite(v)
    if isinstance(v, complex):
        return {"re": _finite(v.real), "im": _finite(v.imag)}
    if isinstance(v, (list, tuple)):
        return [_jsonable(u) for u in v]
    if isinstance(v, np.ndarray):
        return [_jsonable(u) for u in v.tolist()]
    if isinstance(v, dict):
        return {str(k): _jsonable(u) for k, u in v.items()}
    if isinstance(v, (str, int, bool)) or v is None:
        return v
    if isinstance(v, (mpmath.mpf,)):
        return _finite(float(v))
    return str(v)


#: per-case detail kept in the record (the report shows it one click away); the summary covers all cases
MAX_CASES_RECORDED = 200


def _ratio(c) -> float:
    e, t = c.abs_error, float(c.tolerance)
    return e / t if t > 0 else (0.0 if e == 0 else float("inf"))


def _bias_split(c) -> dict:
    """The tolerance split into its deterministic-bias bound and its statistical (or rounding) part."""
    if c.bias_bound is None:
        return {}
    b = float(c.bias_bound)
    return {"bias_bound": _finite(b), "statistical_tolerance": _finite(max(float(c.tolerance) - b, 0.0))}


def _case_record(c) -> dict:
    return {"params": _jsonable(c.params), "value": _jsonable(c.value), "reference": _jsonable(c.reference),
            "abs_error": _finite(c.abs_error), "tolerance": _finite(c.tolerance), "ratio": _finite(_ratio(c)),
            "ok": bool(c.ok), **_bias_split(c)}


def _summarize_outcome(out: Outcome) -> dict:
    errs = [c.abs_error for c in out.cases]
    rels = [c.rel_error for c in out.cases]
    worst = out.worst
    ratios = [(e / float(c.tolerance)) if float(c.tolerance) > 0 else (0.0 if e == 0 else float("inf"))
              for e, c in zip(errs, out.cases, strict=True)]
    return {
        "verdict": out.verdict,
        "cases": len(out.cases),
        "failed_cases": sum(not c.ok for c in out.cases),
        "unsampled": out.unsampled,
        "max_abs_error": _finite(max(errs)) if errs else None,
        "max_rel_error": _finite(max(rels)) if rels else None,
        "tolerance": _finite(worst.tolerance) if worst else None,
        "max_error_ratio": _finite(max(ratios)) if ratios else None,
        "worst_case": None
        if worst is None
        else {
            "params": _jsonable(worst.params),
            "value": _jsonable(worst.value),
            "reference": _jsonable(worst.reference),
            "abs_error": _finite(worst.abs_error),
            "tolerance": _finite(worst.tolerance),
            "ratio": _finite(_ratio(worst)),
            **_bias_split(worst),
        },
        "case_list": [_case_record(c) for c in out.cases[:MAX_CASES_RECORDED]],
        "measurements": _jsonable(out.measurements),
        "inconclusive_reason": out.inconclusive_reason,
    }


def _guarded(fn, ctx):
    """Run fn at the context's working precision; mpmath precision is restored afterwards."""
    saved = mpmath.mp.dps
    try:
        with mpmath.workdps(ctx.dps):
            return fn()
    finally:
        mpmath.mp.dps = saved


def run_check(d: Derivation, check, ctx: Context, statements: dict[str, dict]) -> dict[str, dict]:
    """Run one check on several statements (``{"claim": ..., mutant name: ...}``), sharing its reference."""
    cctx = ctx.scoped(d.id, check.name)
    first_seed = len(cctx.seeds_used)  # the streams this check draws from, shared caches included
    first_paths = len(cctx.paths_used)
    t0 = time.perf_counter()
    results: dict[str, dict] = {}
    try:
        ref = _guarded(lambda: check.reference(cctx), cctx) if check.reference else None
    except Exception as exc:  # a failing reference is an error of the check, reported as such
        msg = f"{type(exc).__name__}: {exc}"
        tb = traceback.format_exc(limit=6)
        for key in statements:
            results[key] = {"verdict": "error", "error": msg, "traceback": tb, "cases": 0}
        results["claim"]["seconds"] = time.perf_counter() - t0
        return results
    t_ref = time.perf_counter() - t0
    for key, st in statements.items():
        t1 = time.perf_counter()
        try:
            out = as_outcome(_guarded(lambda st=st: check.compare(st, ref, cctx), cctx))
            res = _summarize_outcome(out)
            if out.tolerance_model:
                res["tolerance_model"] = out.tolerance_model
            if (key == "claim" and res["verdict"] == "disagree" and check.strategy is not None
                    and check.case is not None):  # mutants are meant to fail: no shrinking for them
                res["minimal_failing_case"] = _shrink(check, st, cctx)
        except Exception as exc:
            res = {"verdict": "error", "error": f"{type(exc).__name__}: {exc}", "cases": 0,
                   "traceback": traceback.format_exc(limit=6)}
        res["seconds"] = round(time.perf_counter() - t1 + (t_ref if key == "claim" else 0.0), 4)
        results[key] = res
    results["claim"]["seeds"] = cctx.seeds_used[first_seed:]
    results["claim"].update(_ran_on(cctx, cctx.paths_used[first_paths:]))
    if results["claim"].get("paths") and isinstance(results["claim"].get("measurements"), dict):
        results["claim"]["measurements"]["Monte Carlo samples (where)"] = "; ".join(
            f"{p['what'].split('/')[-1]}: {p['paths']:,} on {p['backend']} ({p['device']})" for p in results["claim"]["paths"])
    return results


def _ran_on(ctx: Context, paths: list) -> dict:
    """Backend and device of the check, and the Monte Carlo sample sizes it drew (``ctx.paths``)."""
    out = {"backend": ctx.backend, "device": ctx.device}
    if paths:
        out["paths"] = paths
        out["total_paths"] = sum(p["paths"] for p in paths)
    return out


def _shrink(check, statement, ctx) -> dict | None:
    """Smallest failing parameters found by Hypothesis (derandomised, bounded effort). Hypothesis is a
    test-only dependency: without it the record says shrinking was unavailable. ``check.strategy`` is a
    Hypothesis strategy or a function returning one (so a derivation need not import Hypothesis)."""
    try:
        from hypothesis import HealthCheck, find, settings
        from hypothesis.errors import NoSuchExample
        from hypothesis.strategies import SearchStrategy
    except ImportError:
        return {"unavailable": "Hypothesis is not installed (pip install hypothesis): no shrinking"}
    strategy = check.strategy
    if callable(strategy) and not isinstance(strategy, SearchStrategy):
        strategy = strategy()

    def fails(params):
        try:
            return not _guarded(lambda: check.case(statement, params, ctx), ctx).ok
        except Exception:
            return False

    try:
        params = find(strategy, fails, settings=settings(max_examples=200, derandomize=True, database=None,
                                                              deadline=None, suppress_health_check=list(HealthCheck)))
    except NoSuchExample:
        return None
    except Exception as exc:  # shrinking is diagnostic only
        return {"error": f"{type(exc).__name__}: {exc}"}
    c = _guarded(lambda: check.case(statement, params, ctx), ctx)
    return {"params": _jsonable(params), "value": _jsonable(c.value), "reference": _jsonable(c.reference),
            "abs_error": _finite(c.abs_error), "tolerance": _finite(c.tolerance)}


def derivation_verdict(check_verdicts: Sequence[str]) -> str:
    if any(v == "error" for v in check_verdicts):
        return "error"
    if any(v == "disagree" for v in check_verdicts):
        return "disagree"
    if check_verdicts and all(v == "agree" for v in check_verdicts):
        return "agree"
    return "inconclusive"


def run_derivation(d: Derivation, ctx: Context, *, mutants: bool = True) -> dict:
    t0 = time.perf_counter()
    statements = {"claim": d.statement}
    mutant_errors = {}
    if mutants:
        for m in d.mutants:
            try:
                statements[m.name] = d.mutated(m)
            except Exception as exc:
                mutant_errors[m.name] = f"{type(exc).__name__}: {exc}"
    per_check = [(c, run_check(d, c, ctx, statements)) for c in d.checks]
    checks = []
    for c, res in per_check:
        r = res["claim"]
        checks.append({"name": c.name, "method": c.method, "error_model": c.error_model,
                       "description": c.description, "detects": getattr(c, "detects", ""), **r})
    mut = []
    if mutants:
        for m in d.mutants:
            killed_by = [c.name for c, res in per_check if res.get(m.name, {}).get("verdict") == "disagree"]
            entry = {"name": m.name, "description": m.description, "killed": bool(killed_by), "killed_by": killed_by,
                     "checks": {c.name: {k: res[m.name].get(k) for k in ("verdict", "max_abs_error", "max_rel_error", "error")}
                                for c, res in per_check if m.name in res}}
            if m.name in mutant_errors:
                entry["error"] = mutant_errors[m.name]
            mut.append(entry)
    verdict = derivation_verdict([c["verdict"] for c in checks])
    return {
        "id": d.id,
        "title": d.title,
        "paper_ref": str(d.paper_ref),
        "section": d.section,
        "claim_kind": d.claim_kind,
        "regime": d.regime,
        "schedule": d.schedule,
        "assumptions": list(d.assumptions),
        "variables": [{"symbol": str(v.symbol), "meaning": v.meaning, "domain": v.domain} for v in d.variables],
        "statement": {k: str(v) for k, v in d.statement.items()},
        "notes": d.notes,
        "source": d.source,
        "verdict": verdict,
        "checks": checks,
        "mutants": mut,
        "seconds": round(time.perf_counter() - t0, 3),
    }


def error_record(d: Derivation, exc: BaseException) -> dict:
    return {"id": d.id, "title": d.title, "paper_ref": str(d.paper_ref), "section": d.section,
            "claim_kind": d.claim_kind, "schedule": d.schedule, "verdict": "error", "error": f"{type(exc).__name__}: {exc}",
            "checks": [], "mutants": []}


def exit_status(result: dict) -> int:
    """CLI exit status: 0 when every derivation agrees and every mutant is killed (and, in a report, every
    figure rendered); 1 otherwise — a disagreement, an error, an inconclusive verdict or a surviving mutant."""
    s = result["summary"]
    bad = s["disagree"] or s["error"] or s["inconclusive"] or s["mutants_killed"] < s["mutants"]
    return 1 if bad or s.get("figure_errors") else 0


def summarize(records: Sequence[dict]) -> dict:
    s = {"derivations": len(records), "agree": 0, "disagree": 0, "inconclusive": 0, "error": 0,
         "mutants": 0, "mutants_killed": 0, "checks": 0}
    for r in records:
        s[r["verdict"]] += 1
        s["mutants"] += len(r["mutants"])
        s["mutants_killed"] += sum(m["killed"] for m in r["mutants"])
        s["checks"] += len(r["checks"])
    return s


def run(derivations: Sequence[Derivation], ctx: Context, *, progress: Callable[[str, int, int], None] | None = None,
        mutants: bool = True, engine=None) -> dict:
    """Run every derivation; one raising an error becomes an ``error`` record, the others still run.
    ``engine`` (``execution.make_engine``): local joblib workers or a Dask cluster; default this process."""
    t0 = time.perf_counter()
    records = []
    if engine is not None and engine.kind != "serial":
        from .execution import run_records

        records = run_records(derivations, ctx, engine, mutants=mutants, progress=progress)
    else:
        for i, d in enumerate(derivations):
            if progress:
                progress(d.id, i, len(derivations))
            try:
                records.append(run_derivation(d, ctx, mutants=mutants))
            except Exception as exc:
                records.append(error_record(d, exc))
    if progress:
        progress("", len(derivations), len(derivations))
    prov = provenance(ctx)
    if engine is not None:
        prov["execution"] = engine.describe()
    return {
        "schema": SCHEMA,
        "provenance": {**prov, "seconds": round(time.perf_counter() - t0, 3),
                       "schedules": {d.id: d.schedule for d in derivations}},
        "derivations": records,
        "summary": summarize(records),
    }
