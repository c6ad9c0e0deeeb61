"""The review page as a browser shows it: headless Chromium (Debian package) renders it offline and the
screenshot holds the CT views and the structure colours, not a blank page."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from OARContourLib.naming.tables import load_tables
from OARContourLib.report import build_report
from PIL import Image
from testsupport.phantom_rtstruct import write_phantom_rtstruct

INSTALL = "apt-get install -y chromium"
TIMEOUT_S = 120
WINDOW = (1280, 2000)


def chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    reason = f"Chromium is not installed; install it with: {INSTALL}"
    if os.environ.get("OARCONTOUR_REQUIRE_CHROMIUM") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def screenshot(browser: str, page: Path, folder: Path) -> np.ndarray:
    """Render ``page`` with networking off and return the screenshot as an (rows, columns, 3) array."""
    shot = folder / f"{page.stem}.png"
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={folder / 'profile'}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
               f"--screenshot={shot}", page.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    return np.asarray(Image.open(shot).convert("RGB"))


def busyness(rgb: np.ndarray) -> tuple[float, int]:
    """Standard deviation of the grey values and the number of distinct colours."""
    distinct = np.unique(rgb.reshape(-1, 3) @ np.array([1 << 16, 1 << 8, 1]))
    return float(rgb.mean(axis=2).std()), int(distinct.size)


def color_pixels(rgb: np.ndarray, color: tuple[int, int, int]) -> int:
    return int(np.all(np.abs(rgb.astype(int) - color) <= 2, axis=2).sum())


def test_report_renders_with_images_and_structure_colours(small_phantom, tmp_path: Path) -> None:
    browser = chromium()
    rs = write_phantom_rtstruct(small_phantom, tmp_path / "rs.dcm")
    build_report(rs, small_phantom.ct_dir, tmp_path / "report.html")
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")

    shown = screenshot(browser, tmp_path / "report.html", tmp_path)
    empty = screenshot(browser, blank, tmp_path)
    assert shown.shape == empty.shape == (WINDOW[1], WINDOW[0], 3)
    (spread, colours), (blank_spread, blank_colours) = busyness(shown), busyness(empty)
    assert blank_spread < 1.0 and blank_colours <= 2  # the measure tells a blank page apart
    assert spread > 40.0 and colours > 200, (spread, colours)  # grey levels of the CT plus the outlines
    tables = load_tables()
    for name in ("Body", "Lung_L", "Lung_R", "Heart", "Liver"):
        assert color_pixels(shown, tables.default_for(name).color) > 50, name


def test_compare_report_renders_both_contours(shared_data, tmp_path: Path) -> None:
    """The comparison page shows the reference (solid) and the test (dashed) outline, each in its colour."""
    from OARContourLib.cli.main import main
    from OARContourLib.compare.page import REFERENCE_COLOR, TEST_COLOR
    from testsupport.rtstruct_copies import edited_copy

    browser = chromium()
    rs, ct_dir = shared_data / "ibsi_sts002/dicom/mask/RS.dcm", shared_data / "ibsi_sts002/dicom/image"
    moved = edited_copy(rs, tmp_path / "moved.dcm", shift_lps_mm=(4.0, -3.0, 0.0))
    page = tmp_path / "compare.html"
    assert main(["compare", str(rs), str(moved), "--ct", str(ct_dir), "--report", str(page)]) == 0
    shown = screenshot(browser, page, tmp_path)
    spread, colours = busyness(shown)
    assert spread > 20.0 and colours > 100, (spread, colours)
    assert color_pixels(shown, REFERENCE_COLOR) > 100
    assert color_pixels(shown, TEST_COLOR) > 100
