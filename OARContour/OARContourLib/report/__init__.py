"""The review report: one self-contained HTML page per structure set, for a person to look at.

:func:`build_report` reads an RTSTRUCT onto its CT, collects the verifier's and QA's findings, renders
contour overlays on axial, coronal and sagittal CT views (PNG, embedded as ``data:`` URIs) and
writes a page that needs no network, script or font to display.
"""

from __future__ import annotations

from .build import SCHEMA, ReportResult, build_report

__all__ = ["SCHEMA", "ReportResult", "build_report"]
