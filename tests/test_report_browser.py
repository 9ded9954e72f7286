"""End to end: the report opened in headless Chromium shows every card, laid-out MathML, visible figures and
no console errors. Saves a full-page screenshot (its path is printed: run with -s to see it) for a human to
look at. Skips when Chromium is absent (Debian: apt-get install chromium).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lindiff_verify.report import build_report
from lindiff_verify.report.browser import find_chromium, inspect_page, problems

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(find_chromium() is None, reason="Chromium not installed (apt-get install chromium)")]

EQ9 = Path(__file__).resolve().parent.parent / "derivations" / "main" / "eq09_residual_loss.py"

FAKE = '''
import numpy as np
import sympy as sp
from lindiff_verify.verification import checks
from lindiff_verify.verification.registry import Case, Derivation, Figure, Mutant, PaperRef, Variable

N = sp.Symbol("N", positive=True, integer=True)

def _exact(st, ref, ctx):
    f = checks.lambdify((N,), st["bias"])
    return [Case({"N": n}, float(f(n)), 1.0 / (n - 1), 1e-12) for n in (2, 3, 10, 100)]

def _figure(ctx):
    import matplotlib.pyplot as plt
    n = np.arange(2, 60)
    fig, ax = plt.subplots(figsize=(4.5, 2.8))
    ax.loglog(n, 1 / (n - 1), "o", ms=3, label="exact")
    ax.loglog(n, 1 / n + ctx.rng("jitter").normal(0, 1e-4, n.size), "-", label="1/N")
    ax.set_xlabel("N"); ax.legend()
    return fig

fake = Derivation(
    id="X.911", title="A deliberately wrong finite-N correction", paper_ref=PaperRef("X.911", "browser test"),
    statement={"bias": 1 / N}, display=sp.Eq(sp.Symbol("b_N"), sp.Sum(1 / N**2, (N, 1, sp.Symbol("M")))),
    variables=[Variable(N, "number of samples", "N ≥ 2")],
    checks=[checks.numeric("exact rational", "recursion", _exact, error_model="exact (1e-12)"),
            checks.numeric("exact rational, large N", "recursion",
                           lambda st, ref, ctx: [c for c in _exact(st, ref, ctx) if c.params["N"] >= 10],
                           error_model="exact (1e-12)")],
    mutants=[Mutant("N + 1", "1/(N + 1)", replace={"bias": 1 / (N + 1)}),
             Mutant("N + 2", "1/(N + 2)", replace={"bias": 1 / (N + 2)})],
    claim_kind="asymptotic", regime="N → ∞",
    figures=[Figure("decay", "Decay with N", _figure, caption="exact against 1/N.")],
)
'''


@pytest.fixture
def page(tmp_path):
    folder = tmp_path / "derivs"
    folder.mkdir()
    (folder / "fake_browser.py").write_text(textwrap.dedent(FAKE))
    out = tmp_path / "report"
    record = build_report(None, out, derivation_paths=[EQ9, folder], include_builtin=False, progress=False)
    return out / "index.html", [d["id"] for d in record["derivations"]]


def test_report_renders_in_chromium(page, tmp_path):
    html, ids = page
    shot = tmp_path / "screenshot.png"
    facts = inspect_page(html, screenshot=shot)
    print(f"\nscreenshot of the report: {shot}")
    assert problems(facts, expected_ids=ids) == []
    assert sorted(c["id"] for c in facts["cards"]) == sorted(ids) == ["X.911", "eq.9"]
    # MathML is laid out as mathematics: block equations are taller than a line of text, fractions stacked
    blocks = [m for m in facts["math"] if m["display"] == "block"]
    assert blocks and all(m["h"] > 25 for m in blocks)
    assert facts["mfrac"] and all(f["stacked"] for f in facts["mfrac"])
    (img,) = facts["images"]
    assert img["natural_w"] > 100 and img["w"] > 100
    assert facts["overflow"] == [], "no figure or equation overflows its card"
    # the screenshot is of the whole page, however tall (stitched from tiles)
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size == (1280, facts["screenshot_height"])
    assert facts["screenshot_height"] >= facts["scroll_height"] > 1000
    assert shot.stat().st_size > 10_000


def test_a_page_taller_than_one_tile_is_screenshot_whole(tmp_path):
    """A page of 2.5 tiles: the stitched screenshot has the page's full height and its bottom is drawn."""
    from PIL import Image

    from lindiff_verify.report.browser import TILE_HEIGHT

    height = int(2.5 * TILE_HEIGHT)
    page = tmp_path / "tall.html"
    page.write_text('<!doctype html><html><head><meta charset="utf-8"><style>body{margin:0}</style></head><body>'
                    f'<article class="card" data-derivation="eq.1"><div style="height:{height - 200}px;'
                    'background:#fff"></div><div style="height:200px;background:#c00"></div>'
                    '<math><mi>x</mi></math></article></body></html>')
    shot = tmp_path / "tall.png"
    facts = inspect_page(page, screenshot=shot)
    with Image.open(shot) as im:
        assert im.size[1] >= height
        assert im.convert("RGB").getpixel((100, height - 100)) == (204, 0, 0)


def test_probe_flags_a_figure_wider_than_its_card(tmp_path):
    page = tmp_path / "wide.html"
    page.write_text('<!doctype html><html><head><meta charset="utf-8"></head><body>'
                    '<article class="card" data-derivation="eq.1" style="width:300px">'
                    '<math><mi>x</mi></math><figure style="width:600px;margin:0">'
                    '<div style="width:600px;height:20px;background:#00c"></div></figure></article></body></html>')
    found = " | ".join(problems(inspect_page(page), expected_ids=["eq.1"]))
    assert "overflow their card" in found


def test_probe_flags_a_broken_page(tmp_path):
    """The probe itself: an external image and an undecodable one are both reported."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!doctype html><html><head><meta charset="utf-8">'
                   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:\">"
                   '</head><body><article class="card" data-derivation="eq.1"><math><mfrac><mi>a</mi><mi>b</mi>'
                   '</mfrac></math></article><img src="https://example.invalid/x.png">'
                   '<img src="data:image/png;base64,AAAA"></body></html>')
    facts = inspect_page(bad)
    found = " | ".join(problems(facts, expected_ids=["eq.1", "eq.2"]))
    assert "cards missing for ['eq.2']" in found
    assert "figures are not visible" in found
    assert "external references" in found
    assert "console errors" in found
