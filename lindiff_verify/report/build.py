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
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..context import FIDELITIES, Context
from ..errors import InputError
from ..registry import SECTIONS, Derivation, discover
from ..runner import SCHEMA, error_record, provenance, run_derivation, summarize
from .figures import render_figures

__all__ = ["collect", "build_report", "write_atomic", "exit_status", "ReportData", "HTML_NAME", "JSON_NAME"]

HTML_NAME = "index.html"
JSON_NAME = "agreement.json"


@dataclass
class ReportData:
    """The agreement record (JSON) and what only the page needs (MathML, figure images), by derivation id."""

    record: dict
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


def _one(d: Derivation, seed: int, fidelity: str, backend: str, figures: bool) -> tuple[dict, dict]:
    """Run one derivation (checks, mutants, figures): its JSON record and its page view."""
    ctx = Context(seed=seed, fidelity=fidelity, backend=backend)
    try:
        rec = run_derivation(d, ctx)
    except Exception as exc:
        rec = error_record(d, exc)
    view = _try(lambda: _view(d)) or {"display": [], "statement": [], "variables": []}
    metas, uris = render_figures(d, ctx) if figures else ([], [])
    rec["figures"] = metas
    rec["statement_latex"] = view.get("display_latex") or []
    view["figure_uris"] = uris
    return rec, view


_WORKER_REGISTRY: dict = {}


def _worker(did: str, paths: tuple[str, ...], seed: int, fidelity: str, backend: str, figures: bool):
    """joblib task: re-discover the derivations from the same paths (cached per worker), run one by id."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    reg = _WORKER_REGISTRY.get(paths)
    if reg is None:
        reg = _WORKER_REGISTRY[paths] = discover(paths)
    rec, view = _one(reg[did], seed, fidelity, backend, figures)
    return did, rec, view


def _discover(paths: Sequence[str | os.PathLike]):
    try:
        return discover(paths)
    except InputError:
        raise
    except Exception as exc:  # a derivation file that does not import is an input problem
        raise InputError("derivations", f"loading failed with {type(exc).__name__}: {exc}",
                         "derivation files that import cleanly") from exc


def collect(ids: Sequence[str] | None = None, *, seed: int = 0, fidelity: str = "quick", backend: str = "numpy",
            derivation_paths: Sequence[str | os.PathLike] = (), jobs: int | None = None, progress: bool = True,
            figures: bool = True) -> ReportData:
    """Run the selected derivations (all when ``ids`` is empty) and render their figures."""
    ctx = Context(seed=seed, fidelity=fidelity, backend=backend)  # validates seed, fidelity, backend names
    if backend != "numpy":
        ctx.xp  # noqa: B018 — raises InputError now if the backend cannot be used here
    if jobs is None:
        jobs = (os.cpu_count() or 1) if fidelity == "full" else 1
    if not isinstance(jobs, int) or jobs < 1:
        raise InputError("jobs", f"is {jobs!r}", "an integer ≥ 1")
    paths = tuple(str(Path(p).resolve()) for p in derivation_paths)
    reg = _discover(paths)
    selected = reg.select(list(ids) if ids else None)
    jobs = min(jobs, max(len(selected), 1))

    from tqdm import tqdm

    bar = tqdm(total=len(selected), desc="report", unit="derivation", file=sys.stderr, disable=not progress,
               dynamic_ncols=True)
    t0 = time.perf_counter()
    results: dict[str, tuple[dict, dict]] = {}
    try:
        if jobs == 1:
            for d in selected:
                bar.set_postfix_str(d.id)
                results[d.id] = _one(d, seed, fidelity, backend, figures)
                bar.update()
        else:
            from joblib import Parallel, delayed

            os.environ.setdefault("MPLBACKEND", "Agg")
            tasks = (delayed(_worker)(d.id, paths, seed, fidelity, backend, figures) for d in selected)
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
    prov.update({"seconds": round(time.perf_counter() - t0, 3), "jobs": jobs,
                 "generated": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
                 "derivation_paths": list(paths)})
    record = {"schema": SCHEMA, "provenance": prov, "derivations": records, "summary": summary}
    return ReportData(_json_safe(record), views)


def _json_safe(v):
    """Non-finite floats as strings (as the runner does), so the file is strict JSON."""
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    if isinstance(v, dict):
        return {k: _json_safe(u) for k, u in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(u) for u in v]
    return v


def exit_status(record: dict) -> int:
    """0 when every derivation agrees or is inconclusive and every figure rendered; 1 otherwise."""
    s = record["summary"]
    return 1 if (s["disagree"] or s["error"] or s.get("figure_errors")) else 0


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, fsync, then ``os.replace`` it over ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def build_report(ids: Sequence[str] | None = None, out: str | os.PathLike = "reports", *, seed: int = 0,
                 fidelity: str = "quick", backend: str = "numpy", derivation_paths: Sequence[str | os.PathLike] = (),
                 jobs: int | None = None, progress: bool = True, figures: bool = True) -> dict:
    """Run, render and write ``out/index.html`` and ``out/agreement.json``; returns the agreement record."""
    if fidelity not in FIDELITIES:
        raise InputError("fidelity", f"is {fidelity!r}", ", ".join(FIDELITIES))
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("out", f"{str(out)!r} is a file", "a folder (created if missing)")
    data = collect(ids, seed=seed, fidelity=fidelity, backend=backend, derivation_paths=derivation_paths,
                   jobs=jobs, progress=progress, figures=figures)
    from .render import render_html

    page = render_html(data)  # everything is rendered before anything is written
    doc = json.dumps(data.record, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / JSON_NAME, doc)
    write_atomic(out / HTML_NAME, page)
    return data.record


SECTION_TITLES = SECTIONS
