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
from .execution import TaskFailed
from .record import SCHEMA, AgreementRecord, CheckRecord, DerivationRecord, MutantRecord, Summary, finite, jsonable
from .registry import Derivation, Outcome

__all__ = ["detection_threshold", "is_statistical", "SCHEMA", "exit_status", "run_check", "run_derivation", "run", "provenance", "summarize", "derivation_verdict"]

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


#: per-case detail kept in the record (the report shows it one click away); the summary covers all cases
MAX_CASES_RECORDED = 200


def _bias_split(c) -> dict:
    """The tolerance split into its deterministic-bias bound and its statistical (or rounding) part."""
    b = c.bias
    if b is None:
        return {}
    return {"bias_bound": finite(b), "statistical_tolerance": finite(max(float(c.tolerance) - b, 0.0))}


def _case_record(c) -> dict:
    return {"params": jsonable(c.params), "value": jsonable(c.value), "reference": jsonable(c.reference),
            "abs_error": finite(c.abs_error), "tolerance": finite(c.tolerance), "ratio": finite(c.error_ratio),
            "ok": bool(c.ok), **_bias_split(c)}


def _summarize_outcome(out: Outcome) -> CheckRecord:
    cases = out.judged
    errs = [c.abs_error for c in cases]
    rels = [c.rel_error for c in cases]
    worst = out.worst
    ratios = [c.error_ratio for c in cases]
    return {
        "verdict": out.verdict,
        "cases": len(out.cases),
        "failed_cases": sum(not c.ok for c in cases),
        "unsampled": out.unsampled,
        "max_abs_error": finite(max(errs)) if errs else None,
        "max_rel_error": finite(max(rels)) if rels else None,
        "tolerance": finite(worst.tolerance) if worst else None,
        "max_error_ratio": finite(max(ratios)) if ratios else None,
        "worst_case": None
        if worst is None
        else {
            "params": jsonable(worst.params),
            "value": jsonable(worst.value),
            "reference": jsonable(worst.reference),
            "abs_error": finite(worst.abs_error),
            "tolerance": finite(worst.tolerance),
            "ratio": finite(worst.error_ratio),
            **_bias_split(worst),
        },
        "case_list": [_case_record(c) for c in cases[:MAX_CASES_RECORDED]],
        "measurements": jsonable(out.measurements),
        "inconclusive_reason": out.inconclusive_reason,
        "tolerance_model": out.tolerance_model,
    }


def _guarded(fn, ctx):
    """Run fn at the context's working precision; mpmath precision is restored afterwards."""
    saved = mpmath.mp.dps
    try:
        with mpmath.workdps(ctx.dps):
            return fn()
    finally:
        mpmath.mp.dps = saved


#: key of the claim in :func:`run_check`'s statements; mutants are keyed ``"mutant:<id>"`` (no collision)
CLAIM = "claim"


def context_text(text: str, ctx: Context) -> str:
    """A check's name or description with ``{dps}``, ``{fidelity}`` and ``{seed}`` filled in from the run."""
    for key, val in (("{dps}", ctx.dps), ("{fidelity}", ctx.fidelity), ("{seed}", ctx.seed)):
        text = text.replace(key, str(val))
    return text


def mutant_key(mutant) -> str:
    return f"mutant:{mutant.id}"


def is_statistical(method: str, *texts: str) -> bool:
    """A Monte Carlo check, or one whose reference is extrapolated in the size (named in its texts)."""
    text = " ".join(t or "" for t in texts).lower()
    return method == "montecarlo" or "extrapolat" in text or "richardson" in text


def run_check(d: Derivation, check, ctx: Context, statements: dict[str, dict], *,
              thresholds: bool | str = True) -> dict[str, CheckRecord]:
    """Run one check on several statements (``{CLAIM: ..., mutant_key(m): ...}``), sharing its reference.

    With ``thresholds`` (True, or "statistical": only for :func:`is_statistical` checks), a numeric check
    that agrees also records its detection threshold (:func:`detection_threshold`)."""
    cctx = ctx.scoped(d.id, check.id)  # random streams follow the stable id, not the title
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
        results[CLAIM]["seconds"] = time.perf_counter() - t0
        return results
    t_ref = time.perf_counter() - t0
    for key, st in statements.items():
        t1 = time.perf_counter()
        try:
            out = as_outcome(_guarded(lambda st=st: check.compare(st, ref, cctx), cctx))
            res = _summarize_outcome(out)
            if not res["tolerance_model"]:
                del res["tolerance_model"]
            wanted = thresholds is True or (thresholds == "statistical" and is_statistical(
                check.method, check.name, check.error_model, out.tolerance_model))
            if (key == CLAIM and wanted and check.method != "symbolic" and res["verdict"] == "agree"
                    and check.relative_threshold):
                res.update(detection_threshold(check, st, ref, cctx, out))
            if (key == CLAIM and res["verdict"] == "disagree" and check.case is not None
                    and (check.strategy is not None or check.domain)):  # mutants are meant to fail: not shrunk
                res["minimal_failing_case"] = _shrink(check, st, cctx)
        except Exception as exc:
            res = {"verdict": "error", "error": f"{type(exc).__name__}: {exc}", "cases": 0,
                   "traceback": traceback.format_exc(limit=6)}
        res["seconds"] = round(time.perf_counter() - t1 + (t_ref if key == CLAIM else 0.0), 4)
        results[key] = res
    results[CLAIM]["seeds"] = cctx.seeds_used[first_seed:]
    results[CLAIM].update(_ran_on(cctx, cctx.paths_used[first_paths:]))
    if results[CLAIM].get("paths") and isinstance(results[CLAIM].get("measurements"), dict):
        results[CLAIM]["measurements"]["Monte Carlo samples (where)"] = "; ".join(
            f"{p['what'].split('/')[-1]}: {p['paths']:,} on {p['backend']} ({p['device']})" for p in results[CLAIM]["paths"])
    return results


def _ran_on(ctx: Context, paths: list) -> dict:
    """Backend and device of the check, and the Monte Carlo sample sizes it drew (``ctx.paths``)."""
    out = {"backend": ctx.backend, "device": ctx.device}
    if paths:
        out["paths"] = paths
        out["total_paths"] = sum(p["paths"] for p in paths)
    return out


#: relative perturbations searched by :func:`detection_threshold`, and the resolution of the bisection
_EPS_RANGE, _EPS_RESOLUTION = (1e-30, 1.0), 1.05


def _scaled(statement: dict, factor) -> dict:
    return {k: v * factor for k, v in statement.items()}


def _first_guess(outcome: Outcome) -> float:
    """ε at which the tightest case would reject if its value scaled with the claim: min (tol − |Δ|)/|value|."""
    guesses = []
    for c in outcome.cases:
        try:
            v = abs(complex(c.value))
        except (TypeError, ValueError):
            continue
        if v > 0 and math.isfinite(v):
            guesses.append(max(float(c.tolerance) - c.abs_error, 0.0) / v)
    g = min(guesses, default=0.0)
    return min(max(g, _EPS_RANGE[0]), _EPS_RANGE[1])


def _linear_prediction(outcome: Outcome, sign: int) -> float | None:
    """ε at which the claim × (1 + sign·ε) is first rejected if every compared value scales with the claim:
    case by case |Δ + sign·ε·v| > tol, i.e. ε = (tol ∓ |Δ|)/|v| as the shift moves towards or away from the
    reference (|Δ| is the case's own error, kept at the working precision). None when no real, finite,
    non-zero value is compared, or the direction of a non-negligible Δ is lost in the float values."""
    best = None
    for c in outcome.cases:
        try:
            v, r, err, tol = float(c.value), float(c.reference), c.abs_error, float(c.tolerance)
        except (TypeError, ValueError):
            continue
        if not (v and math.isfinite(v) and math.isfinite(r) and math.isfinite(err)):
            continue
        if abs(v - r) >= 0.5 * err and v != r:
            away = (v > r) == (sign * v > 0)
        elif err <= 0.01 * tol:  # Δ negligible: either direction gives tol/|v| to within 1 %
            away = True
        else:
            return None
        eps = (tol - err) / abs(v) if away else (tol + err) / abs(v)
        if eps > 0 and (best is None or eps < best):
            best = eps
    return best


def detection_threshold(check, statement, ref, ctx, outcome: Outcome) -> dict:
    """The smallest relative error of the claim that the check rejects, on its already-computed reference.

    Every statement entry is multiplied by (1 + ε) and by (1 − ε) and compared again (no new draws);
    ε* is found by bisection on log ε to 5 %, separately per sign, and the larger of the two is recorded:
    errors of either sign of at least ε* are rejected. The search starts from the ε that a claim-proportional
    check predicts (:func:`_linear_prediction`): when it holds, two comparisons (accepted just below it,
    rejected just above) bracket ε* to the 5 % at once; otherwise the bracket widens from there by factors of 4
    (for a check that predicts nothing, from the ε at which the tightest case would reject if its value scaled
    with the claim, or from the other sign's ε*). When no ε ≤ 1 is rejected (the compared values are ~0,
    or the check does not see a common scale), the threshold is absolute instead: the smallest shift of a
    compared value that some case rejects in either direction, min over cases of tol + |Δ|.
    """
    import sympy

    seen: dict[tuple[float, int], bool] = {}

    def rejects(eps: float, sign: int) -> bool:
        if (eps, sign) not in seen:
            factor = 1 + sign * sympy.Rational(eps)  # exact: checks doing rational algebra stay exact
            try:
                out = as_outcome(_guarded(lambda: check.compare(_scaled(statement, factor), ref, ctx), ctx))
                seen[eps, sign] = out.verdict == "disagree"
            except Exception:  # noqa: BLE001 — an error is not a rejection
                seen[eps, sign] = False
        return seen[eps, sign]

    floor, ceiling = _EPS_RANGE
    half = math.sqrt(_EPS_RESOLUTION)

    def search(sign: int, start: float) -> float | None:
        hi = min(max(start * half, floor), ceiling)  # find hi rejected, lo accepted
        while not rejects(hi, sign) and hi < ceiling:
            hi = min(hi * 4, ceiling)
        if not rejects(hi, sign):
            return None
        lo = max(min(start / half, hi / _EPS_RESOLUTION), floor)
        while rejects(lo, sign) and lo > floor:
            hi, lo = lo, max(lo / 4, floor)
        if rejects(lo, sign):  # rejected at the floor already
            return lo
        while hi / lo > _EPS_RESOLUTION * (1 + 1e-12):  # invariant: lo accepted, hi rejected
            mid = math.sqrt(lo * hi)
            if rejects(mid, sign):
                hi = mid
            else:
                lo = mid
        return hi

    guess = _first_guess(outcome)
    per_sign: list[float | None] = []
    linear = True  # whether the claim-proportional prediction held for the first sign
    for sign in (1, -1):
        pred = _linear_prediction(outcome, sign)
        if sign == -1 and per_sign[0] and not linear:
            start = per_sign[0]  # a claim the check sees non-linearly (a solved fixed point): the other sign's ε*
        else:
            start = pred or (per_sign[0] if per_sign and per_sign[0] else guess)
        per_sign.append(search(sign, start))
        if sign == 1 and pred and per_sign[0]:
            linear = abs(math.log(per_sign[0] / pred)) <= math.log(_EPS_RESOLUTION)
    if all(e is not None for e in per_sign):
        return {"detects_relative_error": max(per_sign)}
    shifts = [float(c.tolerance) + c.abs_error for c in outcome.cases]
    return {"detects_relative_error": None, "detects_absolute_error": finite(min(shifts)) if shifts else None}


def _shrink(check, statement, ctx) -> dict | None:
    """Smallest failing parameters found by Hypothesis (derandomised, bounded effort). Hypothesis is a
    test-only dependency, imported only here: without it the record says shrinking was unavailable. The
    strategy is the check's (a strategy, or a function returning one) or inferred from its ``domain``."""
    try:
        from hypothesis import HealthCheck, find, settings
        from hypothesis.errors import NoSuchExample
        from hypothesis.strategies import SearchStrategy
    except ImportError:
        return {"unavailable": "Hypothesis is not installed (pip install hypothesis): no shrinking"}
    strategy = check.shrinking_strategy()
    if strategy is None:
        return {"unavailable": "no Hypothesis strategy could be inferred from the check's domain"}
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
    return {"params": jsonable(params), "value": jsonable(c.value), "reference": jsonable(c.reference),
            "abs_error": finite(c.abs_error), "tolerance": finite(c.tolerance)}


def derivation_verdict(check_verdicts: Sequence[str]) -> str:
    if any(v == "error" for v in check_verdicts):
        return "error"
    if any(v == "disagree" for v in check_verdicts):
        return "disagree"
    if check_verdicts and all(v == "agree" for v in check_verdicts):
        return "agree"
    return "inconclusive"


def run_derivation(d: Derivation, ctx: Context, *, mutants: bool = True,
                   thresholds: bool | str = True) -> DerivationRecord:
    t0 = time.perf_counter()
    statements = {CLAIM: d.statement}
    mutant_errors = {}
    if mutants:
        for m in d.mutants:
            try:
                statements[mutant_key(m)] = d.mutated(m)
            except Exception as exc:
                mutant_errors[m.id] = f"{type(exc).__name__}: {exc}"
    per_check = [(c, run_check(d, c, ctx, statements, thresholds=thresholds)) for c in d.checks]
    name = {c.id: context_text(c.name, ctx) for c in d.checks}
    killed_ids = {m.id: [c.id for c, res in per_check if res.get(mutant_key(m), {}).get("verdict") == "disagree"]
                  for m in d.mutants} if mutants else {}
    power = d.check_power(killed_ids) if mutants else {}
    checks: list[CheckRecord] = []
    for c, res in per_check:
        r = res[CLAIM]
        rec: CheckRecord = {"id": c.id, "name": name[c.id], "method": c.method,
                            "error_model": c.error_model or r.get("tolerance_model"),
                            "description": context_text(c.description, ctx), "detects": c.detects, **r}
        if mutants and d.mutants and not power[c.id] and rec["verdict"] == "agree":
            rec["verdict"], rec["inconclusive_reason"] = "inconclusive", d.POWERLESS
        checks.append(rec)
    mut: list[MutantRecord] = []
    for m in d.mutants if mutants else ():
        key = mutant_key(m)
        killed_by = [name[i] for i in killed_ids[m.id]]
        entry: MutantRecord = {
            "id": m.id, "name": m.name, "description": m.description, "killed": bool(killed_by),
            "killed_by": killed_by,
            "checks": {name[c.id]: {k: res[key].get(k) for k in ("verdict", "max_abs_error", "max_rel_error", "error")}
                       for c, res in per_check if key in res}}
        if m.id in mutant_errors:
            entry["error"] = mutant_errors[m.id]
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
        "variables": [{"symbol": str(v.symbol), "meaning": v.meaning, "domain": v.domain_text} for v in d.variables],
        "statement": {k: str(v) for k, v in d.statement.items()},
        "notes": d.notes,
        "source": d.source,
        "verdict": verdict,
        "checks": checks,
        "mutants": mut,
        "seconds": round(time.perf_counter() - t0, 3),
    }


def error_record(d: Derivation, exc: BaseException) -> DerivationRecord:
    return {"id": d.id, "title": d.title, "paper_ref": str(d.paper_ref), "section": d.section,
            "claim_kind": d.claim_kind, "schedule": d.schedule, "verdict": "error", "error": f"{type(exc).__name__}: {exc}",
            "checks": [], "mutants": []}


def exit_status(result: AgreementRecord) -> int:
    """CLI exit status: 0 when every derivation agrees and every mutant is killed (and, in a report, every
    figure rendered); 1 otherwise — a disagreement, an error, an inconclusive verdict or a surviving mutant."""
    s = result["summary"]
    bad = s["disagree"] or s["error"] or s["inconclusive"] or s["mutants_killed"] < s["mutants"]
    return 1 if bad or s.get("figure_errors") else 0


def summarize(records: Sequence[DerivationRecord]) -> Summary:
    s: Summary = {"derivations": len(records), "agree": 0, "disagree": 0, "inconclusive": 0, "error": 0,
         "mutants": 0, "mutants_killed": 0, "checks": 0}
    for r in records:
        s[r["verdict"]] += 1
        s["mutants"] += len(r["mutants"])
        s["mutants_killed"] += sum(m["killed"] for m in r["mutants"])
        s["checks"] += len(r["checks"])
    thr = sorted(((c["detects_relative_error"], r["id"], c["name"]) for r in records for c in r["checks"]
                  if c.get("detects_relative_error")), reverse=True)
    if thr:  # the distribution of detection thresholds, weakest checks first
        eps = np.array([t[0] for t in thr])
        s["detection"] = {"checks": len(thr), "median": float(np.median(eps)), "p90": float(np.quantile(eps, 0.9)),
                          "weakest": [{"id": i, "check": n, "relative": e} for e, i, n in thr[:8]]}
    return s


def run(derivations: Sequence[Derivation], ctx: Context, *, progress: Callable[[str, int, int], None] | None = None,
        mutants: bool = True, engine=None) -> AgreementRecord:
    """Run every derivation; one raising an error becomes an ``error`` record, the others still run.
    ``engine`` (``execution.make_engine``): local joblib workers or a Dask cluster; default this process."""
    t0 = time.perf_counter()
    records = []
    if engine is not None and engine.kind != "serial":
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


# ----------------------------------------------------------------------------------------------------
# derivations as tasks
# ----------------------------------------------------------------------------------------------------


def derivation_task(source: str, did: str, seed: int, fidelity: str, backend: str, dps: int, mutants: bool) -> dict:
    """One derivation's record, computed wherever this runs: the file is loaded from ``source`` by path."""
    from .registry import _derivations_in, _load_module

    try:
        module = _load_module(Path(source))
    except Exception as exc:
        return TaskFailed(f"{source} failed to load on the worker: {type(exc).__name__}: {exc}")
    d = next((x for x in _derivations_in(module) if x.id == did), None)
    if d is None:
        return TaskFailed(f"{source} defines no derivation {did!r} on the worker")
    if d.source is None:
        d.source = source
    try:
        return run_derivation(d, Context(seed=seed, fidelity=fidelity, backend=backend, dps=dps), mutants=mutants)
    except Exception as exc:
        return error_record(d, exc)


def run_records(derivations: Sequence, ctx, engine, *, mutants: bool = True,
                progress: Callable[[str, int, int], None] | None = None) -> list[dict]:
    """Records of ``derivations`` in their order, each computed as one task of ``engine``.

    A derivation without a source file (built in memory) runs in this process. A task that failed
    (a worker died repeatedly, the cluster went away) becomes an error record saying so."""

    remote = [d for d in derivations if d.source]
    args = [(str(d.source), d.id, ctx.seed, ctx.fidelity, ctx.backend, ctx.dps, mutants) for d in remote]
    records: dict[str, dict] = {}
    done = 0
    for i, rec in engine.imap(derivation_task, args):
        d = remote[i]
        records[d.id] = error_record(d, RuntimeError(rec.error)) if isinstance(rec, TaskFailed) else rec
        done += 1
        if progress:
            progress(d.id, done, len(derivations))
    for d in derivations:
        if d.id not in records:
            try:
                records[d.id] = run_derivation(d, ctx, mutants=mutants)
            except Exception as exc:
                records[d.id] = error_record(d, exc)
            done += 1
            if progress:
                progress(d.id, done, len(derivations))
    return [records[d.id] for d in derivations]
