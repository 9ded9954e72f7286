"""Render a derivation's figures (registry.Figure) to inline images, headless (Agg), seeded through ctx.

Each figure becomes a ``data:`` URI (SVG, or PNG when the SVG would be heavy) plus a metadata record for
the JSON: name, title, seed, the random streams it drew and the qualified name of the generating function.
A figure that raises is recorded with its error; the report goes on.
"""

from __future__ import annotations

import base64
import io
import time
import traceback

from ..verification.registry import display_module_name

__all__ = ["render_figures", "render_figure", "qualified_name", "MAX_SVG_BYTES"]

#: above this size an SVG (e.g. a dense scatter plot) is replaced by a PNG
MAX_SVG_BYTES = 400_000
PNG_DPI = 144


def _use_agg():
    import matplotlib

    if matplotlib.get_backend().lower() != "agg":
        matplotlib.use("Agg", force=True)


def qualified_name(fn) -> str:
    """``module.qualname`` of a figure function; derivation modules are named by their file stem."""
    mod = getattr(fn, "__module__", None) or "?"
    mod = display_module_name(mod)
    return f"{mod}.{getattr(fn, '__qualname__', repr(fn))}"


def _encode(fig) -> tuple[str, str, int]:
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "lindiff-verify", "svg.fonttype": "path"}):
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
        data = buf.getvalue()
    if len(data) <= MAX_SVG_BYTES:
        return "svg", "data:image/svg+xml;base64," + base64.b64encode(data).decode(), len(data)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PNG_DPI, bbox_inches="tight", metadata={"Software": None})
    data = buf.getvalue()
    return "png", "data:image/png;base64," + base64.b64encode(data).decode(), len(data)


#: legend text smaller than this (points) is enlarged: a legend must be readable at the page's scale
MIN_LEGEND_POINTS = 8.0


def _readable_legends(fig) -> None:
    for leg in [ax.get_legend() for ax in fig.axes] + list(fig.legends):
        if leg is None:
            continue
        for t in leg.get_texts():
            if t.get_fontsize() < MIN_LEGEND_POINTS:
                t.set_fontsize(MIN_LEGEND_POINTS)


def _labelled_by_neighbour(ax, axes, which: str) -> bool:
    """A panel of a grid may leave its label to a neighbour with the same axis: the panel to its left in the
    same row (y) or below it in the same column (x), with the same limits, or one sharing the axis."""
    pos = ax.get_position()
    for other in axes:
        if other is ax or not (other.get_ylabel() if which == "y" else other.get_xlabel()).strip():
            continue
        shared = (ax.get_shared_y_axes() if which == "y" else ax.get_shared_x_axes()).joined(ax, other)
        op = other.get_position()
        if which == "y":
            same = abs(op.y0 - pos.y0) < 1e-6 and abs(op.y1 - pos.y1) < 1e-6 and other.get_ylim() == ax.get_ylim()
        else:
            same = abs(op.x0 - pos.x0) < 1e-6 and abs(op.x1 - pos.x1) < 1e-6 and other.get_xlim() == ax.get_xlim()
        if shared or same:
            return True
    return False


def unlabelled_axes(fig) -> list[str]:
    """Axes that draw data but lack an x or a y label (colour bars and empty axes are exempt, and so is a grid
    panel whose label a neighbour with the same axis carries)."""
    bad = []
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible() or not (ax.lines or ax.collections or ax.patches or ax.images or ax.containers):
            continue
        if getattr(ax, "_colorbar", None) is not None or ax.get_label() == "<colorbar>":
            continue
        missing = [w for w, lab in (("x", ax.get_xlabel()), ("y", ax.get_ylabel()))
                   if not lab.strip() and not _labelled_by_neighbour(ax, fig.axes, w)]
        if missing:
            bad.append(f"axes {i} ({ax.get_title() or 'untitled'}): no {' or '.join(missing)} label")
    return bad


def render_figure(derivation, figure, ctx) -> tuple[dict, str | None]:
    """(metadata, data URI or None). The figure's context is ``ctx.scoped(id, "figure", name)``."""
    _use_agg()
    import matplotlib.figure
    import matplotlib.pyplot as plt

    fctx = ctx.scoped(derivation.id, "figure", figure.name)
    n_before = len(fctx.seeds_used)
    meta = {"name": figure.name, "title": figure.title, "caption": figure.caption,
            "function": qualified_name(figure.make), "seed": ctx.seed}
    t0 = time.perf_counter()
    fig = None
    try:
        fig = figure.make(fctx)
        if not isinstance(fig, matplotlib.figure.Figure):
            raise TypeError(f"make() returned {type(fig).__name__}, expected a matplotlib.figure.Figure")
        _readable_legends(fig)
        w_in, h_in = fig.get_size_inches()
        meta["aspect"] = round(float(w_in / h_in), 3)  # wide figures (several panels) get the card's full width
        meta["unlabelled_axes"] = unlabelled_axes(fig)
        fmt, uri, size = _encode(fig)
        meta.update({"format": fmt, "bytes": size, "error": None})
    except Exception as exc:
        uri = None
        meta.update({"format": None, "error": f"{type(exc).__name__}: {exc}",
                     "traceback": traceback.format_exc(limit=6)})
    finally:
        if fig is not None and hasattr(fig, "number"):
            plt.close(fig)
    meta["streams"] = [s["stream"] for s in fctx.seeds_used[n_before:]]
    meta["seconds"] = round(time.perf_counter() - t0, 4)
    return meta, uri


def render_figures(derivation, ctx) -> tuple[list[dict], list[str | None]]:
    metas, uris = [], []
    for f in getattr(derivation, "figures", ()) or ():
        m, u = render_figure(derivation, f, ctx)
        metas.append(m)
        uris.append(u)
    return metas, uris
