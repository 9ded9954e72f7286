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
from ..verification.execution import Engine, TaskFailed, keep_worker_alive, resolve_scheduler
from ..verification.registry import Derivation, Registry, discover
from ..verification.limits import TimeLimitExceeded, time_limit
from ..verification.record import AgreementRecord, jsonable
from ..verification.runner import SCHEMA, error_record, provenance, run_derivation, summarize
from ..verification.runner import exit_status as runner_exit_status
from .atomic import check_writable, write_text_atomic
from .figures import qualified_name, render_figure

__all__ = ["discover_strict", "collect", "build_report", "write_atomic", "exit_status", "ReportData", "HTML_NAME", "JSON_NAME"]

HTML_NAME = "index.html"
JSON_NAME = "agreement.json"


@dataclass
class ReportData:
    """The agreement record (JSON) and what only the page needs (MathML, figure images), by derivation id."""

    record: AgreementRecord
    views: dict = field(default_factory=dict)


def _view(d: Derivation) -> dict:
    """MathML of the statement, its named pieces and the variables (computed where the Derivation lives)."""
    import sympy

    from .mathml import latex_of, lhs_for, to_mathml

    def safe(expr, display="block", lhs=None):
        try:
            return str(to_mathml(expr, display=display, lhs_tex=lhs))
        except Exception as exc:  # printing must never sink a report
            return str(to_mathml(f"(cannot print: {type(exc).__name__})", display=display))

    try:
        eqs = d.display_equations()
    except Exception:
        eqs = list(d.statement.values())
    # every displayed statement is an equation: a bare right-hand side gets the left-hand side its
    # statement key names (the i-th entry when display and statement match one to one)
    keys = list(d.statement)
    lhs = []
    for i, e in enumerate(eqs):
        if isinstance(e, sympy.core.relational.Relational) or isinstance(e, str):
            lhs.append(None)
            continue
        key = keys[i] if len(eqs) == len(keys) else (keys[0] if len(keys) == 1 else None)
        lhs.append(_try(lambda key=key: lhs_for(key, d.title)))
    return {
        "display": [safe(e, lhs=h) for e, h in zip(eqs, lhs, strict=True)],
        "display_latex": [_try(lambda e=e, h=h: (f"{h} = " if h else "") + latex_of(e)) for e, h in zip(eqs, lhs, strict=True)],
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
    keep_worker_alive()
    key = (paths, include_builtin)
    if key not in _WORKER_REGISTRY:
        _WORKER_REGISTRY[key] = discover_strict(paths, include_builtin=include_builtin)
    rec, view = _one(_WORKER_REGISTRY[key][did], seed, fidelity, backend, figures, timeout)
    return did, rec, view


def discover_strict(extra_paths: Sequence[str | os.PathLike] = (), *, include_builtin: bool = True) -> Registry:
    """``registry.discover``: a file that fails to import, a duplicate id or a path that is not a folder or
    a ``.py`` file is an InputError naming the file (the report, like ``list`` and ``check``, exits 2)."""
    return discover(extra_paths, include_builtin=include_builtin)


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
        jobs = os.cpu_count() or 1  # numbers do not depend on it: every stream is seeded by derivation and check
    if not isinstance(jobs, int) or jobs < 1:
        raise InputError("jobs", f"is {jobs!r}", "an integer ≥ 1")
    if timeout is not None and not (timeout >= 0 and math.isfinite(timeout)):
        raise InputError("timeout", f"is {timeout!r}", "seconds ≥ 0 (0: no limit)")
    paths = tuple(str(Path(p).resolve()) for p in derivation_paths)
    t_disc = time.perf_counter()
    selected = discover_strict(paths, include_builtin=include_builtin).select(list(ids) if ids else None)
    t_disc = time.perf_counter() - t_disc
    if not selected:
        raise InputError("derivations", "none found (the built-in ones are excluded and no other path was given)",
                         "at least one derivation: drop --no-builtin or add --derivations PATH")
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
    views = {d.id: results[d.id][1] for d in selected}
    summary = summarize(records)
    figs = [f for r in records for f in r.get("figures", [])]
    summary["figures"] = len(figs)
    summary["figure_errors"] = sum(1 for f in figs if f.get("error"))
    prov = provenance(ctx)
    prov.update({"seconds": round(time.perf_counter() - t0, 3), "jobs": jobs, "timeout": timeout or None,
                 "generated": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
                 "derivation_paths": list(paths), "include_builtin": include_builtin,
                 "profile": {"discovery": round(t_disc, 4)}})
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
    out = check_writable(out, "out", folder=True)  # refused before any check runs
    data = collect(ids, seed=seed, fidelity=fidelity, backend=backend, derivation_paths=derivation_paths,
                   jobs=jobs, progress=progress, figures=figures, include_builtin=include_builtin, timeout=timeout,
                   scheduler=scheduler)
    from .render import render_html

    t0 = time.perf_counter()
    page = render_html(data)  # everything is rendered before anything is written
    t1 = time.perf_counter()
    prof = data.record["provenance"].setdefault("profile", {})
    prof["rendering"] = round(t1 - t0, 4)
    doc = json.dumps(data.record, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    prof["writing"] = round(time.perf_counter() - t1, 4)  # serialising the record (the writes follow)
    doc = json.dumps(data.record, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / JSON_NAME, doc)
    write_atomic(out / HTML_NAME, page)
    return data.record

