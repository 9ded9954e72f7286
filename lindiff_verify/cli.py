"""Command line: ``lindiff-verify list | check | calibrate | report``.

Exit status: 0 every derivation agrees; 1 a claim disagrees, errors or is inconclusive; 2 usage or input error.
"""

from __future__ import annotations

import json
import sys

import click

from .report.oneline import OneLineGroup
from .model.backend import BACKENDS
from .verification.context import FIDELITIES, Context
from .verification.record import AgreementRecord
from .verification.registry import discover

__all__ = ["main"]


def _registry(paths):
    return discover(paths)


def methods_of(d) -> list[str]:
    return sorted({c.method for c in d.checks})


def listing(reg) -> list[dict]:
    return [
        {
            "id": d.id,
            "title": d.title,
            "paper_ref": str(d.paper_ref),
            "section": d.section,
            "claim_kind": d.claim_kind,
            "methods": methods_of(d),
            "checks": [c.name for c in d.checks],
            "mutants": [m.name for m in d.mutants],
            "source": d.source,
        }
        for d in (reg[k] for k in reg)
    ]


derivations_option = click.option(
    "--derivations", "paths", multiple=True, type=click.Path(), metavar="PATH",
    help="Extra folder (or .py file) of user derivations; repeatable.",
)


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lindiff-verify")
def main():
    """Verify the analytic results of Merger & Goldt, arXiv:2505.24769 (linear diffusion models)."""


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@derivations_option
def list_cmd(as_json, paths):
    """List every registered derivation: id, title, paper reference, check methods."""
    rows = listing(_registry(paths))
    if as_json:
        click.echo(json.dumps({"schema": "lindiff-verify/list/1", "derivations": rows}, indent=2))
        return
    w = max((len(r["id"]) for r in rows), default=2)
    for r in rows:
        click.echo(f"{r['id']:<{w}}  {r['title']}")
        click.echo(f"{'':<{w}}  {r['paper_ref']} · {r['claim_kind']} · methods: {', '.join(r['methods'])} · "
                   f"{len(r['checks'])} checks, {len(r['mutants'])} mutants")


_BADGE = {"agree": "agree", "disagree": "DISAGREE", "inconclusive": "inconclusive", "error": "ERROR"}


def _fmt(x):
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    return f"{x:.2e}"


def print_table(result: AgreementRecord, out=None):
    echo = lambda s="": click.echo(s, file=out)  # noqa: E731
    for r in result["derivations"]:
        killed = sum(m["killed"] for m in r["mutants"])
        echo(f"{r['id']:<6} {_BADGE[r['verdict']]:<12} {r['title']}  [{r['claim_kind']}; mutants killed "
             f"{killed}/{len(r['mutants'])}]")
        if r.get("error"):
            echo(f"       error: {r['error']}")
        for c in r["checks"]:
            line = (f"       {c['verdict']:<12} {c['method']:<10} {c['name'][:48]:<48} n={c.get('cases', 0):<4} "
                    f"err={_fmt(c.get('max_abs_error'))} tol={_fmt(c.get('tolerance'))} ratio={_fmt(c.get('max_error_ratio'))}")
            echo(line)
            if c.get("error"):
                echo(f"         error: {c['error']}")
            if c.get("inconclusive_reason"):
                echo(f"         inconclusive: {c['inconclusive_reason']}")
        for m in r["mutants"]:
            if not m["killed"]:
                echo(f"       mutant SURVIVED: {m['name']} ({m['description']})")
    s = result["summary"]
    echo()
    echo(f"{s['derivations']} derivations: {s['agree']} agree, {s['disagree']} disagree, "
         f"{s['inconclusive']} inconclusive, {s['error']} error; mutants killed {s['mutants_killed']}/{s['mutants']}; "
         f"seed {result['provenance']['seed']}, fidelity {result['provenance']['fidelity']}, "
         f"{result['provenance']['seconds']:.1f} s")


def common_run_options(f):
    f = click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                     help="Root seed of every random draw (an integer ≥ 0).")(f)
    f = click.option("--fidelity", type=click.Choice(FIDELITIES), default="quick", show_default=True)(f)
    f = click.option("--backend", type=click.Choice(BACKENDS), default="numpy", show_default=True,
                     help="Array backend: numpy, cupy (a CUDA GPU) or array-api-strict (CPU).")(f)
    return derivations_option(f)


@main.command()
@click.argument("ids", nargs=-1)
@common_run_options
@click.option("--json", "json_path", type=str, default=None, metavar="PATH",
              help="Write the agreement record as JSON to PATH ('-' for stdout; the table then goes to stderr).")
@click.option("--no-mutants", is_flag=True, help="Skip the mutant runs (faster; the record has no mutant results).")
@click.option("--jobs", type=int, default=1, show_default=True, help="Local worker processes across derivations (joblib).")
@click.option("--scheduler", type=str, default=None, metavar="ADDRESS",
              help="Run derivations and their Monte Carlo batches as tasks on this Dask scheduler "
                   "[default: $LINDIFF_VERIFY_SCHEDULER, else locally].")
def check(ids, seed, fidelity, backend, paths, json_path, no_mutants, jobs, scheduler):
    """Run the checks of the named derivations (all if none) and print an agreement table."""
    from .verification.execution import make_engine
    from .verification.runner import exit_status, run

    if json_path and json_path != "-":
        from .report.atomic import check_writable

        check_writable(json_path, "--json", folder=False)  # refused before any check runs
    ctx = Context(seed=seed, fidelity=fidelity, backend=backend)
    if backend != "numpy":
        ctx.xp  # noqa: B018 — validates the backend now, before any work
    selected = _registry(paths).select(list(ids))
    engine = make_engine(jobs=jobs, scheduler=scheduler)
    try:
        result = run(selected, ctx, mutants=not no_mutants, engine=engine)
    finally:
        engine.close()
    table_out = sys.stderr if json_path == "-" else None
    print_table(result, out=table_out)
    if json_path:
        text = json.dumps(result, indent=2)
        if json_path == "-":
            click.echo(text)
        else:
            from .report.atomic import write_text_atomic

            write_text_atomic(json_path, text)
    sys.exit(exit_status(result))


@main.command()
@click.argument("ids", nargs=-1)
@click.option("--seeds", type=int, default=20, show_default=True, help="Number of seeds K (0 … K − 1).")
@click.option("--fidelity", type=click.Choice(FIDELITIES), default="quick", show_default=True)
@click.option("--jobs", type=int, default=1, show_default=True, help="Parallel workers (joblib) across seeds.")
@click.option("--json", "json_path", type=str, default=None, metavar="PATH", help="Write the result as JSON.")
@derivations_option
def calibrate(ids, seeds, fidelity, jobs, json_path, paths):
    """False-alarm rate of every Monte Carlo check under the true claim at K seeds; mutant kill fractions."""
    from .verification.calibrate import calibrate as run_calibration, format_table

    _registry(paths).select(list(ids))  # unknown ids: one clear line, exit 2
    result = run_calibration(list(ids), seeds=seeds, fidelity=fidelity, paths=paths, jobs=jobs)
    click.echo(format_table(result))
    if json_path:
        from .report.atomic import write_text_atomic

        write_text_atomic(json_path, json.dumps(result, indent=2))


def _register_report():
    try:
        from .report.command import report
    except ImportError:  # report package not installed/available
        return
    main.add_command(report)


_register_report()
