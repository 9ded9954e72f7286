"""``lindiff-verify report``: run derivations and write reports/index.html and reports/agreement.json.

Exit status: 0 when every derivation agrees (inconclusive ones are allowed, and reported), every mutant is
killed and every figure rendered; 1 when any derivation disagrees or errors, a mutant survives or a figure
failed; 2 on bad input (one line on stderr).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .oneline import OneLineCommand
from ..model.errors import InputError

__all__ = ["report"]


@click.command("report", cls=OneLineCommand)
@click.argument("ids", nargs=-1)
@click.option("--out", default="reports", show_default=True, type=click.Path(file_okay=False),
              help="Folder for index.html and agreement.json (created if missing).")
@click.option("--fidelity", type=click.Choice(["quick", "full"]), default="quick", show_default=True,
              help="quick: small sizes, 30 digits; full: larger sizes, 50 digits.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of every random stream (an integer ≥ 0).")
@click.option("--backend", type=click.Choice(["numpy", "cupy", "array-api-strict"]), default="numpy", show_default=True,
              help="Array backend of the Monte Carlo (cupy needs a CUDA GPU; array-api-strict is a CPU check of genericity).")
@click.option("--derivations", "derivation_paths", multiple=True, type=click.Path(),
              help="Extra derivation folder or .py file (repeatable), besides the built-in ones.")
@click.option("--builtin/--no-builtin", "include_builtin", default=True, show_default=True,
              help="Include the built-in derivations (--no-builtin: only those under --derivations).")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Parallel workers across derivations [default: all CPUs].")
@click.option("--scheduler", type=str, default=None, metavar="ADDRESS",
              help="Run each derivation as a task on this Dask scheduler [default: $LINDIFF_VERIFY_SCHEDULER, else locally].")
@click.option("--timeout", type=click.FloatRange(min=0), default=None,
              help="Seconds one derivation (and each figure) may run before it is recorded as an error [default: no limit].")
@click.option("--figures/--no-figures", default=True, show_default=True, help="Render derivations' figures.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bar on stderr.")
@click.option("--profile", is_flag=True,
              help="Print where the time went (per derivation, per check, figures, rendering) to stderr.")
def report(ids, out, fidelity, seed, backend, derivation_paths, include_builtin, jobs, scheduler, timeout, figures,
           progress, profile):
    """Run the derivations IDS (all when none are given) and write an HTML report with its JSON twin."""
    from .build import HTML_NAME, JSON_NAME, build_report, exit_status

    from .atomic import check_writable

    try:
        check_writable(out, "--out", folder=True)  # refused before any check runs
        record = build_report(ids, out, seed=seed, fidelity=fidelity, backend=backend,
                              derivation_paths=derivation_paths, jobs=jobs, progress=progress, figures=figures,
                              include_builtin=include_builtin, timeout=timeout,
                              scheduler=scheduler)
    except InputError as exc:
        click.echo(f"lindiff-verify report: {exc}", err=True)
        sys.exit(2)
    s = record["summary"]
    line = (f"{s['agree']} agree, {s['disagree']} disagree, {s['inconclusive']} inconclusive, {s['error']} error; "
            f"mutants killed {s['mutants_killed']}/{s['mutants']}; figures {s['figures']}"
            + (f" ({s['figure_errors']} failed)" if s.get("figure_errors") else "")
            + f"; {record['provenance']['seconds']:.1f} s")
    click.echo(f"wrote {Path(out) / HTML_NAME} and {Path(out) / JSON_NAME}: {line}")
    if profile:
        from .profile import profile_table

        sys.stdout.flush()
        click.echo(profile_table(record), err=True)
    code = exit_status(record)
    if code:
        bad = [d["id"] for d in record["derivations"] if d["verdict"] in ("disagree", "error")]
        bad += [f"{d['id']} figure {f['name']!r}" for d in record["derivations"] for f in d.get("figures", [])
                if f.get("error")]
        bad += [f"{d['id']} mutant {m['name']!r} survived" for d in record["derivations"] for m in d["mutants"]
                if not m["killed"]]
        click.echo("not agreeing: " + ", ".join(bad), err=True)
    sys.exit(code)
