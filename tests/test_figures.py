"""Every figure of every registered derivation renders, with labelled axes and readable legends."""

from __future__ import annotations

import pytest

from lindiff_verify.report.figures import MIN_LEGEND_POINTS, render_figure, unlabelled_axes
from lindiff_verify.verification.context import Context
from lindiff_verify.verification.registry import discover

FIGURES = [(d, f) for d in (discover()[k] for k in discover()) for f in d.figures]


def test_there_are_figures_to_check():
    assert len(FIGURES) >= 5


@pytest.mark.parametrize("derivation, figure", FIGURES, ids=[f"{d.id}:{f.name}" for d, f in FIGURES])
def test_figure_renders_with_labelled_axes(derivation, figure):
    meta, uri = render_figure(derivation, figure, Context(seed=0))
    assert meta["error"] is None, meta.get("traceback")
    assert uri and uri.startswith("data:image/")
    assert meta["unlabelled_axes"] == []


def test_unlabelled_axes_and_tiny_legends_are_found():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from lindiff_verify.report.figures import _readable_legends

    fig, (a, b) = plt.subplots(1, 2)
    a.plot([0, 1], [0, 1], label="x")
    a.set_xlabel("t")
    a.legend(fontsize=5)
    b.axis("off")  # no data: exempt
    assert unlabelled_axes(fig) == ["axes 0 (untitled): no y label"]
    row, (left, right) = plt.subplots(1, 2, sharey=True)  # a row of panels labels its y axis once, at the left
    for p in (left, right):
        p.plot([0, 1], [0, 1])
        p.set_xlabel("t")
    left.set_ylabel("loss")
    assert unlabelled_axes(row) == []
    plt.close(row)
    _readable_legends(fig)
    assert a.get_legend().get_texts()[0].get_fontsize() == MIN_LEGEND_POINTS
    plt.close(fig)
