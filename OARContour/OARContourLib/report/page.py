"""The HTML page: header, disclaimer, overview views with legend, structure table, findings, close-ups.

Self-contained on purpose: styles inline, images as ``data:`` URIs, no script, font or link to
another host, so the page opens the same on an offline workstation and in an e-mail attachment.
Every text from a file (names, labels, findings) goes through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass

from ..findings import Finding
from .content import ReviewContent
from .table import StructureRow
from .views import ViewImage

DISCLAIMER = ("For research and education only. OARContour is not a medical device; every contour must be "
              "reviewed and approved by a qualified person before any clinical use.")

STYLE = """
body{font-family:sans-serif;margin:16px;color:#111;background:#fff}
h1{font-size:1.4em;margin:0 0 4px}h2{font-size:1.15em;margin:20px 0 6px}
.meta{display:grid;grid-template-columns:max-content auto;gap:2px 12px;font-size:.9em}
.meta dt{font-weight:bold}.meta dd{margin:0}
.disclaimer{border:2px solid #b00;background:#fee;padding:6px 10px;margin:10px 0;font-weight:bold}
.views{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.view{margin:0}.view figcaption{font-size:.85em;text-align:center}
.frame{display:grid;grid-template-columns:1.2em auto 1.2em;grid-template-rows:1.2em auto 1.2em;
 align-items:center;justify-items:center;background:#000;color:#ff0;font-weight:bold}
.frame img{grid-column:2;grid-row:2;display:block}
.top{grid-column:2;grid-row:1}.bottom{grid-column:2;grid-row:3}.left{grid-column:1;grid-row:2}
.right{grid-column:3;grid-row:2}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px}
.swatch{display:inline-block;width:1em;height:1em;border:1px solid #333;vertical-align:middle;margin-right:4px}
table{border-collapse:collapse;font-size:.9em}th,td{border:1px solid #999;padding:3px 6px;text-align:left}
td.num{text-align:right}tr.has-error td{background:#fdd}tr.has-warning td{background:#ffd}
.absent{color:#777}.finding-error{color:#a00}.close-ups{display:flex;flex-wrap:wrap;gap:10px}
"""


@dataclass(frozen=True)
class PageInputs:
    """Everything rendered onto the page."""

    content: ReviewContent
    rows: tuple[StructureRow, ...]
    overview: tuple[ViewImage, ...]
    close_ups: tuple[tuple[str, ViewImage], ...]
    source_name: str
    generated: str
    version: str


def render_page(inputs: PageInputs) -> str:
    """The whole page as one string."""
    header = inputs.content.header
    title = f"OARContour review: {header['PatientID'] or 'no patient ID'} / {header['StructureSetLabel'] or '-'}"
    body = "\n".join([
        f"<h1>{_e(title)}</h1>", _meta(inputs), f'<p class="disclaimer">{_e(DISCLAIMER)}</p>',
        "<h2>Overview</h2>", _views(inputs.overview), _legend(inputs), "<h2>Structures</h2>", _table(inputs.rows),
        "<h2>Structure-set findings</h2>", _set_findings(inputs.content.set_findings),
        "<h2>Close-ups</h2>", _close_ups(inputs)])
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{_e(title)}</title>\n'
            f"<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _meta(inputs: PageInputs) -> str:
    header, ct = inputs.content.header, inputs.content.ct
    items = (
        ("Patient", f"{header['PatientName'].replace('^', ' ').strip()} (ID {header['PatientID'] or '-'})"),
        ("Study", f"{header['StudyDescription'] or '-'}, {_date(header['StudyDate'])}"),
        ("RTSTRUCT", f"{inputs.source_name}: label {header['StructureSetLabel'] or '-'}, "
                     f"{_date(header['StructureSetDate'])}, {header['Manufacturer'] or 'unknown producer'}"),
        ("CT", f"{header['SeriesDescription'] or '-'}: {len(ct.slices)} slices, patient position "
               f"{header['PatientPosition'] or 'unknown'} (shown in standard anatomical orientation)"),
        ("Checked for", f"TPS profile {inputs.content.tps}"
                        + (f", site template {inputs.content.template}" if inputs.content.template else "")),
        ("Generated", f"{inputs.generated} by OARContour {inputs.version}"),
    )
    return '<dl class="meta">' + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items) + "</dl>"


def _date(dicom_date: str) -> str:
    if len(dicom_date) == 8 and dicom_date.isdigit():
        return f"{dicom_date[:4]}-{dicom_date[4:6]}-{dicom_date[6:]}"
    return dicom_date or "no date"


def _image(view: ViewImage, alt: str) -> str:
    data = base64.b64encode(view.png).decode("ascii")
    return (f'<img src="data:image/png;base64,{data}" width="{view.width_px}" height="{view.height_px}" '
            f'alt="{_e(alt)}">')


def figure_html(view: ViewImage, caption: str) -> str:
    top, bottom, left, right = (_e(label) for label in view.labels)
    window = f"{view.window.name} window W{view.window.width_hu:g}/L{view.window.level_hu:g}"
    return (f'<figure class="view" data-plane="{view.plane.value}"><div class="frame">'
            f'<span class="top">{top}</span><span class="left">{left}</span>{_image(view, caption)}'
            f'<span class="right">{right}</span><span class="bottom">{bottom}</span></div>'
            f"<figcaption>{_e(caption)} ({_e(window)})</figcaption></figure>")


def _views(views: Sequence[ViewImage]) -> str:
    figures = [figure_html(v, f"{v.plane.value.capitalize()}, {'xyz'[v.plane.normal_axis]} = {v.position_mm:.1f} mm")
               for v in views]
    return '<div class="views" id="overview">' + "".join(figures) + "</div>"


def swatch_html(hex_color: str) -> str:
    return f'<span class="swatch" style="background:{hex_color}"></span>'


def _legend(inputs: PageInputs) -> str:
    shown = {name for view in inputs.overview for name in view.shown}
    items = []
    for row in inputs.rows:
        note = "" if row.name in shown else ' <span class="absent">(not in these planes)</span>'
        items.append(f'<li data-roi="{_e(row.name)}">{swatch_html(row.hex_color)}{_e(row.name)}{note}</li>')
    return '<ul class="legend" id="legend">' + "".join(items) + "</ul>"


def _table(rows: Sequence[StructureRow]) -> str:
    head = ("<tr><th>Colour</th><th>Name</th><th>RT ROI type</th><th>Volume (cm³)</th><th>Slices</th>"
            "<th>z range (mm)</th><th>Findings</th></tr>")
    return f'<table id="structures"><thead>{head}</thead><tbody>{"".join(_row(r) for r in rows)}</tbody></table>'


def _row(row: StructureRow) -> str:
    severities = {f.severity.value for f in row.findings}
    css = "has-error" if "error" in severities else "has-warning" if severities else ""
    z_range = "empty" if row.is_empty else f"{row.first_z_mm:.1f} to {row.last_z_mm:.1f}"
    return (f'<tr class="{css}" data-roi="{_e(row.name)}"><td>{swatch_html(row.hex_color)}</td><td>{_e(row.name)}</td>'
            f'<td>{_e(row.roi_type)}</td><td class="num">{row.volume_cc:.2f}</td><td class="num">{row.slice_count}</td>'
            f"<td>{_e(z_range)}</td><td>{len(row.findings)}{_finding_list(row.findings)}</td></tr>")


def _finding_list(findings: Sequence[Finding]) -> str:
    if not findings:
        return ""
    items = "".join(f'<li class="finding-{f.severity.value}">{_e(f.severity.value)} {_e(f.code)}: {_e(f.message)}'
                    + (f" <em>{_e(f.hint)}</em>" if f.hint else "") + "</li>" for f in findings)
    return f"<ul>{items}</ul>"


def _set_findings(findings: Sequence[Finding]) -> str:
    if not findings:
        return '<p id="set-findings">None.</p>'
    return f'<div id="set-findings">{_finding_list(findings)}</div>'


def _close_ups(inputs: PageInputs) -> str:
    figures = [figure_html(view, f"{name}, z = {view.position_mm:.1f} mm") for name, view in inputs.close_ups]
    return '<div class="close-ups" id="close-ups">' + "".join(figures) + "</div>"
