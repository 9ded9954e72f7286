"""Where work runs: locally, on joblib workers, or on a real dask.distributed cluster — same seed, same JSON."""

from __future__ import annotations

import json
import logging
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

from lindiff_verify.cli import main
from lindiff_verify.model.errors import InputError
from lindiff_verify.verification import execution
from lindiff_verify.verification.context import Context
from lindiff_verify.verification.registry import discover
from lindiff_verify.verification.runner import run

# two cheap derivations with random draws; eq.10's Monte Carlo has two batches, which become nested cluster tasks
CHEAP = ["eq.9", "eq.10"]
_TIMING = {"seconds", "generated", "execution"}


def _strip(v):
    """The record without wall times and the description of where it ran."""
    if isinstance(v, dict):
        return {k: _strip(u) for k, u in v.items() if k not in _TIMING}
    if isinstance(v, list):
        return [_strip(u) for u in v]
    return v


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed (the 'dask' extra)")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=logging.ERROR) as c:
        yield c


def _dying_derivation(folder, marker, always=False):
    """A user derivation whose check kills its worker process (once, or every time)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dying.py").write_text(textwrap.dedent(f'''
        import os, signal
        from pathlib import Path
        import sympy as sp
        from lindiff_verify.verification import checks
        from lindiff_verify.verification.registry import Case, Derivation, Mutant, PaperRef, Variable

        x = sp.Symbol("x", positive=True)
        MARKER = Path({str(marker)!r})

        def _numeric(st, ref, ctx):
            from lindiff_verify.verification.execution import in_dask_worker
            if in_dask_worker() and ({always!r} or not MARKER.exists()):
                MARKER.write_text("died once")
                os.kill(os.getpid(), signal.SIGKILL)  # the worker dies mid-task
            f = checks.lambdify((x,), st["double"])
            return [Case({{"x": v}}, f(v), 2 * v, 1e-12 * v) for v in (0.5, 3.0)]

        dying = Derivation(
            id="X.97", title="A check that kills its worker", paper_ref=PaperRef("X.97", "test"),
            statement={{"double": 2 * x}}, variables=[Variable(x, "a number", "x > 0")],
            checks=[checks.numeric("floats", "numeric", _numeric, error_model="float64 rounding"),
                    checks.numeric("floats again", "numeric", _numeric, error_model="float64 rounding")],
            mutants=[Mutant("triple", "3x", replace={{"double": 3 * x}}),
                     Mutant("quadruple", "4x", replace={{"double": 4 * x}})],
        )
    '''))
    return folder


def _batch_tasks(cluster) -> int:
    """Nested Monte Carlo batch tasks (execution._WithDerivations) the in-process scheduler has finished so far."""
    return sum(p.state_counts.get("memory", 0) for name, p in cluster.scheduler.task_prefixes.items()
               if name.startswith("_WithDeriv"))


def test_the_same_seed_gives_the_same_json_on_a_cluster_as_locally(cluster):
    selected = discover().select(CHEAP)
    local = run(selected, Context(seed=5))
    before = _batch_tasks(cluster)
    engine = execution.make_engine(scheduler=cluster.scheduler_address)
    try:
        remote = run(selected, Context(seed=5), engine=engine)
        nested = _batch_tasks(cluster) - before
    finally:
        engine.close()
    assert remote["provenance"]["execution"]["engine"] == "dask"
    assert [d["id"] for d in remote["derivations"]] == CHEAP
    assert nested >= 6, "eq.10's 3 cases × 2 Monte Carlo batches ran as nested tasks"
    assert all(d["verdict"] == "agree" for d in remote["derivations"])
    assert _strip(remote) == _strip(local)


def test_check_accepts_scheduler_from_option_and_environment(cluster, tmp_path, monkeypatch):
    runner = CliRunner()
    out = tmp_path / "a.json"
    r = runner.invoke(main, ["check", "eq.9", "--seed", "2", "--scheduler", cluster.scheduler_address, "--json", str(out)],
                      catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    rec = json.loads(out.read_text())
    assert rec["provenance"]["execution"] == {"engine": "dask", "jobs": 1, "scheduler": cluster.scheduler_address,
                                              "workers": 2}
    monkeypatch.setenv(execution.SCHEDULER_ENV, cluster.scheduler_address)
    r = runner.invoke(main, ["check", "eq.9", "--seed", "2", "--json", str(out)], catch_exceptions=False)
    assert r.exit_code == 0 and json.loads(out.read_text())["provenance"]["execution"]["engine"] == "dask"


def test_a_worker_that_dies_mid_task_has_its_task_rerun_elsewhere(cluster, tmp_path):
    folder = _dying_derivation(tmp_path / "d", tmp_path / "died")
    selected = discover([folder], include_builtin=False).select(["X.97"])
    engine = execution.make_engine(scheduler=cluster.scheduler_address)
    try:
        rec = run(selected, Context(seed=0), engine=engine)
    finally:
        engine.close()
    assert (tmp_path / "died").exists(), "the worker was killed"
    (d,) = rec["derivations"]
    assert d["id"] == "X.97" and d["verdict"] == "agree" and d["mutants"][0]["killed"]


def test_a_task_that_keeps_killing_workers_is_an_error_card_not_a_missing_derivation(tmp_path):
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed (the 'dask' extra)")
    import dask

    folder = _dying_derivation(tmp_path / "d", tmp_path / "died", always=True)
    selected = discover([folder], include_builtin=False).select(["X.97"]) + discover().select(["eq.9"])
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                     silence_logs=logging.CRITICAL) as c:
        engine = execution.make_engine(scheduler=c.scheduler_address)
        try:
            rec = run(selected, Context(seed=0), engine=engine)
        finally:
            engine.close()
    by_id = {d["id"]: d for d in rec["derivations"]}
    assert set(by_id) == {"X.97", "eq.9"}
    assert by_id["X.97"]["verdict"] == "error" and "worker" in by_id["X.97"]["error"]
    assert by_id["eq.9"]["verdict"] == "agree"
    assert rec["summary"]["error"] == 1


def _batch_sum(item):
    seq, n = item
    return float(np.random.default_rng(seq).standard_normal(n).sum()), n


def test_batches_are_named_per_task_so_results_do_not_depend_on_where_they_run(cluster):
    distributed = pytest.importorskip("distributed")
    ctx = Context(seed=11).scoped("T.1", "mc")
    local = ctx.map(_batch_sum, ctx.batch_seeds("paths", 10_000, 3_000))

    def on_worker():
        c = Context(seed=11).scoped("T.1", "mc")
        return c.map(_batch_sum, c.batch_seeds("paths", 10_000, 3_000)), execution.in_dask_worker()

    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        remote, inside = client.submit(on_worker, pure=False).result()
    assert inside and [n for _, n in local] == [3000, 3000, 3000, 1000]
    assert remote == local


def test_paths_scale_with_fidelity_and_backend_and_are_recorded():
    q = Context(fidelity="quick").scoped("T.1", "c")
    f = Context(fidelity="full").scoped("T.1", "c")
    assert q.paths(2000) == 2000 and f.paths(2000) == 20_000 and f.paths(2000, full=50_000) == 50_000
    assert f.paths_used[0] == {"what": "T.1/c/paths", "paths": 20_000, "backend": "numpy", "device": "cpu"}
    g = Context(fidelity="full")
    g.backend = "cupy"  # the sizing rule only (no device needed to compute a count)
    assert g.paths(2000) >= 100 * q.paths(2000)


def test_bad_scheduler_and_jobs_are_one_line_input_errors(monkeypatch):
    with pytest.raises(InputError, match="scheduler"):
        execution.make_engine(scheduler="not an address")
    with pytest.raises(InputError, match="jobs"):
        execution.make_engine(jobs=0)
    monkeypatch.setenv(execution.SCHEDULER_ENV, "")
    assert execution.make_engine(jobs=1).kind == "serial"
    r = CliRunner().invoke(main, ["check", "eq.9", "--scheduler", "nope"])
    assert r.exit_code == 2 and "scheduler" in r.stderr and "Traceback" not in r.stderr


def test_jobs_runs_derivations_on_local_workers_with_the_same_numbers():
    selected = discover().select(CHEAP)
    a = run(selected, Context(seed=1))
    b = run(selected, Context(seed=1), engine=execution.make_engine(jobs=2))
    assert b["provenance"]["execution"]["engine"] == "joblib"
    assert _strip(a) == _strip(b)


def test_report_runs_derivations_on_the_cluster_with_the_same_numbers(cluster, tmp_path):
    from lindiff_verify.report.build import build_report

    a = build_report(["eq.9"], tmp_path / "a", seed=4, progress=False, figures=False)
    b = build_report(["eq.9"], tmp_path / "b", seed=4, progress=False, figures=False,
                     scheduler=cluster.scheduler_address)
    assert b["provenance"]["execution"]["engine"] == "dask" and (tmp_path / "b" / "index.html").exists()
    strip = lambda r: _strip({k: v for k, v in r.items() if k != "provenance"})  # noqa: E731
    assert strip(a) == strip(b)


def _leak_limit_in_worker():
    from joblib.externals.loky import process_executor

    return process_executor._MAX_MEMORY_LEAK_SIZE


def test_local_workers_are_not_restarted_for_a_large_import():
    """loky restarts a worker that grew by 300 MB as a leak; PyTorch's import alone is ~250 MB and the
    shared caches add to it, so an engine's workers raise that limit (else a run repeats work and warns)."""
    engine = execution.make_engine(jobs=2)
    try:
        limits = [v for _, v in engine.imap(_leak_limit_in_worker, [(), ()])]
    finally:
        engine.close()
    assert limits and all(v >= 4e9 for v in limits)
