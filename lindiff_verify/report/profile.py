"""``report --profile``: where the time of a report went, as a table for stderr.

Wall-clock seconds from the agreement record: discovery, each derivation (its checks with their
claim-independent references, its mutant runs, its figures), each check, each figure, and rendering and
writing of the page. Derivations run in parallel (``--jobs``) overlap, so their sum may exceed the total.
"""

from __future__ import annotations

__all__ = ["profile_rows", "profile_table"]


def _num(x) -> float:
    return float(x) if isinstance(x, (int, float)) else 0.0


def profile_rows(record: dict) -> dict:
    """``{"derivations": [...], "checks": [...], "figures": [...], "phases": {...}}``, slowest first."""
    derivs, checks, figures = [], [], []
    for d in record["derivations"]:
        t_checks = sum(_num(c.get("seconds")) for c in d.get("checks", []))
        t_figs = sum(_num(f.get("seconds")) for f in d.get("figures", []))
        total = _num(d.get("seconds"))
        derivs.append({"id": d["id"], "checks": t_checks, "mutants": max(total - t_checks, 0.0),
                       "figures": t_figs, "total": total + t_figs})
        checks += [{"id": d["id"], "name": c["name"], "method": c.get("method", ""), "seconds": _num(c.get("seconds"))}
                   for c in d.get("checks", [])]
        figures += [{"id": d["id"], "name": f["name"], "seconds": _num(f.get("seconds"))} for f in d.get("figures", [])]
    prov = record.get("provenance", {})
    prof = dict(prov.get("profile") or {})
    phases = {"discovery (importing the derivation files)": _num(prof.get("discovery")),
              "derivations (checks, mutants, figures)": _num(prov.get("seconds")),
              "rendering the page": _num(prof.get("rendering")),
              "serialising the record": _num(prof.get("writing"))}
    return {"derivations": sorted(derivs, key=lambda r: -r["total"]),
            "checks": sorted(checks, key=lambda r: -r["seconds"]),
            "figures": sorted(figures, key=lambda r: -r["seconds"]), "phases": phases}


def profile_table(record: dict) -> str:
    """The profile as plain-text tables (seconds, share of the total)."""
    rows = profile_rows(record)
    total = sum(rows["phases"].values()) or 1.0
    jobs = record.get("provenance", {}).get("jobs") or 1
    out = [f"where the time went: {total:.1f} s wall clock"
           + (f" ({jobs} workers: derivation times overlap)" if jobs > 1 else "")]

    def share(x):
        return f"{100 * x / total:5.1f}%"

    out += ["", "phase                                      seconds  share"]
    out += [f"{k:<42} {v:7.2f} {share(v)}" for k, v in rows["phases"].items()]
    out += ["", "derivation   checks  mutants  figures    total  share"]
    out += [f"{r['id']:<10} {r['checks']:8.2f} {r['mutants']:8.2f} {r['figures']:8.2f} {r['total']:8.2f} {share(r['total'])}"
            for r in rows["derivations"]]
    out += ["", "check (claim and its reference; slowest first)                       seconds  share"]
    out += [f"{r['id'] + '  ' + r['name']:<68.68} {r['seconds']:8.2f} {share(r['seconds'])}" for r in rows["checks"]]
    if rows["figures"]:
        out += ["", "figure                                                               seconds  share"]
        out += [f"{r['id'] + '  ' + r['name']:<68.68} {r['seconds']:8.2f} {share(r['seconds'])}" for r in rows["figures"]]
    return "\n".join(out)
