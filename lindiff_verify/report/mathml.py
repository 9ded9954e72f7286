"""SymPy expressions as MathML (rendered natively by browsers: MathML Core).

``sympy.latex`` knows the project's symbol names (``alphabar`` → ᾱ, ``lambda_i`` → λᵢ), so an expression is
printed to LaTeX and converted by latex2mathml; where that fails, SymPy's own presentation printer is used.
The LaTeX is kept as an ``<annotation>`` (copyable, never the only form).
"""

from __future__ import annotations

import html
import re

import sympy
from markupsafe import Markup

__all__ = ["to_mathml", "latex_of"]

_MATH_NS = "http://www.w3.org/1998/Math/MathML"
# multi-letter sub/superscripts ("L_t^{res}") read as words, not as products of italic letters
_WORD_SCRIPT = re.compile(r"([_^])\{([A-Za-z]{2,})\}")
_BARE_WORD_SCRIPT = re.compile(r"([_^])([A-Za-z]{2,})\b")


def latex_of(expr) -> str:
    """LaTeX of a SymPy expression (or of a plain string, returned as text)."""
    if isinstance(expr, str):
        return r"\text{" + expr.replace("}", r"\}").replace("{", r"\{") + "}"
    tex = sympy.latex(expr)
    tex = _WORD_SCRIPT.sub(lambda m: f"{m.group(1)}{{\\mathrm{{{m.group(2)}}}}}", tex)
    return tex


def _accent_bars(mathml: str) -> str:
    """latex2mathml writes \\bar as a stretchy <mo>; make it a (non-stretchy) accent so ᾱ looks like ᾱ."""
    return mathml.replace("<mover><mrow>", "<mover accent=\"true\"><mrow>").replace(
        '<mo stretchy="true">&#x000AF;</mo>', '<mo stretchy="false">&#x000AF;</mo>')


def _via_latex(tex: str, display: str) -> str:
    from latex2mathml.converter import convert

    out = convert(tex, display=display)
    return _accent_bars(out)


def _via_sympy(expr, display: str) -> str:
    from sympy.printing.mathml import mathml

    body = mathml(expr, printer="presentation")
    return f'<math xmlns="{_MATH_NS}" display="{display}">{body}</math>'


#: a block equation longer than this (in LaTeX characters) is broken after "=" and between terms
LINE_CHARS = 100


def _inner(mathml: str) -> str:
    return mathml[mathml.index(">") + 1 : mathml.rindex("</math>")]


def _broken_lines(expr, display: str) -> str | None:
    """A long ``lhs = a + b + c + …`` as a two-column table: ``lhs = a + b`` / ``+ c + …`` (MathML Core has
    no automatic line breaking). None when the expression is not such an equation."""
    if display != "block" or not isinstance(expr, sympy.Eq):
        return None
    rhs = expr.rhs
    if not isinstance(rhs, sympy.Add):
        return None
    terms = rhs.as_ordered_terms()
    pieces = []
    for i, t in enumerate(terms):
        neg = t.could_extract_minus_sign()
        body = latex_of(-t if neg else t)
        if isinstance(-t if neg else t, sympy.Add):
            body = r"\left(" + body + r"\right)"
        sign = "-" if neg else ("+" if i else "")
        pieces.append((sign, body))
    lines, cur = [], []
    for sign, body in pieces:
        if cur and sum(len(b) for _, b in cur) + len(body) > LINE_CHARS:
            lines.append(cur)
            cur = []
        cur.append((sign, body))
    lines.append(cur)
    if len(lines) < 2:
        return None

    def row_tex(row, first):
        return " ".join(f"{sg} {b}".strip() for sg, b in row)

    left = 'style="text-align: left; padding: 0.15em 0"'
    right = 'style="text-align: right; padding: 0.15em 0"'
    rows = [f"<mtr><mtd {right}>{_inner(_via_latex(latex_of(expr.lhs), 'inline'))}</mtd>"
            f"<mtd {left}><mo>=</mo>{_inner(_via_latex(row_tex(lines[0], True), 'inline'))}</mtd></mtr>"]
    for row in lines[1:]:
        rows.append(f"<mtr><mtd></mtd><mtd {left}><mspace width='1em'></mspace>"
                    f"{_inner(_via_latex(row_tex(row, False), 'inline'))}</mtd></mtr>")
    return f'<math xmlns="{_MATH_NS}" display="block"><mtable>{"".join(rows)}</mtable></math>'


def to_mathml(expr, *, display: str = "block") -> Markup:
    """A ``<math>`` element for ``expr`` (display ``block`` or ``inline``), with its LaTeX as annotation."""
    tex = latex_of(expr)
    try:
        out = None
        if len(tex) > LINE_CHARS:
            try:
                out = _broken_lines(expr, display)
            except Exception:
                out = None
        out = out or _via_latex(tex, display)
    except Exception:  # latex2mathml does not know every command SymPy prints
        try:
            out = _via_sympy(expr, display) if not isinstance(expr, str) else None
        except Exception:
            out = None
        if out is None:
            return Markup(f'<math xmlns="{_MATH_NS}" display="{display}"><mtext>{html.escape(str(expr))}</mtext></math>')
    # wrap the rendered content with its LaTeX source: <semantics> shows only its first child
    start = out.index(">") + 1
    end = out.rindex("</math>")
    inner = out[start:end]
    annotated = (f"{out[:start]}<semantics><mrow>{inner}</mrow>"
                 f'<annotation encoding="application/x-tex">{html.escape(tex)}</annotation></semantics></math>')
    return Markup(annotated)
