"""The agreement report (lindiff-verify report): files, error cards, atomic writes, determinism, offline page.

Runs on a small subset — eq.9 plus a temporary folder of tiny fake derivations — not the whole registry.
"""

from __future__ import annotations

import json
import re
import os
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner

from lindiff_verify.model.errors import InputError
from lindiff_verify.report import build_report, report, write_atomic
from lindiff_verify.report import render as render_mod
from lindiff_verify.report.mathml import to_mathml
from lindiff_verify.report.render import fmt_num
from lindiff_verify.verification.runner import SCHEMA

EQ9 = Path(__file__).resolve().parent.parent / "derivations" / "main" / "eq09_residual_loss.py"

FAKE_OK = '''
"""A tiny derivation for report tests: E[z^2] = 1 for z ~ N(0, 1), by algebra and by Monte Carlo."""
import numpy as np
import sympy as sp
from lindiff_verify.verification import checks
from lindiff_verify.verification.registry import Case, Derivation, Figure, Mutant, Outcome, PaperRef, Variable

s = sp.Symbol("sigma", positive=True)

def _mc_reference(ctx):
    return ctx.rng("draws").standard_normal(4000)

def _mc_compare(st, z, ctx):
    f = checks.lambdify((s,), st["m2"])
    se = float(np.std(z**2) / np.sqrt(z.size))
    out = Outcome(cases=[Case({"sigma": v}, float(f(v)), float(np.mean((v * z) ** 2)), 6 * v**2 * se)
                         for v in (0.5, 1.0, 2.0)])
    out.measurements["sample mean"] = float(np.mean(z))
    return out

def _figure(ctx):
    import matplotlib.pyplot as plt
    z = ctx.rng("points").standard_normal(300)
    fig, ax = plt.subplots(figsize=(4, 2.5))
    ax.hist(z, bins=20)
    ax.set_xlabel("z")
    return fig

fake_ok = Derivation(
    id="X.901", title="Second moment of a scaled Gaussian", paper_ref=PaperRef("X.901", "test"),
    statement={"m2": s**2}, display=sp.Eq(sp.Symbol("m_2"), s**2 / (1 + 0 * s)),
    variables=[Variable(s, "scale", "sigma > 0")], assumptions=["z ~ N(0, 1)"],
    checks=[checks.symbolic("sympy: variance identity", lambda st: {"m2 - sigma^2": st["m2"] - s**2}),
            checks.numeric("monte carlo", "montecarlo", _mc_compare, reference=_mc_reference,
                           error_model="6 standard errors of the sample mean")],
    mutants=[Mutant("sigma", "sigma instead of sigma^2", replace={"m2": s}),
             Mutant("2 sigma^2", "a factor 2", replace={"m2": 2 * s**2})],
    figures=[Figure("hist", "Histogram of the draws", _figure, caption="300 draws.")],
)
'''

FAKE_BROKEN = '''
import sympy as sp
from lindiff_verify.verification import checks
from lindiff_verify.verification.registry import Derivation, Figure, Mutant, PaperRef, Variable

x = sp.Symbol("x", positive=True)

def _boom(st, ref, ctx):
    raise RuntimeError("deliberately broken check")

def _bad_figure(ctx):
    raise ValueError("deliberately broken figure")

broken = Derivation(
    id="X.902", title="A derivation whose check raises", paper_ref=PaperRef("X.902", "test"),
    statement={"a": x}, variables=[Variable(x, "x", "x > 0")],
    checks=[checks.numeric("raises", "numeric", _boom, error_model="none"),
            checks.numeric("raises too", "numeric", _boom, error_model="none")],
    mutants=[Mutant("2x", "doubled", replace={"a": 2 * x}), Mutant("3x", "tripled", replace={"a": 3 * x})],
    figures=[Figure("bad", "A figure that raises", _bad_figure)],
)
'''


@pytest.fixture
def fake_ok(tmp_path):
    d = tmp_path / "fake_ok"
    d.mkdir()
    (d / "fake_ok.py").write_text(textwrap.dedent(FAKE_OK))
    return d


@pytest.fixture
def fake_broken(tmp_path):
    d = tmp_path / "fake_broken"
    d.mkdir()
    (d / "fake_broken.py").write_text(textwrap.dedent(FAKE_BROKEN))
    return d


def _build(out, *paths, **kw):
    kw.setdefault("progress", False)
    return build_report(None, out, derivation_paths=[EQ9, *paths], include_builtin=False, **kw)


def _strip_timings(v):
    """The record without what legitimately changes between runs (timings, generation time, tracebacks)."""
    if isinstance(v, dict):
        return {k: _strip_timings(u) for k, u in v.items() if k not in ("seconds", "generated", "traceback", "profile")}
    if isinstance(v, list):
        return [_strip_timings(u) for u in v]
    return v


def test_report_writes_page_and_json_twin(tmp_path, fake_ok):
    record = _build(tmp_path / "out", fake_ok)
    page = (tmp_path / "out" / "index.html").read_text()
    doc = json.loads((tmp_path / "out" / "agreement.json").read_text())
    assert doc == json.loads(json.dumps(record))
    assert doc["schema"] == SCHEMA
    assert [d["id"] for d in doc["derivations"]] == ["eq.9", "X.901"]  # paper order: main text, then extensions
    assert doc["summary"]["agree"] == 2 and doc["summary"]["mutants_killed"] == doc["summary"]["mutants"] == 5
    for key in ("seed", "backend", "version", "git_commit", "packages", "seconds"):
        assert key in doc["provenance"]
    for did in ("eq.9", "X.901"):
        assert f'data-derivation="{did}"' in page
    # the statement is MathML, and no card shows raw LaTeX as its only form
    assert page.count("<math") >= 4 and "<mfrac>" in page
    # figure metadata: name, seed, the generating function and the random streams it drew
    (fig,) = doc["derivations"][1]["figures"]
    assert fig["name"] == "hist" and fig["seed"] == 0 and fig["error"] is None
    assert fig["function"] == "derivations.fake_ok._figure"
    assert fig["streams"] == ["X.901/figure/hist/points"]
    assert "data:image/svg+xml;base64," in page


def test_error_card_and_exit_status(tmp_path, fake_ok, fake_broken):
    out = tmp_path / "out"
    result = CliRunner().invoke(report, ["--out", str(out), "--no-builtin", "--no-progress", "--derivations", str(EQ9),
                                         "--derivations", str(fake_ok), "--derivations", str(fake_broken)])
    assert result.exit_code == 1, result.output
    doc = json.loads((out / "agreement.json").read_text())
    by_id = {d["id"]: d for d in doc["derivations"]}
    assert by_id["X.902"]["verdict"] == "error"
    assert by_id["eq.9"]["verdict"] == by_id["X.901"]["verdict"] == "agree"  # other cards are still written
    assert doc["summary"]["error"] == 1 and doc["summary"]["figure_errors"] == 1
    (bad_fig,) = by_id["X.902"]["figures"]
    assert bad_fig["error"] == "ValueError: deliberately broken figure"
    page = (out / "index.html").read_text()
    card = page[page.index('data-derivation="X.902"'):]
    card = card[: card.index("</article>")]
    assert "RuntimeError: deliberately broken check" in card
    assert "ValueError: deliberately broken figure" in card
    assert 'data-derivation="eq.9"' in page and 'data-derivation="X.901"' in page


def test_exit_zero_when_all_agree_and_two_on_bad_input(tmp_path, fake_ok):
    run = CliRunner()
    ok = run.invoke(report, ["eq.9", "X.901", "--out", str(tmp_path / "a"), "--no-builtin", "--no-progress",
                             "--derivations", str(EQ9), "--derivations", str(fake_ok)])
    assert ok.exit_code == 0, ok.output
    unknown = run.invoke(report, ["no.such.id", "--out", str(tmp_path / "b"), "--no-builtin", "--no-progress",
                                  "--derivations", str(EQ9)])
    assert unknown.exit_code == 2
    assert "invalid derivation id" in unknown.output and "no.such.id" in unknown.output
    bad_jobs = run.invoke(report, ["--jobs", "0", "--out", str(tmp_path / "c"), "--no-builtin", "--no-progress",
                                   "--derivations", str(EQ9)])
    assert bad_jobs.exit_code == 2 and "--jobs" in bad_jobs.output and len(bad_jobs.output.strip().splitlines()) == 1
    missing = run.invoke(report, ["--out", str(tmp_path / "d"), "--no-builtin", "--derivations", str(tmp_path / "nope")])
    assert missing.exit_code == 2
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def test_failed_rendering_leaves_the_old_report_intact(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("OLD PAGE")
    (out / "agreement.json").write_text('{"old": true}')

    def broken_render(data):
        raise RuntimeError("template exploded")

    monkeypatch.setattr(render_mod, "render_html", broken_render)
    with pytest.raises(RuntimeError, match="template exploded"):
        _build(out)
    assert (out / "index.html").read_text() == "OLD PAGE"
    assert (out / "agreement.json").read_text() == '{"old": true}'
    assert sorted(p.name for p in out.iterdir()) == ["agreement.json", "index.html"]


def test_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "index.html"
    target.write_text("OLD PAGE")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "NEW PAGE " * 10000)
    assert target.read_text() == "OLD PAGE"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]
    monkeypatch.undo()
    write_atomic(target, "NEW PAGE")
    assert target.read_text() == "NEW PAGE"


def test_same_seed_gives_the_same_numbers(tmp_path, fake_ok):
    a = _strip_timings(_build(tmp_path / "a", fake_ok, seed=3))
    b = _strip_timings(_build(tmp_path / "b", fake_ok, seed=3))
    assert a == b
    c = _strip_timings(_build(tmp_path / "c", fake_ok, seed=4))
    # the Monte Carlo draws depend on the seed
    mc = lambda r: r["derivations"][1]["checks"][1]["measurements"]["sample mean"]  # noqa: E731
    assert mc(a) != mc(c)


def test_workers_give_the_same_numbers_as_a_serial_run(tmp_path, fake_ok):
    serial = _strip_timings(_build(tmp_path / "s", fake_ok, jobs=1))
    parallel = _strip_timings(_build(tmp_path / "p", fake_ok, jobs=2))
    serial["provenance"].pop("jobs"), parallel["provenance"].pop("jobs")
    assert serial == parallel


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        self.urls += [v for k, v in attrs if k in ("src", "href", "srcset", "action", "data") and v]


def test_page_has_no_external_urls(tmp_path, fake_ok):
    _build(tmp_path / "out", fake_ok)
    page = (tmp_path / "out" / "index.html").read_text()
    parser = _Links()
    parser.feed(page)
    assert parser.urls, "expected internal links (table of contents, figures)"
    external = [u for u in parser.urls if u.lower().startswith(("http://", "https://", "//"))]
    assert external == []
    assert all(u.startswith(("#", "data:image/")) for u in parser.urls)
    assert "@import" not in page and "url(" not in page
    assert "<script" not in page  # nothing to run, nothing to fetch
    assert "Content-Security-Policy" in page


def test_bad_output_folder_is_an_input_error(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match="out"):
        _build(f)


def test_numbers_are_formatted_for_reading():
    assert fmt_num(0.0) == "0"
    assert fmt_num(None) == "—"
    assert fmt_num("inf") == "∞"
    assert fmt_num(0.25) == "0.25"
    assert "10<sup>−13</sup>" in fmt_num(2.238e-13) and fmt_num(2.238e-13).startswith("2.24")
    assert "10<sup>6</sup>" in fmt_num(1.5e6)


def test_statements_render_as_mathml_with_their_latex_kept():
    lam, abar = sp.Symbol("lambda"), sp.Symbol("alphabar")
    m = str(to_mathml(abar * lam / (abar * lam + 1 - abar)))
    assert m.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">')
    assert "<mfrac>" in m and "&#x003B1;" in m and "&#x003BB;" in m  # a fraction of alpha-bar and lambda
    assert '<annotation encoding="application/x-tex">' in m and r"\bar{\alpha}" in m
    inline = str(to_mathml(sp.Symbol("sigma"), display="inline"))
    assert 'display="inline"' in inline and "&#x003C3;" in inline


SLOW = '''
import time
import sympy as sp
from lindiff_verify.verification import checks
from lindiff_verify.verification.registry import Case, Derivation, Mutant, PaperRef, Variable

x = sp.Symbol("x")

def _slow(st, ref, ctx):
    time.sleep(30)
    return [Case({}, 0.0, 0.0, 0.0)]

slow = Derivation(id="X.903", title="Hangs", paper_ref=PaperRef("X.903", "test"), statement={"a": x},
                  variables=[Variable(x, "x", "real")],
                  mutants=[Mutant("2x", "doubled", replace={"a": 2 * x}), Mutant("3x", "tripled", replace={"a": 3 * x})],
                  checks=[checks.numeric("sleeps", "numeric", _slow, error_model="none"),
                          checks.numeric("sleeps too", "numeric", _slow, error_model="none")])
'''


def test_a_derivation_past_its_timeout_is_an_error_card(tmp_path):
    folder = tmp_path / "slow"
    folder.mkdir()
    (folder / "slow.py").write_text(textwrap.dedent(SLOW))
    rec = _build(tmp_path / "out", folder, timeout=5)
    by_id = {d["id"]: d for d in rec["derivations"]}
    assert by_id["X.903"]["verdict"] == "error"
    assert by_id["X.903"]["error"].startswith("DerivationTimeout: X.903 ran longer than 5 s")
    assert by_id["eq.9"]["verdict"] == "agree"


def test_a_file_that_does_not_import_is_refused_before_any_check_runs(tmp_path, fake_ok):
    """As for list and check: one line naming the file and the problem, exit 2, nothing written."""
    (fake_ok / "broken_syntax.py").write_text("this is not python (\n")
    with pytest.raises(InputError, match=r"broken_syntax\.py: line 1: SyntaxError"):
        _build(tmp_path / "out", fake_ok)
    result = CliRunner().invoke(report, ["X.901", "--out", str(tmp_path / "o"), "--no-builtin", "--no-progress",
                                         "--derivations", str(fake_ok)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "broken_syntax.py" in result.output and not (tmp_path / "o").exists()


def test_a_surviving_mutant_fails_the_run(tmp_path, fake_ok):
    src = (fake_ok / "fake_ok.py").read_text()
    (fake_ok / "fake_ok.py").write_text(src.replace('Mutant("2 sigma^2", "a factor 2", replace={"m2": 2 * s**2})',
                                                    'Mutant("no change", "the claim itself", replace={"m2": s**2})'))
    result = CliRunner().invoke(report, ["X.901", "--out", str(tmp_path / "o"), "--no-builtin", "--no-progress",
                                         "--derivations", str(fake_ok)])
    assert result.exit_code == 1
    assert "mutant 'no change' survived" in result.output
    page = (tmp_path / "o" / "index.html").read_text()
    assert "survived" in page and "1/2 killed" in page


def test_profile_prints_where_the_time_went(tmp_path, fake_ok):
    result = CliRunner().invoke(report, ["--out", str(tmp_path / "p"), "--no-builtin", "--no-progress", "--profile",
                                         "--derivations", str(EQ9), "--derivations", str(fake_ok)])
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert "where the time went" in err
    for phase in ("discovery", "derivations (checks, mutants, figures)", "rendering the page"):
        assert phase in err
    # per derivation (checks, mutants, figures), per check and per figure
    assert re.search(r"^eq\.9\s+\d+\.\d+\s+\d+\.\d+\s+\d+\.\d+", err, re.M)
    assert "X.901  monte carlo" in err and "X.901  hist" in err
    assert "where the time went" not in result.stdout
    rec = json.loads((tmp_path / "p" / "agreement.json").read_text())
    assert {"discovery", "rendering"} <= set(rec["provenance"]["profile"])
