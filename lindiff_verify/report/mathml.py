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

__all__ = ["to_mathml", "equation_mathml", "latex_of", "name_tex", "lhs_for"]

_MATH_NS = "http://www.w3.org/1998/Math/MathML"
# multi-letter sub/superscripts ("L_t^{res}") read as words, not as products of italic letters
_WORD_SCRIPT = re.compile(r"([_^])\{([A-Za-z]{2,})\}")
_BARE_WORD_SCRIPT = re.compile(r"([_^])([A-Za-z]{2,})\b")


_IDENT = re.compile(r"^[A-Za-z]+\d*(?:[_^][A-Za-z0-9]+)*$")
_TOKEN = re.compile(r"(?P<greek>[A-Za-z]+)|(?P<num>\d+)|(?P<sp>\s+)|(?P<other>.)", re.S)
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "iota", "kappa",
          "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
          "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"}
#: operator-like prefixes of a name: "TrR" is Tr R, not T·r·R
_PREFIXES = ("Tr", "ln", "det")


def _word(w: str, *, after_script: bool) -> str:
    """One alphabetic run of a symbol name as LaTeX: Greek names as letters, other words upright."""
    if w in _GREEK:
        return "\\" + w
    if len(w) == 1:
        return w
    for p in _PREFIXES:
        if w.startswith(p) and len(w) > len(p) and not after_script:
            return f"\\mathrm{{{p}}}\\,{_word(w[len(p):], after_script=False)}"
    if w in ("E",):
        return w
    return f"\\mathrm{{{w}}}"


def name_tex(name: str) -> str | None:
    """LaTeX for a symbol name that SymPy would print as a product of italic letters (``df1``, ``TrR``,
    ``Lsum``, ``D_KL(p_0 ‖ p_s)``, ``(Sigma_0+kappa)^{-1}``); None when SymPy's own printing is right."""
    if _IDENT.match(name):
        from sympy.printing.conventions import split_super_sub
        from sympy.printing.latex import translate

        base, sups, subs = split_super_sub(name)
        scripts_ok = all(len(x) == 1 or x.isdigit() or x in _GREEK for x in sups + subs)
        if (len(base) == 1 or translate(base) != base) and scripts_ok:
            return None  # x, lambda_i, alphabar, Sigma_0, S1: SymPy prints these well
    out, i, script = [], 0, False
    for m in _TOKEN.finditer(name):
        kind, tok = m.lastgroup, m.group()
        if kind == "greek":
            # a trailing digit run belongs to the word as a subscript (df1 → df₁)
            out.append(_word(tok, after_script=script))
        elif kind == "num":
            prev = out[-1] if out else ""
            out.append(f"_{{{tok}}}" if prev and not script and (prev[-1].isalpha() or prev.endswith("}"))
                       and not prev.endswith(("{", "_", "^")) else tok)
        elif kind == "sp":
            out.append("\\,")
        elif tok in "_^":
            out.append(tok)
            script = True
            continue
        elif tok == "‖":
            out.append("\\|")
        elif tok in "{}":
            out.append(tok)
            if tok == "{":
                continue  # a braced script stays a script until its closing brace
        else:
            out.append(tok)
        script = False
    tex = "".join(out)
    # a script written without braces takes one token: wrap it
    tex = re.sub(r"([_^])(\\mathrm\{[^{}]*\}|\\[A-Za-z]+|[A-Za-z0-9])", r"\1{\2}", tex)
    return tex


def symbol_names(expr) -> dict:
    """``symbol_names`` for ``sympy.latex``: readable LaTeX for every badly printed symbol of ``expr``."""
    names = {}
    for sym in getattr(expr, "free_symbols", ()):
        nm = getattr(sym, "name", None)
        if isinstance(nm, str):
            tex = name_tex(nm)
            if tex:
                names[sym] = tex
    return names


def latex_of(expr) -> str:
    """LaTeX of a SymPy expression (or of a plain string, returned as text)."""
    if isinstance(expr, str):
        return r"\text{" + expr.replace("}", r"\}").replace("{", r"\{") + "}"
    try:
        tex = sympy.latex(expr, symbol_names=symbol_names(expr))
    except Exception:  # noqa: BLE001 — an odd name must not sink the print
        tex = sympy.latex(expr)
    tex = _WORD_SCRIPT.sub(lambda m: f"{m.group(1)}{{\\mathrm{{{m.group(2)}}}}}", tex)
    return tex


def _accent_bars(mathml: str) -> str:
    """latex2mathml writes \\bar as a stretchy <mo>; make it a (non-stretchy) accent so ᾱ looks like ᾱ."""
    return mathml.replace("<mover><mrow>", "<mover accent=\"true\"><mrow>").replace(
        '<mo stretchy="true">&#x000AF;</mo>', '<mo stretchy="false">&#x000AF;</mo>')


_UPRIGHT_RUN = re.compile(r'(?:<mi mathvariant="normal">[A-Za-z]</mi>){2,}')


def _names(mathml: str) -> str:
    """latex2mathml writes \\mathrm{df} as one <mi> per letter; a name is one identifier: <mi>df</mi>."""
    return _UPRIGHT_RUN.sub(lambda m: '<mi mathvariant="normal">' + re.sub(r"<[^>]+>", "", m.group(0)) + "</mi>",
                            mathml)


def _via_latex(tex: str, display: str) -> str:
    from latex2mathml.converter import convert

    out = convert(tex, display=display)
    return _names(_accent_bars(out))


def _via_sympy(expr, display: str) -> str:
    from sympy.printing.mathml import mathml

    body = mathml(expr, printer="presentation")
    return f'<math xmlns="{_MATH_NS}" display="{display}">{body}</math>'


#: a block equation longer than this (in LaTeX characters) is broken after "=" and between terms
LINE_CHARS = 100


def _inner(mathml: str) -> str:
    return mathml[mathml.index(">") + 1 : mathml.rindex("</math>")]


def _broken_lines(expr, display: str, lhs_tex: str | None = None) -> str | None:
    """A long ``lhs = a + b + c + …`` as a two-column table: ``lhs = a + b`` / ``+ c + …`` (MathML Core has
    no automatic line breaking). None when the expression is not such an equation."""
    if display != "block" or not (isinstance(expr, sympy.Eq) or lhs_tex is not None):
        return None
    if lhs_tex is None:
        lhs_tex, rhs = latex_of(expr.lhs), expr.rhs
    else:
        rhs = expr
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
    rows = [f"<mtr><mtd {right}>{_inner(_via_latex(lhs_tex, 'inline'))}</mtd>"
            f"<mtd {left}><mo>=</mo>{_inner(_via_latex(row_tex(lines[0], True), 'inline'))}</mtd></mtr>"]
    for row in lines[1:]:
        rows.append(f"<mtr><mtd></mtd><mtd {left}><mspace width='1em'></mspace>"
                    f"{_inner(_via_latex(row_tex(row, False), 'inline'))}</mtd></mtr>")
    return f'<math xmlns="{_MATH_NS}" display="block"><mtable>{"".join(rows)}</mtable></math>'


def equation_mathml(lhs_tex: str, rhs, *, display: str = "block") -> Markup:
    """``lhs = rhs`` where the left-hand side is given as LaTeX (a name built by the report) and the
    right-hand side is a SymPy expression."""
    return to_mathml(rhs, display=display, lhs_tex=lhs_tex)


def to_mathml(expr, *, display: str = "block", lhs_tex: str | None = None) -> Markup:
    """A ``<math>`` element for ``expr`` (display ``block`` or ``inline``), with its LaTeX as annotation;
    with ``lhs_tex`` the element shows the equation ``lhs = expr``."""
    tex = latex_of(expr)
    if lhs_tex is not None:
        tex = f"{lhs_tex} = {tex}"
    try:
        out = None
        if len(tex) > LINE_CHARS:
            try:
                out = _broken_lines(expr, display, lhs_tex)
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


#: left-hand sides for statement entries that are bare right-hand sides, by the entry's key (the meaning
#: of the key in this project's derivations: docs/mathematics.md §E)
_LHS = {
    "test": r"E\,L_t^{\mathrm{test}}",
    "train": r"E\,L_t^{\mathrm{train}}",
    "align": r"E\,A_t",
    "trR": r"E\,\mathrm{Tr}\,R",
    "trR2": r"E\,\mathrm{Tr}\,R^{2}",
    "trRSR": r"E\,\mathrm{Tr}\,R\Sigma_{0}R",
    "trSR": r"E\,\mathrm{Tr}\,(C+\varepsilon)^{-1}\Sigma_{0}",
    "logdet": r"E\,\ln\det(C+\varepsilon)-\ln\det\Sigma_{0}",
    "kl": r"D_{\mathrm{KL}}",
    "kl2": r"2\,E\,D_{\mathrm{KL}}",
}


def lhs_for(key: str | None, title: str = "") -> str:
    """LaTeX left-hand side for a statement entry shown without one: a known key's quantity, else the key
    itself as a name (``square`` → square), else the derivation's title as text."""
    if key in _LHS:
        return _LHS[key]
    if key:
        tex = name_tex(key)
        if tex is None:
            return latex_of(sympy.Symbol(key))
        return tex
    return r"\text{" + (title or "claim").replace("{", "").replace("}", "") + "}"
