"""HTML rendering of an agreement record (Jinja2 templates and CSS in ``report/templates``)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from ..verification.record import CheckRecord, DerivationRecord
from ..verification.registry import SECTIONS

__all__ = ["render_html", "render_cards", "fmt_num", "text", "TEMPLATES"]

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


_BRACED = re.compile(r"(?<=[^\s_^])([_^])\{([^{}]{1,40})\}")
#: (not after two ASCII word characters: code names such as kl_gaussian_mp or sigma^2 stay as written)
_BARE = re.compile(r"(?<=[^\s_^(])(?<![A-Za-z_][A-Za-z0-9_])([_^])([-−]?\d+(?:\.\d+)?|[A-Za-z0-9]{1,2}|\*)"
                   r"(?![A-Za-z0-9_])")
_PAREN_SUP = re.compile(r"(?<=[^\s_^(])\^\(([^()]{1,12})\)")
#: a one-letter symbol with a word subscript: L_test, D_KL (not snake_case words: num_train_timesteps)
_WORD_SUB = re.compile(r"(?<![A-Za-z0-9_])([A-Za-zΑ-Ωα-ωᾱ])_([A-Za-z]{3,8})(?![A-Za-z0-9_])")


def text(s) -> Markup:
    """A plain-text field (title, regime, meaning, domain, assumption, caption) as HTML without raw TeX:
    ``x_t`` → x<sub>t</sub>, ``ℝ^{d×d}`` → ℝ<sup>d×d</sup>, ``Π_{s≤t}`` → Π<sub>s≤t</sub>."""
    if s is None or isinstance(s, jinja2.Undefined):
        return Markup("")
    out = str(escape(str(s)))

    def sub(m):
        tag = "sub" if m.group(1) == "_" else "sup"
        return f"<{tag}>{m.group(2)}</{tag}>"

    out = _BRACED.sub(sub, out)
    out = _PAREN_SUP.sub(lambda m: f"<sup>{m.group(1)}</sup>", out)
    out = _WORD_SUB.sub(lambda m: f"{m.group(1)}<sub>{m.group(2)}</sub>", out)
    out = _BARE.sub(sub, out)
    return Markup(out)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=fmt_num, params=fmt_params, secs=fmt_seconds, slug=slug, gap=gap, relpath=relpath, tx=text)
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
    if m and "params" in m:
        return "smallest failing case (shrunk by Hypothesis)", m
    if check.get("worst_case"):
        return "worst case", check["worst_case"]
    return None


#: a measurement is a gap between theory and simulation when its name says so: the derivations name them
#: "relative error …", "relative gap …", "discrete minus …", "… differ …", "out-of-domain …", or give a
#: "reproduction gap" as ratios sample/claimed (whose gap is |ratio − 1|); fitted slopes, standard errors,
#: the measured quantities themselves (a train–test "gap total") and their parameters are not gaps
_GAP_KEY = re.compile(r"(relative (error|gap)|\bminus\b|differ|out[- ]of[- ]domain|reproduction gap.* / |"
                      r"max \|leading − MC\|)", re.I)
_NOT_GAP = re.compile(r"((^|\s)SE\b|slope|finite-size|chi2|p-value|d·relative)", re.I)
_RATIO_GAP = re.compile(r"reproduction gap.* / ", re.I)


def _numbers(v):
    if isinstance(v, bool):
        return []
    if isinstance(v, (int, float)):
        return [float(v)] if math.isfinite(v) else []
    if isinstance(v, dict):
        return [x for u in v.values() for x in _numbers(u)]
    if isinstance(v, (list, tuple)):
        return [x for u in v for x in _numbers(u)]
    return []


def measured_gaps(records: list[dict]) -> list[dict]:
    """The top panel "where theory and simulation differ": per check, its largest measured gap (and how
    many more it measured); per approximate claim, its largest |Δ|. Each entry links to its card."""
    out = []
    for r in records:
        for c in r.get("checks", []):
            found = []
            for k, v in (c.get("measurements") or {}).items():
                if _GAP_KEY.search(k) and not _NOT_GAP.search(k):
                    nums = _numbers(v)
                    if _RATIO_GAP.search(k):
                        nums = [x - 1.0 for x in nums]
                    if nums:
                        found.append((max(nums, key=abs), k))
            if found:
                prefer = [f for f in found if "extrapolated" in f[1]] or found
                size, key = max(prefer, key=lambda f: abs(f[0]))
                what = f"{key} (largest |ratio − 1|)" if _RATIO_GAP.search(key) else key
                out.append({"id": r["id"], "kind": r.get("claim_kind", ""), "check": c["name"], "what": what,
                            "size": size, "more": len(found) - 1})
        if r.get("claim_kind") == "approximate":
            errs = [c.get("worst_case") or {} for c in r.get("checks", [])]
            e = max((w.get("abs_error") for w in errs if isinstance(w.get("abs_error"), (int, float))), default=None)
            out.append({"id": r["id"], "kind": "approximate", "check": "", "size": e,
                        "what": "approximate claim: largest |Δ| against its reference", "more": 0})
    return out


def claim_kinds(records: list[dict]) -> dict:
    from ..verification.registry import CLAIM_KINDS

    return {k: sum(r.get("claim_kind") == k for r in records) for k in CLAIM_KINDS}


def render_html(data) -> str:
    """The whole page as one string (standalone: inline CSS, MathML, figures as data URIs)."""
    record, views = data.record, data.views
    env = _env()
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    tpl = env.get_template("report.html.j2")
    return tpl.render(record=record, prov=record["provenance"], summary=record["summary"],
                      sections=_sections(record["derivations"]), views=views, css=Markup(css),
                      kinds=claim_kinds(record["derivations"]), gaps=measured_gaps(record["derivations"]),
                      shown_failure=shown_failure)


def render_cards(data, *, standalone: bool = True) -> str:
    """The cards of ``data``'s derivations alone (a notebook's rich display): one standalone HTML document
    with the report's CSS, or (``standalone=False``) the bare card markup."""
    env = _env()
    tpl = env.from_string('{% for r in records %}{% set view = views.get(r.id, {}) %}{% include "card.html.j2" %}'
                          '{% endfor %}')
    cards = tpl.render(records=data.record["derivations"], views=data.views, shown_failure=shown_failure)
    if not standalone:
        return cards
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><style>{css}</style></head>'
            f'<body><main style="padding: .5rem">{cards}</main></body></html>')
