"""The review report (OARContourLib.report): every structure listed, overlays where the anatomy is,
radiological left/right for every patient position, physical aspect ratios, a self-contained page."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pydicom
import pytest
from OARContourLib.ct.load import load_ct
from OARContourLib.errors import InputError
from OARContourLib.mask_block import crop, paste
from OARContourLib.naming.tables import load_tables
from OARContourLib.phantom import PhantomVolume, build_phantom
from OARContourLib.report import build_report
from OARContourLib.report.orientation import LpsGrid, SortedBlock
from OARContourLib.report.views import (
    Overlay,
    Plane,
    ViewImage,
    busiest_index,
    close_up,
    overview,
    plane_mask,
    plane_of,
    view_at,
)
from PIL import Image
from scipy import ndimage
from testsupport.phantom_rtstruct import SMALL_PHANTOM, small_phantom_at, write_phantom_rtstruct

ODD_NAME = "Heart<b>&amp;\"x'</b>"


class PageParser(HTMLParser):
    """Structure names in the table and the legend, images per section, and every src/href."""

    def __init__(self) -> None:
        super().__init__()
        self.table_rows: list[str] = []
        self.legend: list[str] = []
        self.images: dict[str, list[str]] = {}
        self.links: list[str] = []
        self.captions: list[str] = []
        self._section = ""
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id") in ("overview", "close-ups"):
            self._section = str(found["id"])
        if tag == "tr" and found.get("data-roi") is not None:
            self.table_rows.append(str(found["data-roi"]))
        if tag == "li" and found.get("data-roi") is not None:
            self.legend.append(str(found["data-roi"]))
        if tag == "figure":
            self.images.setdefault(self._section, [])
        if tag == "img":
            self.images.setdefault(self._section, []).append(str(found["src"]))
        self.links += [str(value) for key, value in attrs if key in ("src", "href")]
        self._in_caption = tag == "figcaption"

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self.captions.append(data)


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    return parser


def decode(src: str) -> Image.Image:
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix)
    image = Image.open(io.BytesIO(base64.b64decode(src[len(prefix):])))
    assert image.format == "PNG"
    return image.convert("RGB")


@pytest.fixture(scope="module")
def hfs_report(small_phantom, tmp_path_factory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("report_hfs")
    rs = write_phantom_rtstruct(small_phantom, folder / "rs.dcm")
    return folder / "report.html", build_report(rs, small_phantom.ct_dir, folder / "report.html")


@pytest.fixture(scope="module")
def ffs_report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report_ffs")
    phantom = small_phantom_at(folder / "phantom", "FFS")
    rs = write_phantom_rtstruct(phantom, folder / "rs.dcm")
    build_report(rs, phantom.ct_dir, folder / "report.html")
    return folder / "report.html"


def roi_names(rtstruct: Path) -> list[str]:
    return [str(item.ROIName) for item in pydicom.dcmread(rtstruct).StructureSetROISequence]


def test_every_structure_is_in_the_table_and_the_legend(hfs_report) -> None:
    path, result = hfs_report
    page = parse(path.read_text(encoding="utf-8"))
    names = roi_names(path.parent / "rs.dcm")
    assert page.table_rows == names and page.legend == names
    assert result.structure_count == len(names) == 16  # Trachea and Kidney_R get no voxel on this coarse grid
    assert result.bytes == path.stat().st_size


def test_images_are_png_with_the_physical_aspect_ratio(hfs_report) -> None:
    path, _ = hfs_report
    page = parse(path.read_text(encoding="utf-8"))
    axial, coronal, sagittal = (decode(src) for src in page.images["overview"])
    columns_mm = SMALL_PHANTOM["columns"] * SMALL_PHANTOM["pixel_spacing_mm"]
    height_mm = SMALL_PHANTOM["slices"] * SMALL_PHANTOM["slice_spacing_mm"]  # coronal rows are slices
    assert axial.size == (512, 512)
    for image in (coronal, sagittal):
        assert image.width == 512
        assert abs(image.height - 512 * height_mm / columns_mm) <= 1  # 160 mm of slices under 512 mm: 160 px
    close_ups = [decode(src) for src in page.images["close-ups"]]
    assert len(close_ups) == len(roi_names(path.parent / "rs.dcm")) and all(max(image.size) == 200 for image in close_ups)


def _phantom(position: str) -> PhantomVolume:
    return build_phantom(patient_position=position, seed=7, **SMALL_PHANTOM)  # type: ignore[arg-type]


def _overlays(phantom: PhantomVolume) -> list[Overlay]:
    tables = load_tables()
    return [Overlay(name, tables.default_for(name).color, mask) for name, mask in phantom.masks.items()]


def _sorted_index(phantom: PhantomVolume, name: str, lps_axis: int) -> int:
    """Index along an LPS axis (counted toward L, P or S) of the plane through a structure's centroid."""
    geometry = phantom.geometry
    k, j, i = np.nonzero(phantom.masks[name])
    centroid = geometry.ijk_to_lps() @ np.array([i.mean(), j.mean(), k.mean(), 1.0])
    corner = geometry.ijk_to_lps() @ np.append(np.asarray(geometry.shape[::-1], float) - 1.0, 1.0)
    first = min(geometry.origin_lps[lps_axis], corner[lps_axis])
    spacing = {0: geometry.spacing_mm[0], 1: geometry.spacing_mm[1], 2: geometry.spacing_mm[2]}[lps_axis]
    return int(round((centroid[lps_axis] - first) / spacing))


def _pixels_of(view: ViewImage, color: tuple[int, int, int]) -> np.ndarray:
    rgb = np.asarray(Image.open(io.BytesIO(view.png)).convert("RGB"))
    return np.argwhere(np.all(rgb == np.asarray(color, dtype=np.uint8), axis=2))


@pytest.mark.parametrize("position", ["HFS", "FFS", "HFP", "FFP"])
@pytest.mark.parametrize("name", ["SpinalCord", "Heart", "Lung_L", "Liver"])
def test_axial_outline_pixels_lie_on_the_structure(position: str, name: str) -> None:
    """Map each pixel of the structure's colour back to LPS by the geometry alone; the structure is there."""
    phantom = _phantom(position)
    axial = view_at(phantom.hu, phantom.geometry, _overlays(phantom), Plane.AXIAL, _sorted_index(phantom, name, 2))
    geometry = phantom.geometry
    corners = geometry.ijk_to_lps() @ np.array([[0, 0, 0, 1], [63, 63, 15, 1]], dtype=float).T
    x_first, y_first = corners[0].min(), corners[1].min()  # voxel centres nearest the patient's right, anterior
    spacing = SMALL_PHANTOM["pixel_spacing_mm"]
    pixels = _pixels_of(axial, load_tables().default_for(name).color)
    assert len(pixels) > 20
    # Image column runs toward the patient's left (+x), row toward posterior (+y), 512 px over 64 voxels.
    x = x_first - spacing / 2 + (pixels[:, 1] + 0.5) * 64 * spacing / axial.width_px
    y = y_first - spacing / 2 + (pixels[:, 0] + 0.5) * 64 * spacing / axial.height_px
    lps = np.stack([x, y, np.full(len(x), axial.position_mm), np.ones(len(x))])
    i, j, k = np.rint(np.linalg.inv(geometry.ijk_to_lps()) @ lps)[:3].astype(int)
    assert np.mean(ndimage.binary_dilation(phantom.masks[name])[k, j, i]) > 0.99  # a voxel of slack at edges
    assert np.mean(phantom.masks[name][k, j, i]) > 0.9


@pytest.mark.parametrize("position", ["HFS", "FFS", "HFP", "FFP"])
def test_views_follow_radiological_convention(position: str) -> None:
    phantom = _phantom(position)
    overlays, tables = _overlays(phantom), load_tables()

    def centre(plane: Plane, through: str, name: str) -> tuple[np.ndarray, ViewImage]:
        view = view_at(phantom.hu, phantom.geometry, overlays, plane, _sorted_index(phantom, through, plane.normal_axis))
        pixels = _pixels_of(view, tables.default_for(name).color)
        assert len(pixels), (plane, name)
        return pixels.mean(axis=0), view  # (row, column)

    (lung_l, axial), (lung_r, _) = centre(Plane.AXIAL, "Lung_L", "Lung_L"), centre(Plane.AXIAL, "Lung_L", "Lung_R")
    assert lung_l[1] > axial.width_px / 2 > lung_r[1]  # the patient's left on the image's right
    assert centre(Plane.AXIAL, "Liver", "Liver")[0][1] < axial.width_px / 2
    assert centre(Plane.AXIAL, "Heart", "Heart")[0][0] < centre(Plane.AXIAL, "Heart", "SpinalCord")[0][0]  # A up
    assert centre(Plane.CORONAL, "Heart", "Heart")[0][0] < centre(Plane.CORONAL, "Heart", "Liver")[0][0]  # S up
    sagittal_heart, sagittal = centre(Plane.SAGITTAL, "SpinalCanal", "Heart")
    assert sagittal_heart[1] < centre(Plane.SAGITTAL, "SpinalCanal", "SpinalCanal")[0][1]  # anterior on the left
    assert axial.labels == ("A", "P", "R", "L") and sagittal.labels == ("S", "I", "A", "P")


def test_overview_cuts_the_most_structures() -> None:
    masks = [np.zeros((10, 4, 4), bool) for _ in range(3)]
    masks[0][2:9], masks[1][5:7], masks[2][6:10] = True, True, True  # slice 6 holds all three
    assert busiest_index([SortedBlock(m, (0, 0, 0)) for m in masks], 0, 10) == 6
    assert busiest_index([SortedBlock(np.zeros((10, 4, 4), bool), (0, 0, 0))], 0, 10) == 5  # nothing: the middle
    # The same structures as blocks (slices 2-8, 5-6, 6-9) placed on the grid: the same plane.
    blocks = [SortedBlock(np.ones((n, 1, 1), bool), (start, 1, 2)) for start, n in ((2, 7), (5, 2), (6, 4))]
    assert busiest_index(blocks, 0, 10) == 6


@pytest.mark.parametrize("position", ["HFS", "FFS", "HFP", "FFP"])
def test_plane_mask_is_the_plane_of_the_block_on_the_whole_grid(position: str) -> None:
    geometry = _phantom(position).geometry
    grid = LpsGrid.from_geometry(geometry)
    block, offset = np.random.default_rng(3).random((5, 7, 9)) > 0.5, (3, 20, 30)
    whole_zyx = grid.to_zyx(paste(block, offset, geometry.shape))
    placed = grid.sorted_block(block, offset)
    for plane in Plane:
        axis = 2 - plane.normal_axis
        for index in range(grid.shape_zyx[axis]):
            for region in ((slice(None), slice(None)), (slice(5, 40), slice(24, 33)), (slice(0, 3), slice(0, 3))):
                expected = plane_of(whole_zyx, plane, index)[region]
                found = plane_mask(placed, grid.shape_zyx, plane, index, region)
                assert (found is None) if not expected.any() else np.array_equal(found, expected), (plane, index)


@pytest.mark.parametrize("position", ["HFS", "FFP"])
def test_views_from_blocks_are_the_views_from_whole_masks(position: str) -> None:
    """Overview and every close-up: the same PNG bytes whether a structure is stored whole or as its block."""
    phantom = _phantom(position)
    whole = _overlays(phantom)
    blocks = []
    for overlay in whole:
        block, offset = crop(overlay.mask)
        blocks.append(Overlay(overlay.name, overlay.color, block, offset_kji=offset))
    assert all(b.mask.size < w.mask.size for b, w in zip(blocks, whole))
    args = (phantom.hu, phantom.geometry)
    assert overview(*args, blocks) == overview(*args, whole)
    close_ups = [close_up(*args, blocks, n) for n in range(len(whole))]
    assert [view is None for view in close_ups] == [not overlay.mask.any() for overlay in whole]
    assert close_ups == [close_up(*args, whole, n) for n in range(len(whole))]


def test_feet_first_report_puts_the_left_lung_on_the_right(ffs_report: Path) -> None:
    page = parse(ffs_report.read_text(encoding="utf-8"))
    axial = np.asarray(decode(page.images["overview"][0]))
    columns = {name: np.argwhere(np.all(axial == load_tables().default_for(name).color, axis=2))[:, 1].mean()
               for name in ("Lung_L", "Lung_R")}
    assert columns["Lung_L"] > axial.shape[1] / 2 > columns["Lung_R"]


def test_lung_close_ups_use_a_lung_window(hfs_report) -> None:
    path, _ = hfs_report
    captions = [c for c in parse(path.read_text(encoding="utf-8")).captions if "z =" in c]
    by_name = {caption.split(",")[0]: caption for caption in captions}
    assert "lung window W1500/L-600" in by_name["Lung_L"]
    assert "soft tissue window W400/L40" in by_name["Heart"]


def test_page_is_self_contained(hfs_report) -> None:
    path, _ = hfs_report
    text = path.read_text(encoding="utf-8")
    page = parse(text)
    assert page.links and all(link.startswith("data:image/png;base64,") for link in page.links)
    assert not re.search(r"https?://|<script|<link|@import|url\(", text, re.IGNORECASE)
    assert "not a medical device; every contour must be reviewed" in text
    assert "OARC-PHANTOM-THORAX-7" in text  # patient ID in the title


def test_structure_names_are_escaped(small_phantom, tmp_path: Path) -> None:
    written = write_phantom_rtstruct(small_phantom, tmp_path / "written.dcm")
    dataset = pydicom.dcmread(written)  # our writer refuses such names; other producers write them
    heart = next(item for item in dataset.StructureSetROISequence if item.ROIName == "Heart")
    heart.ROIName = ODD_NAME
    dataset.save_as(tmp_path / "rs.dcm")
    build_report(tmp_path / "rs.dcm", small_phantom.ct_dir, tmp_path / "report.html")
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert ODD_NAME not in text and "<b>" not in text
    assert "Heart&lt;b&gt;&amp;amp;&quot;x&#x27;&lt;/b&gt;" in text
    page = parse(text)
    assert ODD_NAME in page.table_rows and ODD_NAME in page.legend


def test_refuses_existing_output_and_a_foreign_ct(hfs_report, ffs_report: Path, small_phantom, tmp_path: Path) -> None:
    path, _ = hfs_report
    rs = path.parent / "rs.dcm"
    before = path.read_bytes()
    with pytest.raises(InputError, match="exists.*--overwrite"):
        build_report(rs, small_phantom.ct_dir, path)
    assert path.read_bytes() == before
    foreign_ct = load_ct(ffs_report.parent / "phantom" / "ct")
    with pytest.raises(InputError, match="does not belong to this CT.*Frame of Reference"):
        build_report(rs, foreign_ct, tmp_path / "foreign.html")
    assert list(tmp_path.iterdir()) == []


def test_same_input_gives_the_same_page(hfs_report, small_phantom, tmp_path: Path, monkeypatch) -> None:
    path, _ = hfs_report
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # pins the generation date (reproducible builds)
    pages = []
    for name in ("one.html", "two.html"):
        build_report(path.parent / "rs.dcm", small_phantom.ct_dir, tmp_path / name)
        pages.append((tmp_path / name).read_bytes())
    assert pages[0] == pages[1] and b"2023-11-14 by OARContour" in pages[0]
