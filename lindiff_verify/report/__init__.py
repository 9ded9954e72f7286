"""The agreement report: a standalone HTML page (MathML, inline figures) and its JSON twin.

``build_report(ids, out)`` runs derivations and writes ``out/index.html`` and ``out/agreement.json``;
``report`` is the click command (``lindiff-verify report``).
"""

from .build import HTML_NAME, JSON_NAME, ReportData, build_report, collect, exit_status, write_atomic
from .command import report
from .notebook import AgreementRecord, check

__all__ = ["check", "AgreementRecord", "build_report", "collect", "exit_status", "write_atomic", "report", "ReportData", "HTML_NAME", "JSON_NAME"]
