"""Rich display in Jupyter: a Derivation and an agreement record render as their report cards.

``check(id, seed=0)`` runs one derivation (checks, mutants, figures) and returns an :class:`AgreementRecord`
— the agreement record (a dict, the JSON twin's schema) whose ``_repr_html_`` is the card. A
:class:`~lindiff_verify.verification.registry.Derivation` shows its card before any check has run (statement,
kind, variables, checks to be run, mutants). The card sits in an ``<iframe srcdoc>`` so the report's CSS
does not restyle the notebook.
"""

from __future__ import annotations

import html

from ..verification import registry
from ..verification.context import Context

__all__ = ["AgreementRecord", "check", "derivation_card", "record_card"]

#: height of the card's frame in a notebook (it scrolls inside)
FRAME_HEIGHT = 640


def _frame(doc: str) -> str:
    return (f'<iframe srcdoc="{html.escape(doc, quote=True)}" style="width: 100%; height: {FRAME_HEIGHT}px; '
            f'border: 1px solid #d0d7de; border-radius: 6px" sandbox></iframe>')


class AgreementRecord(dict):
    """An agreement record (plain dict: ``schema``, ``provenance``, ``derivations``, ``summary``) that a
    notebook displays as report cards."""

    def __init__(self, record: dict, views: dict | None = None):
        super().__init__(record)
        self._views = views or {}

    def _repr_html_(self) -> str:
        return record_card(self, self._views)


def record_card(record: dict, views: dict | None = None, *, framed: bool = True) -> str:
    from .build import ReportData
    from .render import render_cards

    doc = render_cards(ReportData(dict(record), views or {}))
    return _frame(doc) if framed else doc


def derivation_card(d: registry.Derivation, *, framed: bool = True) -> str:
    """The card of a derivation that has not been run: its checks listed, no verdicts yet."""
    from .build import _view

    rec = {"id": d.id, "title": d.title, "paper_ref": str(d.paper_ref), "section": d.section,
           "claim_kind": d.claim_kind, "regime": d.regime, "assumptions": list(d.assumptions),
           "variables": [{"symbol": str(v.symbol), "meaning": v.meaning, "domain": v.domain} for v in d.variables],
           "notes": d.notes, "source": d.source, "verdict": "not run",
           "checks": [{"name": c.name, "method": c.method, "error_model": c.error_model, "description": c.description,
                       "detects": getattr(c, "detects", ""), "verdict": "not run"} for c in d.checks],
           "mutants": [], "figures": []}
    return record_card({"derivations": [rec]}, {d.id: _view(d)}, framed=framed)


def check(derivation_id: str, *, seed: int = 0, fidelity: str = "quick", backend: str = "numpy",
          derivations=(), figures: bool = True) -> AgreementRecord:
    """Run one derivation by id (checks, mutants and figures) and return its agreement record, which a
    notebook shows as the report card. ``derivations``: extra folders or files of user derivations."""
    from .build import _one, discover_strict
    from ..verification.runner import SCHEMA, provenance, summarize

    ctx = Context(seed=seed, fidelity=fidelity, backend=backend)  # validates the arguments
    (d,) = discover_strict(derivations).select([derivation_id])
    rec, view = _one(d, seed, fidelity, backend, figures)
    record = {"schema": SCHEMA, "provenance": provenance(ctx), "derivations": [rec], "summary": summarize([rec])}
    return AgreementRecord(record, {d.id: view})


# a Derivation renders as its card wherever the report layer is loaded
registry.HTML_CARD = derivation_card
