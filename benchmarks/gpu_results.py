"""Append a dated GPU section to benchmarks/RESULTS.md from the files run_gpu_checks.sh wrote into OUT.

Usage: python benchmarks/gpu_results.py OUT — reads OUT/gpu_sampling.json, OUT/gpu_wishart.json and
OUT/check_cupy_full.json (``check --backend cupy --fidelity full --json``), whichever exist, and writes the
section into benchmarks/RESULTS.md and OUT/RESULTS.md (the device's working tree does not come back).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def _load(path: Path):
    try:
        return json.loads(path.read_text().strip().splitlines()[-1] if path.suffix == ".json" and path.name.startswith("gpu_")
                          else path.read_text())
    except (OSError, ValueError, IndexError):
        return None


def section(out: Path) -> str:
    lines = [f"## GPU run (run_gpu_checks.sh) — {dt.date.today().isoformat()}", ""]
    s, w, c = (_load(out / n) for n in ("gpu_sampling.json", "gpu_wishart.json", "check_cupy_full.json"))
    if s:
        cu = s.get("cupy", {})
        lines.append(f"- DDPM Monte Carlo d = {s['d']}, {s['steps']} steps: NumPy {s['numpy']['throughput']:.3g}, "
                     f"CuPy {cu.get('throughput', float('nan')):.3g} traj·steps·dims/s "
                     f"({s.get('speed_ratio_cupy_over_numpy', float('nan')):.0f}×; agree {cu.get('agree')}) on {s.get('device', '—')}")
    if w:
        cu = w.get("cupy", {})
        lines.append(f"- dense Wishart d = {w['d']}, N = {w['N']}: NumPy {w['numpy']['draws_per_second']:.3g}, "
                     f"CuPy {cu.get('draws_per_second', float('nan')):.3g} draws/s "
                     f"({w.get('speed_ratio_cupy_over_numpy', float('nan')):.1f}×; agree {cu.get('agree')})")
    if c:
        sm = c["summary"]
        lines.append(f"- `check --backend cupy --fidelity full` (all derivations): {sm['agree']} agree, {sm['disagree']} "
                     f"disagree, {sm['inconclusive']} inconclusive, {sm['error']} error; mutants killed "
                     f"{sm['mutants_killed']}/{sm['mutants']}; {c['provenance']['seconds']:.0f} s")
        lines += ["", "| derivation | check | verdict | device | Monte Carlo paths | s |", "|---|---|---|---|---|---|"]
        for d in c["derivations"]:
            for k in d["checks"]:
                if k.get("total_paths"):
                    lines.append(f"| {d['id']} | {k['name']} | {k['verdict']} | {k.get('device', '—')} | "
                                 f"{k['total_paths']:,} | {k.get('seconds', 0):.1f} |")
            if d.get("error"):
                lines.append(f"| {d['id']} | — | error: {d['error'][:80]} | | | |")
    else:
        lines.append("- `check --backend cupy --fidelity full`: no record (did not finish within its time limit)")
    return "\n".join(lines) + "\n"


def main(argv):
    out = Path(argv[1] if len(argv) > 1 else "/tmp/gpu_out")
    text = section(out)
    old = RESULTS.read_text() if RESULTS.exists() else "# Measured speed (recorded runs)\n"
    head, sep, rest = old.partition("\n## ")
    new = head.rstrip() + "\n\n" + text + (("\n## " + rest) if sep else "")
    RESULTS.write_text(new)
    (out / "RESULTS.md").write_text(new)
    print(text)


if __name__ == "__main__":
    main(sys.argv)
