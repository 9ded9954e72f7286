"""HTML rendering of an agreement record (Jinja2 templates and CSS in ``report/templates``)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from ..verification.record import CheckRecord, DerivationRecord
from ..verification.registry import SECTIONS

__all__ = ["render_html", "fmt_num", "TEMPLATES"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
_SUP = str.maketrans("0123456789-+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺")


def fmt_num(x, digits: int = 3) -> Markup:
    """A number for a theorist: 0, 0.0123, 2.24 × 10⁻¹³, ∞, —."""
    if x is None or isinstance(x, jinja2.Undefined):
        return Markup("—")
    if isinstance(x, bool):
        return Markup(str(x).lower())
    if isinstance(x, dict) and set(x) == {"re", "im"}:
        return Markup(f"{fmt_num(x['re'], digits)} {'−' if _neg(x['im']) else '+'} {fmt_num(_abs(x['im']), digits)}i")
    if isinstance(x, str):
        s = {"inf": "∞", "-inf": "−∞", "nan": "NaN"}.get(x.strip().lower())
        return Markup(s) if s else escape(x)
    if isinstance(x, int):
        return Markup(f"{x:,}".replace(",", "\u2009")) if abs(x) >= 10000 else Markup(str(x))
    if isinstance(x, float):
        if not math.isfinite(x):
            return Markup("NaN" if x != x else ("∞" if x > 0 else "−∞"))
        if x == 0:
            return Markup("0")
        a = abs(x)
        if 1e-3 <= a < 1e5:
            s = f"{x:.{digits}g}"
            return Markup(s.replace("-", "−"))
        mant, exp = f"{x:.{digits - 1}e}".split("e")
        mant = mant.rstrip("0").rstrip(".") if "." in mant else mant
        e = int(exp)
        return Markup(f'{mant.replace("-", "−")}<span class="x">×</span>10<sup>{str(e).replace("-", "−")}</sup>')
    if isinstance(x, (list, tuple)):
        if len(x) > 8:
            return Markup(", ").join(fmt_num(u, digits) for u in x[:8]) + Markup(", … (") + str(len(x)) + Markup(" values)")
        return Markup("[") + Markup(", ").join(fmt_num(u, digits) for u in x) + Markup("]")
    return escape(str(x))


def _neg(v):
    return isinstance(v, (int, float)) and v < 0


def _abs(v):
    return abs(v) if isinstance(v, (int, float)) else v


def fmt_params(params) -> Markup:
    """``d = 6, N = 3, alphabar = 0.999`` with formatted numbers."""
    if not isinstance(params, dict):
        return fmt_num(params)
    parts = [Markup('<span class="kv"><span class="k">{}</span>\u2009=\u2009{}</span>').format(
                 k, Markup("(") + fmt_params(v) + Markup(")") if isinstance(v, dict) and set(v) != {"re", "im"}
                 else fmt_num(v))
             for k, v in params.items()]
    return Markup(", ").join(parts) if parts else Markup("—")


def fmt_seconds(s) -> str:
    if s is None or isinstance(s, (str, jinja2.Undefined)):
        return "—"
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 120:
        return f"{s:.1f} s"
    return f"{int(s // 60)} min {s % 60:.0f} s"


def relpath(path) -> str:
    """A source path relative to the working folder when it lies below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except (ValueError, OSError, TypeError):
        return str(path)


def slug(did: str) -> str:
    return "d-" + re.sub(r"[^A-Za-z0-9]+", "-", did).strip("-")


def gap(case) -> Markup | None:
    """How far outside its tolerance a case is: |Δ| and |Δ|/tol."""
    if not case:
        return None
    e, t = case.get("abs_error"), case.get("tolerance")
    if not isinstance(e, (int, float)):
        return fmt_num(e)
    if isinstance(t, (int, float)) and t > 0:
        return Markup("{} = {} × tolerance").format(fmt_num(e), fmt_num(e / t))
    return fmt_num(e)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=fmt_num, params=fmt_params, secs=fmt_seconds, slug=slug, gap=gap, relpath=relpath)
    return env


def _sections(records: list[DerivationRecord]) -> list[dict]:
    by = {k: [] for k in SECTIONS}
    for r in records:
        by.setdefault(r.get("section") or "X", []).append(r)
    out = []
    for key, recs in by.items():
        if recs:
            counts = {v: sum(r["verdict"] == v for r in recs) for v in ("agree", "disagree", "inconclusive", "error")}
            out.append({"key": key, "title": SECTIONS.get(key, key), "records": recs, "counts": counts})
    return out


def shown_failure(check: CheckRecord) -> tuple[str, dict] | None:
    """The case a disagreement shows: the shrunk minimal failing case if any, else the worst case."""
    m = check.get("minimal_failing_case")
    if m and not m.get("error"):
        return "smallest failing case (shrunk by Hypothesis)", m
    if check.get("worst_case"):
        return "worst case", check["worst_case"]
    return None


def render_html(data) -> str:
    """The whole page as one string (standalone: inline CSS, MathML, figures as data URIs)."""
    record, views = data.record, data.views
    env = _env()
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    tpl = env.get_template("report.html.j2")
    return tpl.render(record=record, prov=record["provenance"], summary=record["summary"],
                      sections=_sections(record["derivations"]), views=views, css=Markup(css),
                      shown_failure=shown_failure)
