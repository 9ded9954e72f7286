"""Mutation run (mutmut, configured in pyproject.toml ``[tool.mutmut]``) over a seeded sample of mutants.

    python mutation/run.py [--per-module K] [--seed S] [--modules GLOB ...] [--max-children J]

Generates every mutant of the configured modules (mutmut's trampolines), draws K per module with a
seeded RNG (K = 0: all), runs them with mutmut's coverage-based test selection, and writes
``mutation/results.json``: per module the killed/tried counts, the kill rate with its Clopper–Pearson 95 %
interval (exact binomial; the rate of the sample estimates the module's rate; a mutant whose tests time out
counts as detected, as in mutmut's own score, and is listed apart) and the surviving mutants,
each of which must be killed by a new check or listed in ``mutation/equivalent.md`` with the reason.
Run from the repository root. Slow: not part of the default test run.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import random
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from scipy import stats

ROOT = Path(__file__).resolve().parents[1]


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval for k successes in n trials."""
    a = 1 - level
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


def _module_of(mutant: str) -> str:
    # mutmut names: package.module.x_function__mutmut_N or package.module.xǁClassǁmethod__mutmut_N
    head = mutant.split("__mutmut_")[0]
    return head.rsplit(".", 1)[0]


def all_mutants() -> dict[str, int | None]:
    """Generate mutants (mutmut's own steps) and return {mutant name: exit code or None}."""
    from mutmut.__main__ import create_mutants
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths, walk_mutatable_files

    Path("mutants").mkdir(exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    create_mutants(max_children=2)
    out = {}
    for path in walk_mutatable_files():
        m = SourceFileMutationData(path=path)
        m.load()
        out.update(m.exit_code_by_key)
    return out


def listed_equivalent(path: Path = ROOT / "mutation" / "equivalent.md") -> list[str]:
    """Mutant names (or their function-and-number tails, written `…name__mutmut_N`) listed as equivalent."""
    import re

    return re.findall(r"…?([\wǁ.]+__mutmut_\d+)", path.read_text()) if path.exists() else []


def _is_listed(name: str, listed: list[str]) -> bool:
    return any(name == t or name.endswith("." + t) or name.endswith("ǁ" + t) or name.endswith(t) for t in listed)


def summarise(codes: dict[str, int | None], tried: list[str]) -> dict:
    from mutmut.stats import status_by_exit_code

    equivalent = listed_equivalent()
    per = defaultdict(lambda: {"killed": 0, "tried": 0, "survived": [], "equivalent": [], "timeout": [], "other": {}})
    for name in tried:
        code = codes.get(name)
        status = status_by_exit_code[code]
        p = per[_module_of(name)]
        if status in ("killed", "caught by type check", "segfault"):
            p["killed"] += 1
            p["tried"] += 1
        elif status == "timeout":  # its tests ran 20× past the clean run (a failing property shrinking, a loop)
            p["timeout"].append(name)
            p["tried"] += 1
        elif status == "survived" or status == "no tests":
            p["equivalent" if _is_listed(name, equivalent) else "survived"].append(name)
            p["tried"] += 1
        else:
            p["other"][name] = status
    for p in per.values():
        # detected = killed + timed out (mutmut's own score); the strict kill rate is shown beside it
        det = p["killed"] + len(p["timeout"])
        lo, hi = clopper_pearson(det, p["tried"]) if p["tried"] else (0.0, 1.0)
        p["detected"] = det
        p["detection_rate"] = det / p["tried"] if p["tried"] else None
        # the measure: killed (or timed out) among the mutants that are not listed as equivalent
        n_ne = p["tried"] - len(p["equivalent"])
        p["detection_rate_of_non_equivalent"] = det / n_ne if n_ne else None
        p["kill_rate"] = p["killed"] / p["tried"] if p["tried"] else None
        p["ci95"] = [lo, hi]
    return dict(sorted(per.items()))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-module", type=int, default=10, help="mutants drawn per module (0 = all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--modules", nargs="*", default=["*"], help="glob(s) over dotted module names")
    ap.add_argument("--max-children", type=int, default=2)
    ap.add_argument("--output", default="mutation/results.json")
    ap.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                    help="stop mutmut after this long; mutants not reached are reported as not run")
    ap.add_argument("--mutants", metavar="FILE",
                    help="run (and summarise) exactly the mutant names listed in FILE, one per line, instead of "
                         "drawing a sample; names that no longer exist (deleted code) are reported as such")
    ap.add_argument("--only-undecided", action="store_true",
                    help="with --mutants: run only those whose stored verdict is missing, survived or timed out")
    ap.add_argument("--no-run", action="store_true",
                    help="only summarise the verdicts mutmut has stored for the drawn sample (after a run, or reruns)")
    a = ap.parse_args(argv)
    os.chdir(ROOT)
    os.environ.setdefault("HYPOTHESIS_PROFILE", "ci")  # derandomised properties: the same run gives the same kills
    codes = all_mutants()
    by_module = defaultdict(list)
    for name in sorted(codes):
        mod = _module_of(name)
        if any(fnmatch.fnmatch(mod, g) for g in a.modules):
            by_module[mod].append(name)
    rng = random.Random(a.seed)
    chosen, gone = [], []
    if a.mutants:
        listed = [ln.strip() for ln in Path(a.mutants).read_text().splitlines() if ln.strip() and not ln.startswith("#")]
        chosen = [n for n in listed if n in codes]
        gone = [n for n in listed if n not in codes]
    else:
        for mod, names in sorted(by_module.items()):
            chosen += names if a.per_module <= 0 or len(names) <= a.per_module else rng.sample(names, a.per_module)
    from mutmut.stats import status_by_exit_code

    eqv = listed_equivalent()
    to_run = [n for n in chosen if not a.only_undecided or codes.get(n) is None
              or (status_by_exit_code[codes[n]] in ("survived", "timeout", "no tests") and not _is_listed(n, eqv))]
    print(f"{sum(map(len, by_module.values()))} mutants in {len(by_module)} modules; {len(chosen)} chosen, "
          f"running {0 if a.no_run else len(to_run)}", flush=True)
    if gone:
        print(f"{len(gone)} listed mutants no longer exist (their code was deleted or rewritten): {', '.join(gone)}")
    proc = None if a.no_run or not to_run else subprocess.Popen(
        [sys.executable, "-m", "mutmut", "run", "--max-children", str(a.max_children), *to_run],
                            start_new_session=True)
    try:
        if proc is not None:
            proc.wait(timeout=a.time_limit)
    except subprocess.TimeoutExpired:
        print(f"time limit {a.time_limit:g} s reached: stopping mutmut", flush=True)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.utils.file_utils import walk_mutatable_files

    codes = {}
    for path in walk_mutatable_files():
        m = SourceFileMutationData(path=path)
        m.load()
        codes.update(m.exit_code_by_key)
    res = {"seed": a.seed, "per_module": a.per_module, "mutants_file": a.mutants, "time_limit_s": a.time_limit,
           "generated": {m: len(v) for m, v in sorted(by_module.items())}, "no_longer_exist": gone,
           "modules": summarise(codes, chosen)}
    groups = {"formula": [m for m in res["modules"] if not m.startswith("lindiff_verify.verification.")
                          and m != "lindiff_verify.theory.extrapolation"],
              "machinery": [m for m in res["modules"] if m.startswith("lindiff_verify.verification.")
                            or m == "lindiff_verify.theory.extrapolation"]}
    for label, mods in {"total": list(res["modules"]), **groups}.items():
        k = sum(res["modules"][m]["killed"] for m in mods)
        det = sum(res["modules"][m]["detected"] for m in mods)
        n = sum(res["modules"][m]["tried"] for m in mods)
        eq = sum(len(res["modules"][m]["equivalent"]) for m in mods)
        res[label] = {"killed": k, "detected": det, "equivalent": eq, "tried": n, "kill_rate": k / n if n else None,
                      "detection_rate": det / n if n else None, "ci95": list(clopper_pearson(det, n)) if n else None,
                      "detection_rate_of_non_equivalent": det / (n - eq) if n - eq else None,
                      "ci95_of_non_equivalent": list(clopper_pearson(det, n - eq)) if n - eq else None}
    Path(a.output).write_text(json.dumps(res, indent=1) + "\n")
    for mod, p in res["modules"].items():
        print(f"{mod:45s} {p['detected']:3d}/{p['tried']:3d} ({len(p['timeout'])} by timeout)  "
              f"CI95 [{p['ci95'][0]:.2f}, {p['ci95'][1]:.2f}]  survivors: {', '.join(p['survived'])}")
    for label in ("formula", "machinery", "total"):
        r = res[label]
        print(f"{label}: {r['detected']}/{r['tried']} detected ({r['killed']} killed, the rest by timeout); "
              f"{r['equivalent']} listed as equivalent; {r['detected']}/{r['tried'] - r['equivalent']} of the others")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
