"""``build_report``: from an RTSTRUCT and its CT to one self-contained HTML review page."""

from __future__ import annotations

import datetime
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..atomic import write_file
from ..ct.load import load_ct
from ..ct.model import CTVolume
from ..findings import Severity
from ..output_paths import OutputKind, check_output
from ..progress import ProgressCallback, report, scaled
from .content import ReviewContent, collect
from .page import PageInputs, render_page
from .table import structure_rows
from .views import Overlay, ViewImage, close_up, overview

logger = logging.getLogger(__name__)

SCHEMA = "oarcontour.report/1"


@dataclass(frozen=True)
class ReportResult:
    """Where the page went and what it holds."""

    path: str
    structure_count: int
    findings_count: int
    error_count: int
    bytes: int
    seconds: float

    @property
    def has_errors(self) -> bool:
        return self.error_count > 0

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "path": self.path, "structure_count": self.structure_count,
                "findings_count": self.findings_count, "error_count": self.error_count,
                "has_errors": self.has_errors, "bytes": self.bytes, "seconds": round(self.seconds, 3)}


def build_report(rtstruct_path: str | Path, ct_dir_or_volume: str | Path | CTVolume, out_path: str | Path, *,
                 tps: str = "generic", template: str | None = None, overwrite: bool = False,
                 progress: ProgressCallback | None = None) -> ReportResult:
    """Write the review page of an RTSTRUCT drawn on a CT.

    Parameters
    ----------
    rtstruct_path
        The RTSTRUCT file; never modified.
    ct_dir_or_volume
        Folder of the CT series it references, or the CT already loaded (:func:`~OARContourLib.ct.load.load_ct`).
    out_path
        The ``.html`` file to write (atomically: it is complete or absent).
    tps, template
        Planning-system profile and optional site template the findings are checked against.
    overwrite
        Replace an existing ``out_path``.
    progress
        Optional ``progress(fraction, message) -> cancel`` callback.

    Returns
    -------
    ReportResult
        Path, structure and finding counts, size in bytes.

    Raises
    ------
    InputError
        ``out_path`` exists (without ``overwrite``), its folder does not, or it is (or lies in) an
        input (:func:`~OARContourLib.output_paths.check_output`); the RTSTRUCT or the CT cannot be
        read; the RTSTRUCT belongs to another CT; unknown ``tps`` or ``template``.
    GeometryError
        The CT series is not one regular grid.
    CancelledError
        ``progress`` asked to stop; nothing is written.
    """
    started = time.perf_counter()
    source = Path(rtstruct_path).expanduser()
    target = check_output(out_path, [source, *_ct_inputs(ct_dir_or_volume)], kind=OutputKind.FILE,
                          overwrite=overwrite)
    ct = ct_dir_or_volume
    if not isinstance(ct, CTVolume):
        ct = load_ct(ct, progress=scaled(progress, 0.0, 0.3))
    content = collect(source, ct, tps, template, scaled(progress, 0.3, 0.6))
    overview_views, close_ups = _render_views(content, scaled(progress, 0.6, 0.97))
    page = render_page(PageInputs(content, structure_rows(content.structures, ct.geometry), overview_views,
                                  close_ups, source.name, generated_date(), __version__))
    data = page.encode("utf-8")

    def write(temporary: Path) -> None:
        temporary.write_bytes(data)

    write_file(target, write)
    report(progress, 1.0, f"Wrote {target.name}")
    result = ReportResult(str(target), len(content.structures), len(content.findings),
                          sum(f.severity is Severity.ERROR for f in content.findings), len(data),
                          time.perf_counter() - started)
    logger.info("Wrote review report %s: %d structures, %d findings, %d bytes in %.1f s", target.name,
                result.structure_count, result.findings_count, result.bytes, result.seconds)
    return result


def _ct_inputs(ct: str | Path | CTVolume) -> list[str | Path]:
    """The CT folder, or for a loaded CT the folders its slice files came from: a report never goes there."""
    if not isinstance(ct, CTVolume):
        return [ct]
    return sorted({s.path.parent for s in ct.slices if s.path.name})


def _render_views(content: ReviewContent, progress: ProgressCallback | None
                  ) -> tuple[tuple[ViewImage, ...], tuple[tuple[str, ViewImage], ...]]:
    """Overview trio and close-ups in ROI order; EXTERNAL is drawn first, so organs stay on top of the body outline."""
    structures = content.structures
    drawing_order = sorted(range(len(structures)), key=lambda n: structures[n].roi_type != "EXTERNAL")
    overlays = [Overlay(s.name, s.color, s.mask.block, s.lung_window, offset_kji=s.mask.offset_kji)
                for s in (structures[n] for n in drawing_order)]
    hu, geometry = content.ct.hu, content.ct.geometry
    report(progress, 0.0, "Drawing the overview")
    views = overview(hu, geometry, overlays)
    close_ups = []
    for n, structure in enumerate(structures):
        report(progress, (n + 1) / (len(structures) + 1), f"Drawing {structure.name}")
        view = close_up(hu, geometry, overlays, drawing_order.index(n))
        if view is not None:
            close_ups.append((structure.name, view))
    return views, tuple(close_ups)


def generated_date() -> str:
    # SOURCE_DATE_EPOCH (reproducible-builds convention) pins the date, so a rebuilt page is byte-identical.
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    moment = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch.isdigit()
              else datetime.datetime.now(datetime.timezone.utc))
    return moment.date().isoformat()
