"""Run derivations and write the HTML report and its JSON twin (``lindiff-verify report``).

``collect`` runs the checks (serially, or across derivations with joblib: workers re-discover the
derivations by id from the same paths, nothing is pickled but ids and paths) and renders figures;
``build_report`` renders ``index.html`` and ``agreement.json`` in memory and only then replaces the old
files atomically (temporary file in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..verification.context import FIDELITIES, Context
from ..model.errors import InputError
from ..verification.execution import Engine, TaskFailed, resolve_scheduler
from ..verification.registry import Derivation, Registry, discover
from ..verification.limits import TimeLimitExceeded, time_limit
from ..verification.record import AgreementRecord, jsonable
from ..verification.runner import SCHEMA, error_record, provenance, run_derivation, summarize
from ..verification.runner import exit_status as runner_exit_status
from .atomic import write_text_atomic
from .figures import qualified_name, render_figure

__all__ = ["discover_tolerant", "collect", "build_report", "write_atomic", "exit_status", "ReportData", "HTML_NAME", "JSON_NAME"]

HTML_NAME = "index.html"
JSON_NAME = "agreement.json"


@dataclass
class ReportData:
    """The agreement record (JSON) and what only the page needs (MathML, figure images), by derivation id."""

    record: AgreementRecord
    views: dict = field(default_factory=dict)


def _view(d: Derivation) -> dict:
    """MathML of the statement, its named pieces and the variables (computed where the Derivation lives)."""
    from .mathml import latex_of, to_mathml

    def safe(expr, display="block"):
        try:
            return str(to_mathml(expr, display=display))
        except Exception as exc:  # printing must never sink a report
            return str(to_mathml(f"(cannot print: {type(exc).__name__})", display=display))

    try:
        eqs = d.display_equations()
    except Exception:
        eqs = list(d.statement.values())
    return {
        "display": [safe(e) for e in eqs],
        "display_latex": [_try(lambda e=e: latex_of(e)) for e in eqs],
        "statement": [(k, safe(v, "inline")) for k, v in d.statement.items()],
        "variables": [safe(v.symbol, "inline") for v in d.variables],
    }


def _try(fn):
    try:
        return fn()
    except Exception:
        return None


class DerivationTimeout(TimeLimitExceeded):
    """A derivation (or figure) ran past ``--timeout``; a BaseException so that no check swallows it."""


def _time_limit(seconds: float | None, what: str):
    return time_limit(seconds, what, hint="--timeout", exc_type=DerivationTimeout)


def _one(d: Derivation, seed: int, fidelity: str, backend: str, figures: bool,
         timeout: float | None = None) -> tuple[dict, dict]:
    """Run one derivation (checks, mutants, figures): its JSON record and its page view."""
    ctx = Context(seed=seed, fidelity=fidelity, backend=backend)
    try:
        with _time_limit(timeout, d.id):
            rec = run_derivation(d, ctx)
    except (Exception, DerivationTimeout) as exc:
        rec = error_record(d, exc)
    view = _try(lambda: _view(d)) or {"display": [], "statement": [], "variables": []}
    metas, uris = [], []
    for f in (getattr(d, "figures", ()) or ()) if figures else ():
        try:
            with _time_limit(timeout, f"{d.id} figure {f.name!r}"):
                m, u = render_figure(d, f, ctx)
        except DerivationTimeout as exc:
            m = {"name": f.name, "title": f.title, "caption": f.caption, "function": qualified_name(f.make),
                 "seed": seed, "format": None, "error": f"{type(exc).__name__}: {exc}", "streams": []}
            u = None
        metas.append(m)
        uris.append(u)
    rec["figures"] = metas
    rec["statement_latex"] = view.get("display_latex") or []
    view["figure_uris"] = uris
    return rec, view


_WORKER_REGISTRY: dict = {}


def _worker(did: str, paths: tuple[str, ...], include_builtin: bool, seed: int, fidelity: str, backend: str,
            figures: bool, timeout: float | None = None):
    """joblib task: re-discover the derivations from the same paths (cached per worker), run one by id."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    key = (paths, include_builtin)
    if key not in _WORKER_REGISTRY:
        _WORKER_REGISTRY[key] = discover_tolerant(paths, include_builtin=include_builtin)[0]
    rec, view = _one(_WORKER_REGISTRY[key][did], seed, fidelity, backend, figures, timeout)
    return did, rec, view


def discover_tolerant(extra_paths: Sequence[str | os.PathLike] = (), *, include_builtin: bool = True
                      ) -> tuple[Registry, list[dict]]:
    """``registry.discover``, but a file that fails to import becomes a load error (file, error) instead of
    sinking every other derivation. Duplicate ids are still an InputError."""
    errors: list[dict] = []
    return discover(extra_paths, include_builtin=include_builtin, load_errors=errors), errors


def _load_error_record(err: dict) -> dict:
    stem = Path(err["file"]).stem
    return {"id": f"load:{stem}", "title": f"{Path(err['file']).name} failed to load", "paper_ref": "",
            "section": "X", "claim_kind": "exact", "verdict": "error", "error": err["error"],
            "traceback": err["traceback"], "source": err["file"], "checks": [], "mutants": [], "figures": []}


def collect(ids: Sequence[str] | None = None, *, seed: int = 0, fidelity: str = "quick", backend: str = "numpy",
            derivation_paths: Sequence[str | os.PathLike] = (), jobs: int | None = None, progress: bool = True,
            figures: bool = True, include_builtin: bool = True, timeout: float | None = None,
            scheduler: str | None = None) -> ReportData:
    """Run the selected derivations (all when ``ids`` is empty) and render their figures.
    ``scheduler`` (or $LINDIFF_VERIFY_SCHEDULER): run each derivation as a task on that Dask cluster."""
    ctx = Context(seed=seed, fidelity=fidelity, backend=backend)  # validates seed, fidelity, backend names
    if backend != "numpy":
        ctx.xp  # noqa: B018 — raises InputError now if the backend cannot be used here
    scheduler = resolve_scheduler(scheduler)
    if jobs is None:
        jobs = (os.cpu_count() or 1) if fidelity == "full" else 1
    if not isinstance(jobs, int) or jobs < 1:
        raise InputError("jobs", f"is {jobs!r}", "an integer ≥ 1")
    if timeout is not None and not (timeout >= 0 and math.isfinite(timeout)):
        raise InputError("timeout", f"is {timeout!r}", "seconds ≥ 0 (0: no limit)")
    paths = tuple(str(Path(p).resolve()) for p in derivation_paths)
    reg, load_errors = discover_tolerant(paths, include_builtin=include_builtin)
    try:
        selected = reg.select(list(ids) if ids else None)
    except InputError as exc:
        if load_errors:
            why = "; ".join(f"{Path(e['file']).name}: {e['error']}" for e in load_errors)
            raise InputError(exc.parameter, f"{exc.problem} (files that failed to load: {why})", exc.allowed) from exc
        raise
    if ids and load_errors and progress:
        for e in load_errors:
            print(f"warning: {e['file']} failed to load: {e['error']}", file=sys.stderr)
    jobs = min(jobs, max(len(selected), 1))

    from tqdm import tqdm

    bar = tqdm(total=len(selected), desc="report", unit="derivation", file=sys.stderr, disable=not progress,
               dynamic_ncols=True)
    t0 = time.perf_counter()
    results: dict[str, tuple[dict, dict]] = {}
    execution = None  # where it ran, recorded for a cluster run (a local run records ``jobs``)
    try:
        if scheduler:
            engine = Engine("dask", scheduler=scheduler)
            try:
                args = [(d.id, paths, include_builtin, seed, fidelity, backend, figures, timeout) for d in selected]
                for i, out in engine.imap(_worker, args):
                    d = selected[i]
                    if isinstance(out, TaskFailed):  # a worker died repeatedly: an error card, never a gap
                        rec = {**error_record(d, RuntimeError(out.error)), "figures": []}
                        out = (d.id, rec, {"display": [], "statement": [], "variables": [], "figure_uris": []})
                    results[d.id] = out[1:]
                    bar.set_postfix_str(d.id)
                    bar.update()
                execution = engine.describe()
            finally:
                engine.close()
        elif jobs == 1:
            for d in selected:
                bar.set_postfix_str(d.id)
                results[d.id] = _one(d, seed, fidelity, backend, figures, timeout)
                bar.update()
        else:
            from joblib import Parallel, delayed

            os.environ.setdefault("MPLBACKEND", "Agg")
            tasks = (delayed(_worker)(d.id, paths, include_builtin, seed, fidelity, backend, figures, timeout) for d in selected)
            for did, rec, view in Parallel(n_jobs=jobs, return_as="generator_unordered")(tasks):
                results[did] = (rec, view)
                bar.set_postfix_str(did)
                bar.update()
    finally:
        bar.close()
    records = [results[d.id][0] for d in selected]
    if not ids:  # a file that does not import is an error of the whole run: show it as a card
        records += [_load_error_record(e) for e in load_errors]
    views = {d.id: results[d.id][1] for d in selected}
    summary = summarize(records)
    figs = [f for r in records for f in r.get("figures", [])]
    summary["figures"] = len(figs)
    summary["figure_errors"] = sum(1 for f in figs if f.get("error"))
    prov = provenance(ctx)
    prov.update({"seconds": round(time.perf_counter() - t0, 3), "jobs": jobs, "timeout": timeout or None,
                 "generated": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
                 "derivation_paths": list(paths), "include_builtin": include_builtin,
                 "load_errors": [{"file": e["file"], "error": e["error"]} for e in load_errors]})
    if execution:
        prov["execution"] = execution
    record = {"schema": SCHEMA, "provenance": prov, "derivations": records, "summary": summary}
    return ReportData(jsonable(record), views)


#: same rule as ``check``; a figure that failed to render also counts (summary.figure_errors)
exit_status = runner_exit_status
#: the page and its JSON twin are written atomically (temporary file, then os.replace)
write_atomic = write_text_atomic


def build_report(ids: Sequence[str] | None = None, out: str | os.PathLike = "reports", *, seed: int = 0,
                 fidelity: str = "quick", backend: str = "numpy", derivation_paths: Sequence[str | os.PathLike] = (),
                 jobs: int | None = None, progress: bool = True, figures: bool = True,
                 include_builtin: bool = True, timeout: float | None = None, scheduler: str | None = None) -> dict:
    """Run, render and write ``out/index.html`` and ``out/agreement.json``; returns the agreement record."""
    if fidelity not in FIDELITIES:
        raise InputError("fidelity", f"is {fidelity!r}", ", ".join(FIDELITIES))
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("out", f"{str(out)!r} is a file", "a folder (created if missing)")
    data = collect(ids, seed=seed, fidelity=fidelity, backend=backend, derivation_paths=derivation_paths,
                   jobs=jobs, progress=progress, figures=figures, include_builtin=include_builtin, timeout=timeout,
                   scheduler=scheduler)
    from .render import render_html

    page = render_html(data)  # everything is rendered before anything is written
    doc = json.dumps(data.record, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / JSON_NAME, doc)
    write_atomic(out / HTML_NAME, page)
    return data.record

