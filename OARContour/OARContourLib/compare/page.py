"""The comparison page: metric table, unpaired names, and per structure the slices of largest
disagreement with both contours drawn, plus sentences a trainee can act on.

Built from the review report's pieces (:mod:`OARContourLib.report`): the same renderer, views,
style and self-contained page (no script, no network). The reference is a solid outline, the test
a dashed outline in another colour, and a legend says which is which.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..atomic import write_file
from ..ct.model import CTVolume
from ..progress import ProgressCallback, report
from ..report.build import generated_date
from ..report.orientation import LpsGrid
from ..report.page import DISCLAIMER, STYLE, figure_html, swatch_html
from ..report.render import Color
from ..report.views import Overlay, Plane, ViewImage, crop_around, plane_mask, view_at
from .blocks import disagreement_order, pair_grid
from .inputs import StructureSet
from .result import ComparisonResult, PairResult
from .summary import summary_sentences

REFERENCE_COLOR: Color = (255, 200, 0)
TEST_COLOR: Color = (0, 170, 255)
#: Axial slices shown per structure, those with the most voxels in exactly one contour.
SLICES_SHOWN = 2
CLOSE_UP_PX = 320
EXTRA_STYLE = """
.pair{margin:14px 0;padding-top:4px;border-top:1px solid #ccc}.summary{max-width:60em}
.style-sample{display:inline-block;width:2.2em;height:0;border-top:3px solid;vertical-align:middle;margin-right:6px}
.dashed{border-top-style:dashed}
"""


@dataclass(frozen=True)
class CompareSources:
    """The two structure sets and the CT they were compared on."""

    reference: StructureSet
    test: StructureSet
    ct: CTVolume


def write_compare_report(path: str | Path, result: ComparisonResult, sources: CompareSources,
                         progress: ProgressCallback | None = None) -> Path:
    """Write the page atomically to ``path`` (the caller checked that it may be written)."""
    target = Path(path).expanduser().absolute()
    sections = []
    for index, pair in enumerate(result.pairs):
        report(progress, index / max(len(result.pairs), 1), f"Drawing {pair.reference}")
        sections.append(_pair_section(pair, result.tolerance_mm, _views(pair, sources)))
    page = _page(result, sources, sections)
    data = page.encode("utf-8")

    def write(temporary: Path) -> None:
        temporary.write_bytes(data)

    write_file(target, write)
    report(progress, 1.0, f"Wrote {target.name}")
    return target


def _views(pair: PairResult, sources: CompareSources) -> list[ViewImage]:
    """Axial close-ups through the slices where the two contours differ most (on the pair's joint box only)."""
    geometry = sources.ct.geometry
    joint = pair_grid(sources.reference.structure(pair.reference), sources.test.structure(pair.test), geometry)
    grid = LpsGrid.from_geometry(geometry)
    overlays = [Overlay(f"reference {pair.reference}", REFERENCE_COLOR, joint.reference, offset_kji=joint.start_kji),
                Overlay(f"test {pair.test}", TEST_COLOR, joint.test, dashed=True, offset_kji=joint.start_kji)]
    reference, test = (o.sorted_block(grid) for o in overlays)
    union = grid.sorted_block(joint.reference | joint.test, joint.start_kji)
    views = []
    for z in disagreement_order(reference.block, test.block)[:SLICES_SHOWN]:
        z += union.offset_zyx[0]  # both blocks share the joint box, so one offset places all three
        union_yx = plane_mask(union, grid.shape_zyx, Plane.AXIAL, z, (slice(None), slice(None)))
        if union_yx is not None:  # always: the slice holds voxels of one contour
            views.append(view_at(sources.ct.hu, geometry, overlays, Plane.AXIAL, z, crop=crop_around(union_yx, grid),
                                 longest_px=CLOSE_UP_PX))
    return views


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _number(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _page(result: ComparisonResult, sources: CompareSources, sections: Sequence[str]) -> str:
    title = "OARContour comparison"
    body = "\n".join([
        f"<h1>{_e(title)}</h1>", _meta(result, sources), f'<p class="disclaimer">{_e(DISCLAIMER)}</p>',
        _legend(sources), "<h2>Metrics</h2>", _table(result), _unpaired(result),
        "<h2>Structures</h2>", *sections])
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{_e(title)}</title>\n'
            f"<style>{STYLE}{EXTRA_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def _meta(result: ComparisonResult, sources: CompareSources) -> str:
    ct = sources.ct
    position = ct.reference.attributes.get("PatientPosition", "") or "unknown"
    items = (("Reference", Path(sources.reference.source).name), ("Test", Path(sources.test.source).name),
             ("CT", f"{len(ct.slices)} slices, patient position {position} (shown in standard anatomical orientation)"),
             ("Tolerance", f"{result.tolerance_mm:g} mm (surface Dice, added path length)"),
             ("Generated", f"{generated_date()} by OARContour {__version__}"))
    return '<dl class="meta">' + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items) + "</dl>"


def _legend(sources: CompareSources) -> str:
    items = [(REFERENCE_COLOR, "", "Reference", sources.reference.source),
             (TEST_COLOR, " dashed", "Test", sources.test.source)]
    entries = "".join(
        f'<li data-role="{role.lower()}"><span class="style-sample{style}" style="border-color:{_hex(color)}"></span>'
        f"{swatch_html(_hex(color))}{_e(role)}: {_e(Path(source).name)} ({'dashed' if style else 'solid'} outline)</li>"
        for color, style, role, source in items)
    return f'<ul class="legend" id="legend">{entries}</ul>'


def _hex(color: Color) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def _table(result: ComparisonResult) -> str:
    head = ("<tr><th>Reference</th><th>Test</th><th>Dice</th><th>HD95 (mm)</th><th>HD max (mm)</th>"
            "<th>Mean surface distance (mm)</th><th>Surface Dice</th><th>Added path length (cm)</th>"
            "<th>Volume ref / test (cm³)</th><th>Centroid shift x, y, z (mm)</th></tr>")
    rows = []
    for pair in result.pairs:
        m = pair.metrics
        shift = "–" if m.centroid_shift_mm is None else ", ".join(f"{v:+.1f}" for v in m.centroid_shift_mm)
        cells = [_e(pair.reference), _e(pair.test), _number(m.dice, 3), _number(m.hd95_mm), _number(m.hd_max_mm),
                 _number(m.msd_mm, 2), _number(m.surface_dice, 3), _number(m.apl_mm / 10.0),
                 f"{m.volume_reference_cc:.1f} / {m.volume_test_cc:.1f}", shift]
        rows.append(f'<tr data-roi="{_e(pair.reference)}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f'<table id="metrics"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _unpaired(result: ComparisonResult) -> str:
    parts = []
    for label, names, element in (("Only in the reference", result.unpaired_reference, "unpaired-reference"),
                                  ("Only in the test", result.unpaired_test, "unpaired-test")):
        listed = ", ".join(_e(n) for n in names) if names else "none"
        parts.append(f'<p id="{element}"><strong>{label}:</strong> {listed}</p>')
    return "".join(parts)


def _pair_section(pair: PairResult, tolerance_mm: float, views: Sequence[ViewImage]) -> str:
    sentences = "".join(f"<li>{_e(s)}</li>" for s in summary_sentences(pair, tolerance_mm))
    figures = "".join(figure_html(v, f"Axial, z = {v.position_mm:.1f} mm") for v in views)
    shown = figures or '<p class="absent">The two contours agree on every slice.</p>'
    return (f'<section class="pair" data-roi="{_e(pair.reference)}"><h3>{_e(pair.reference)} ↔ {_e(pair.test)}</h3>'
            f'<ul class="summary">{sentences}</ul><div class="close-ups">{shown}</div></section>')


__all__ = ["CompareSources", "write_compare_report"]
