"""False alarms measured: every Monte Carlo check rerun under the true claim at K seeds.

Each check promises a false-alarm probability of at most ``tolerance.DEFAULT_FALSE_ALARM`` for a correct claim
(Bonferroni over its cases). Rerunning it at seeds 0 … K − 1 (new draws each time) counts its disagreements
with the claim; the rate is reported with its Clopper–Pearson interval (exact binomial, scipy), and a check
whose lower bound exceeds the nominal rate false-alarms more than it promises. At the same seeds each mutant's
kill fraction is measured (an error is not a kill): a kill at fewer than ``WEAK_KILL`` of the seeds is weak,
the check's power against it depends on the draw. A claim agreeing with |Δ|/tol ≥ ``NO_SLACK`` at every seed
has no statistical slack (its tolerance is dominated by a bias bound, or its error by a bias).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import lru_cache

from scipy import stats

from . import tolerance
from .context import Context
from .execution import keep_worker_alive
from .registry import discover
from .runner import mutant_key, run_check

__all__ = ["clopper_pearson", "monte_carlo_checks", "calibrate", "WEAK_KILL", "NO_SLACK"]

#: a mutant killed at fewer than this fraction of seeds is a weak kill
WEAK_KILL = 0.95
#: |Δ|/tol at or above this at every seed: no statistical slack
NO_SLACK = 0.9


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) interval for a binomial rate, k successes in n trials."""
    a = 1.0 - level
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


@lru_cache(maxsize=None)
def _registry(paths: tuple[str, ...], include_builtin: bool = True):
    return discover(paths, include_builtin=include_builtin)


def monte_carlo_checks(ids: Sequence[str] | None = None, paths: Sequence[str] = (),
                       include_builtin: bool = True) -> list[tuple[str, str]]:
    """(derivation id, check name) of every Monte Carlo check of the selected derivations."""
    reg = _registry(tuple(paths), include_builtin)
    return [(d.id, c.name) for d in reg.select(list(ids or [])) for c in d.checks if c.method == "montecarlo"]


def _one_seed(did: str, check_name: str, seed: int, fidelity: str, paths: tuple[str, ...],
              include_builtin: bool = True) -> dict:
    keep_worker_alive()
    d = _registry(paths, include_builtin)[did]
    chk = next(c for c in d.checks if c.name == check_name)
    statements = {"claim": d.statement}
    for m in d.mutants:
        try:
            statements[mutant_key(m)] = d.mutated(m)
        except Exception:  # noqa: BLE001 — a mutant that cannot be built is never a kill
            pass
    t0 = time.perf_counter()
    res = run_check(d, chk, Context(seed=seed, fidelity=fidelity), statements, thresholds=False)
    return {"seed": seed, "verdict": res["claim"]["verdict"], "ratio": res["claim"].get("max_error_ratio"),
            "mutants": {m.name: res.get(mutant_key(m), {}).get("verdict", "error") for m in d.mutants},
            "seconds": time.perf_counter() - t0}


def _summarise(did: str, check_name: str, runs: list[dict]) -> dict:
    k = len(runs)
    alarms = sum(r["verdict"] == "disagree" for r in runs)
    errors = sum(r["verdict"] == "error" for r in runs)
    lo, hi = clopper_pearson(alarms, k)
    nominal = tolerance.DEFAULT_FALSE_ALARM
    ratios = [r["ratio"] for r in runs if isinstance(r["ratio"], (int, float))]
    mutants = {}
    for name in runs[0]["mutants"]:
        kills = sum(r["mutants"][name] == "disagree" for r in runs)
        mutants[name] = {"kill_fraction": kills / k, "ci95": list(clopper_pearson(kills, k)),
                         "weak": 0 < kills < WEAK_KILL * k,  # never killed by this check: another check's target
                         "errors": sum(r["mutants"][name] == "error" for r in runs)}
    return {
        "id": did, "check": check_name, "seeds": k, "false_alarms": alarms, "errors": errors,
        "inconclusive": sum(r["verdict"] == "inconclusive" for r in runs),
        "false_alarm_rate": alarms / k, "ci95": [lo, hi], "nominal": nominal, "exceeds_nominal": lo > nominal,
        "error_ratio": {"min": min(ratios), "median": float(sorted(ratios)[len(ratios) // 2]), "max": max(ratios)}
        if ratios else None,
        "no_statistical_slack": bool(ratios) and len(ratios) == k and min(ratios) >= NO_SLACK,
        "mutants": mutants,
        "seconds_per_seed": sum(r["seconds"] for r in runs) / k,
    }


def calibrate(ids: Sequence[str] | None = None, *, seeds: int, fidelity: str = "quick", paths: Sequence[str] = (),
              jobs: int = 1, first_seed: int = 0, checks: Sequence[tuple[str, str]] | None = None,
              include_builtin: bool = True, progress=None) -> dict:
    """Rerun every Monte Carlo check of ``ids`` (all if none) at ``seeds`` seeds; joblib across seeds.

    ``checks`` restricts the run to given (id, check name) pairs. Returns ``{"checks": [...], ...}``, one
    summary per check (see the module docstring).
    """
    from joblib import Parallel, delayed

    from ..model import validate

    k = validate.positive_int("seeds", seeds, minimum=1)
    jobs = validate.positive_int("jobs", jobs, minimum=1)
    validate.choice("fidelity", fidelity, ("quick", "full"))
    paths = tuple(str(p) for p in paths)
    todo = list(checks) if checks is not None else monte_carlo_checks(ids, paths, include_builtin)
    t0 = time.perf_counter()
    out = []
    with Parallel(n_jobs=jobs) as par:
        for i, (did, name) in enumerate(todo):
            if progress:
                progress(f"{did} · {name}", i, len(todo))
            runs = par(delayed(_one_seed)(did, name, first_seed + s, fidelity, paths, include_builtin) for s in range(k))
            out.append(_summarise(did, name, runs))
    return {"seeds": k, "first_seed": first_seed, "fidelity": fidelity, "nominal_false_alarm": tolerance.DEFAULT_FALSE_ALARM,
            "weak_kill_below": WEAK_KILL, "no_slack_at": NO_SLACK, "checks": out,
            "seconds": round(time.perf_counter() - t0, 1)}


def format_table(result: dict) -> str:
    """Plain-text table: one line per check, then weak kills and checks without slack."""
    lines = [f"{'check':60s} {'alarms':>7s} {'rate':>7s} {'CI95':>17s}  |Δ|/tol med [min, max]"]
    for c in result["checks"]:
        er = c["error_ratio"] or {"median": float("nan"), "min": float("nan"), "max": float("nan")}
        flag = " EXCEEDS NOMINAL" if c["exceeds_nominal"] else ""
        flag += " NO SLACK" if c["no_statistical_slack"] else ""
        flag += f" {c['errors']} errors" if c["errors"] else ""
        lines.append(f"{(c['id'] + ' · ' + c['check'])[:60]:60s} {c['false_alarms']:3d}/{c['seeds']:<3d} "
                     f"{c['false_alarm_rate']:7.4f} [{c['ci95'][0]:.4f}, {c['ci95'][1]:.4f}]  "
                     f"{er['median']:.2f} [{er['min']:.2f}, {er['max']:.2f}]{flag}")
    weak = [(c["id"], c["check"], m, v["kill_fraction"]) for c in result["checks"] for m, v in c["mutants"].items()
            if v["weak"] and v["kill_fraction"] > 0]
    if weak:
        lines.append(f"weak kills (killed at < {result['weak_kill_below']:.0%} of seeds):")
        lines += [f"  {i} · {n} · mutant {m!r}: {f:.0%}" for i, n, m, f in weak]
    lines.append(f"nominal false-alarm rate per check {result['nominal_false_alarm']:g}; {result['seeds']} seeds; "
                 f"{result['seconds']:.0f} s")
    return "\n".join(lines)
