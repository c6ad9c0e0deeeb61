"""``oarcontour report`` in-process: the page is written for our own and a vendor's RTSTRUCT, the JSON
document tells where and what, and bad input exits 2 with nothing written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pydicom
import pytest
from OARContourLib.cli.main import main
from testsupport.phantom_rtstruct import small_phantom_at, write_phantom_rtstruct

VARIAN = ("varian_aria_4slice/dicom/RS_Body_SpinalCord.dcm", "varian_aria_4slice/dicom")
RAYSTATION = ("vendor_rtstructs/raystation9_cheese/RS1.2.752.243.1.1.20210208111802158.1580.88111.dcm",
              "vendor_rtstructs/raystation9_cheese")


@pytest.fixture(scope="module")
def phantom_rs(small_phantom, tmp_path_factory) -> Path:
    return write_phantom_rtstruct(small_phantom, tmp_path_factory.mktemp("report_cli") / "rs.dcm")


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(["report", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def roi_names(rtstruct: Path) -> list[str]:
    return [str(item.ROIName) for item in pydicom.dcmread(rtstruct).StructureSetROISequence]


def table_row(page: str, name: str) -> bool:
    return re.search(f'<tr class="[^"]*" data-roi="{re.escape(name)}"><td><span class="swatch"', page) is not None


def test_phantom_report_with_json(phantom_rs: Path, small_phantom, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report.html"
    code, doc = run_json(capsys, str(phantom_rs), "--ct", str(small_phantom.ct_dir), "--out", str(out))
    assert code == 0 and doc["schema"] == "oarcontour.report/1"
    assert doc["path"] == str(out) and doc["bytes"] == out.stat().st_size > 100_000
    assert doc["structure_count"] == len(roi_names(phantom_rs)) and doc["has_errors"] is False
    page = out.read_text(encoding="utf-8")
    assert all(table_row(page, name) for name in roi_names(phantom_rs))


def test_template_findings_reach_the_page(phantom_rs: Path, small_phantom, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report.html"
    code, doc = run_json(capsys, str(phantom_rs), "--ct", str(small_phantom.ct_dir), "--out", str(out),
                         "--template", "Thorax", "--tps", "eclipse")
    assert code in (0, 1) and doc["has_errors"] is (code == 1)
    page = out.read_text(encoding="utf-8")
    assert "site template Thorax" in page and "TPS profile eclipse" in page
    assert "TEMPLATE_MISSING" in page  # Trachea and Kidney_R have no voxel on this grid, so they are missing


@pytest.mark.parametrize("case, names", [(VARIAN, ["BODY", "SpinalCord"]), (RAYSTATION, ["External", "max"])])
def test_vendor_rtstruct_report(shared_data: Path, tmp_path: Path, capsys, case, names) -> None:
    rtstruct, ct_dir = (shared_data / part for part in case)
    out = tmp_path / "report.html"
    code = main(["report", str(rtstruct), "--ct", str(ct_dir), "--out", str(out)])
    text = capsys.readouterr().out
    assert code in (0, 1) and text.startswith(f"Wrote {out} (") and "structures" in text
    page = out.read_text(encoding="utf-8")
    assert all(table_row(page, name) for name in names)
    assert page.count("data:image/png;base64,") == 3 + len(names)  # overview trio and a close-up each


def test_existing_output_needs_overwrite(phantom_rs: Path, small_phantom, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report.html"
    out.write_text("keep me", encoding="utf-8")
    argv = ["report", str(phantom_rs), "--ct", str(small_phantom.ct_dir), "--out", str(out)]
    assert main(argv) == 2
    assert "exists" in capsys.readouterr().err and out.read_text(encoding="utf-8") == "keep me"
    assert main([*argv, "--overwrite"]) == 0 and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_rtstruct_of_another_ct_exits_2(phantom_rs: Path, tmp_path: Path, capsys) -> None:
    other = small_phantom_at(tmp_path / "other", "FFS")
    out = tmp_path / "report.html"
    assert main(["report", str(phantom_rs), "--ct", str(other.ct_dir), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "does not belong to this CT" in err and "Pass --ct the folder" in err and not out.exists()


@pytest.mark.parametrize("rtstruct, message", [
    ("varian_aria_4slice/dicom/CT_1.dcm", "is not an RTSTRUCT"),
    ("varian_aria_4slice/no_such.dcm", "not found"),
])
def test_unusable_rtstruct_exits_2(shared_data: Path, tmp_path: Path, capsys, rtstruct: str, message: str) -> None:
    out = tmp_path / "report.html"
    code = main(["report", str(shared_data / rtstruct), "--ct", str(shared_data / VARIAN[1]), "--out", str(out)])
    assert code == 2 and message in capsys.readouterr().err and not out.exists()


def test_unknown_template_exits_2_before_reading(phantom_rs: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(phantom_rs), "--ct", str(tmp_path / "no_ct"), "--out", str(out),
                 "--template", "Nowhere"]) == 2
    assert "Unknown site template 'Nowhere'" in capsys.readouterr().err and not out.exists()
