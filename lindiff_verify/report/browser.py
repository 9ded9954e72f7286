"""Open a report in headless Chromium and measure what a reader would see (used by the browser test
and by CI): every card present, MathML laid out as mathematics, figures decoded and visible, no console
errors. Also saves a screenshot.

    python -m lindiff_verify.report.browser reports/index.html --screenshot reports/screenshot.png

Method: a copy of the page gets a probe script (error listeners first; on load it opens every <details>,
measures <math>, <mfrac> and <img> boxes and writes the facts as JSON into the DOM), which Chromium's
``--dump-dom`` returns. The screenshot is taken of the unmodified page.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["find_chromium", "inspect_page", "problems", "main"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "/usr/bin/chromium")
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
          "--enable-logging=stderr", "--v=0")

_EARLY = """<script>
window.__lv_errors = [];
window.addEventListener('error', function (e) {
  var t = e.target && e.target !== window ? (e.target.tagName + ' failed to load') : (e.message || 'error');
  window.__lv_errors.push(String(t));
}, true);
document.addEventListener('securitypolicyviolation', function (e) {
  window.__lv_errors.push('CSP blocked ' + e.blockedURI + ' (' + e.violatedDirective + ')');
});
(function () { var ce = console.error; console.error = function () {
  window.__lv_errors.push('console.error: ' + Array.prototype.join.call(arguments, ' ')); ce.apply(console, arguments); }; })();
</script>"""

_PROBE = """<script>
window.addEventListener('load', function () {
  var closedHeight = document.documentElement.scrollHeight;
  document.querySelectorAll('details').forEach(function (d) { d.open = true; });
  var box = function (el) { var r = el.getBoundingClientRect(); return {w: r.width, h: r.height, top: r.top, bottom: r.bottom}; };
  var maths = Array.prototype.map.call(document.querySelectorAll('math'), function (m) {
    var b = box(m); return {display: m.getAttribute('display') || 'inline', w: b.w, h: b.h,
      mathml: (typeof MathMLElement !== 'undefined') && (m instanceof MathMLElement)};
  });
  var fracs = Array.prototype.map.call(document.querySelectorAll('mfrac'), function (f) {
    if (f.children.length < 2) return {stacked: false};
    var a = box(f.children[0]), b = box(f.children[1]);
    return {stacked: a.bottom <= b.top + 1.5, num_h: a.h, den_h: b.h};
  });
  var imgs = Array.prototype.map.call(document.querySelectorAll('img'), function (i) {
    var b = box(i); return {complete: i.complete, natural_w: i.naturalWidth, natural_h: i.naturalHeight, w: b.w, h: b.h};
  });
  var cards = Array.prototype.map.call(document.querySelectorAll('article.card'), function (c) {
    var b = box(c); return {id: c.getAttribute('data-derivation'), verdict: c.getAttribute('data-verdict'), h: b.h};
  });
  var ext = [];
  document.querySelectorAll('[src],[href]').forEach(function (el) {
    var u = el.getAttribute('src') || el.getAttribute('href') || '';
    if (/^(https?:)?\\/\\//i.test(u)) ext.push(u);
  });
  var overflow = [];
  document.querySelectorAll('article.card').forEach(function (c) {
    var cb = c.getBoundingClientRect();
    c.querySelectorAll('figure, img, .statement math').forEach(function (f) {
      var b = f.getBoundingClientRect();
      if (b.width > 0 && (b.right > cb.right + 1 || b.left < cb.left - 1))
        overflow.push({card: c.getAttribute('data-derivation'), tag: f.tagName.toLowerCase(), right: b.right, card_right: cb.right});
    });
  });
  var facts = {cards: cards, math: maths, mfrac: fracs, images: imgs, external: ext, errors: window.__lv_errors,
               overflow: overflow,
               scroll_height: closedHeight, title: document.title};
  var pre = document.createElement('pre'); pre.id = 'lv-probe'; pre.textContent = JSON.stringify(facts);
  document.body.appendChild(pre);
});
</script>"""

_CSP = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome binary, or None."""
    env = os.environ.get("CHROMIUM")
    for c in ((env,) if env else ()) + _CANDIDATES:
        p = shutil.which(c) if c else None
        if p:
            return p
    return None


def _run(chromium: str, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="lv-chromium-") as profile:
        cmd = [chromium, *_FLAGS, f"--user-data-dir={profile}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _console_errors(stderr: str) -> list[str]:
    """Console messages of level error that Chromium logged (``CONSOLE`` lines mentioning the page)."""
    out = []
    for line in stderr.splitlines():
        if "CONSOLE" in line and ("ERROR" in line.upper().split("CONSOLE")[0] or "Uncaught" in line):
            out.append(line.strip())
    return out


#: height of one screenshot tile (Chromium's single-capture limit is about 16 384 px)
TILE_HEIGHT = 8000


def _screenshot(chromium: str, html_path: Path, page: str, shot: Path, width: int, height: int, timeout: float) -> list:
    """A screenshot of the whole page (closed <details>), however tall: tiles of TILE_HEIGHT px, each a copy of
    the page shifted up by its offset, stitched with Pillow. Returns Chromium's stderr texts."""
    from PIL import Image

    stderrs, tiles = [], []
    for y0 in range(0, height, TILE_HEIGHT):
        h = min(TILE_HEIGHT, height - y0)
        style = f"<style>html, body {{ overflow: hidden !important; }} body {{ position: relative; top: -{y0}px; }}</style>"
        fd, tmp = tempfile.mkstemp(prefix=".lv-tile-", suffix=".html", dir=html_path.parent)
        png = Path(tmp).with_suffix(".png")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(page.replace("</head>", style + "\n</head>", 1))
            r = _run(chromium, [f"--window-size={width},{h}", "--virtual-time-budget=5000", f"--screenshot={png}",
                                Path(tmp).as_uri()], timeout)
            stderrs.append(r.stderr)
            if not png.exists():
                raise RuntimeError(f"no screenshot written (chromium exit {r.returncode}): {r.stderr[-2000:]}")
            with Image.open(png) as im:
                tiles.append((y0, im.convert("RGB").crop((0, 0, width, h))))
        finally:
            os.unlink(tmp)
            if png.exists():
                png.unlink()
    whole = Image.new("RGB", (width, height), "white")
    for y0, im in tiles:
        whole.paste(im, (0, y0))
    shot.parent.mkdir(parents=True, exist_ok=True)
    whole.save(shot, optimize=True)
    return stderrs


def inspect_page(html_path: str | os.PathLike, *, screenshot: str | os.PathLike | None = None, width: int = 1280,
                 timeout: float = 120, chromium: str | None = None) -> dict:
    """Load the page in headless Chromium; return layout facts (and save a screenshot of the whole page)."""
    chromium = chromium or find_chromium()
    if not chromium:
        raise FileNotFoundError("no Chromium binary found (install Debian's 'chromium' package)")
    html_path = Path(html_path).resolve()
    page = html_path.read_text(encoding="utf-8")
    probe_page = _CSP.sub(lambda m: m.group(0).replace(m.group(1), m.group(1) + "; script-src 'unsafe-inline'"),
                          page, count=1)
    probe_page = probe_page.replace("<head>", "<head>\n" + _EARLY, 1).replace("</body>", _PROBE + "\n</body>", 1)
    fd, probe = tempfile.mkstemp(prefix=".lv-probe-", suffix=".html", dir=html_path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(probe_page)
        res = _run(chromium, [f"--window-size={width},1000", "--virtual-time-budget=15000", "--dump-dom",
                              Path(probe).as_uri()], timeout)
    finally:
        os.unlink(probe)
    m = re.search(r'<pre id="lv-probe">(.*?)</pre>', res.stdout, re.S)
    if not m:
        raise RuntimeError(f"the probe did not report (chromium exit {res.returncode}): {res.stderr[-2000:]}")
    import html as _html

    facts = json.loads(_html.unescape(m.group(1)))
    facts["console_errors"] = _console_errors(res.stderr)
    facts["chromium"] = chromium
    if screenshot is not None:
        height = int(max(facts.get("scroll_height") or 1000, 600))
        shot = Path(screenshot).resolve()
        for err in _screenshot(chromium, html_path, page, shot, width, height, timeout):
            facts["console_errors"] += [e for e in _console_errors(err) if e not in facts["console_errors"]]
        facts["screenshot"] = str(shot)
        facts["screenshot_height"] = height
    return facts


def problems(facts: dict, expected_ids=None) -> list[str]:
    """What a reader would find wrong, as sentences (empty when the page is fine)."""
    out = []
    ids = [c["id"] for c in facts["cards"]]
    if expected_ids is not None:
        missing = [i for i in expected_ids if i not in ids]
        if missing:
            out.append(f"cards missing for {missing}")
    if not facts["math"]:
        out.append("no <math> element")
    bad_math = [m for m in facts["math"] if not (m["w"] > 0 and m["h"] > 0)]
    if bad_math:
        out.append(f"{len(bad_math)} of {len(facts['math'])} <math> elements have an empty box")
    if facts["math"] and not all(m["mathml"] for m in facts["math"]):
        out.append("<math> elements are not MathMLElements (no native MathML)")
    flat = [f for f in facts["mfrac"] if not f.get("stacked")]
    if flat:
        out.append(f"{len(flat)} of {len(facts['mfrac'])} fractions are not laid out as fractions")
    bad_img = [i for i in facts["images"] if not (i["complete"] and i["natural_w"] > 0 and i["w"] > 0 and i["h"] > 0)]
    if bad_img:
        out.append(f"{len(bad_img)} of {len(facts['images'])} figures are not visible")
    over = facts.get("overflow") or []
    if over:
        out.append(f"{len(over)} figures or equations overflow their card: "
                   f"{sorted({(o['card'], o['tag']) for o in over})[:5]}")
    if facts["external"]:
        out.append(f"external references: {facts['external'][:5]}")
    errs = list(facts.get("errors") or []) + list(facts.get("console_errors") or [])
    if errs:
        out.append(f"console errors: {errs[:5]}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lindiff_verify.report.browser", description=__doc__.split("\n\n")[0])
    ap.add_argument("page", help="report index.html")
    ap.add_argument("--screenshot", help="save a full-page PNG here")
    ap.add_argument("--json", action="store_true", help="print all facts as JSON")
    a = ap.parse_args(argv)
    if not find_chromium():
        print("no Chromium binary found (install Debian's 'chromium' package)", file=sys.stderr)
        return 2
    facts = inspect_page(a.page, screenshot=a.screenshot)
    if a.json:
        print(json.dumps(facts, indent=1))
    bad = problems(facts)
    print(f"{len(facts['cards'])} cards, {len(facts['math'])} math elements, {len(facts['mfrac'])} fractions, "
          f"{len(facts['images'])} figures" + (f"; screenshot {facts['screenshot']}" if a.screenshot else ""))
    for p in bad:
        print("problem:", p, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
