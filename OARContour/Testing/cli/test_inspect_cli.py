"""``oarcontour inspect`` in-process: exit codes, JSON shape, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from OARContourLib.cli.main import main
from testsupport.series_factory import sorted_files

SERIES_KEYS = {"series_uid", "modality", "slices", "rows", "columns", "spacing", "patient_position"}


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(["inspect", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_clean_series_exits_0_with_documented_json(small_phantom, capsys) -> None:
    code, doc = run_json(capsys, str(small_phantom.ct_dir))
    assert code == 0
    assert doc["schema"] == "oarcontour.inspect/1"
    assert doc["selected"] == small_phantom.series_instance_uid
    assert doc["problems"] == []
    (series,) = doc["series"]
    assert SERIES_KEYS <= series.keys()
    assert (series["slices"], series["rows"], series["columns"]) == (16, 64, 64)
    assert series["modality"] == "CT" and series["patient_position"] == "HFS"
    assert series["spacing"] == pytest.approx([8.0, 8.0, 10.0])


def test_series_with_errors_exits_1(small_ct_copy: Path, capsys) -> None:
    sorted_files(small_ct_copy)[4].unlink()
    code, doc = run_json(capsys, str(small_ct_copy))
    assert code == 1
    problem = doc["problems"][0]
    assert problem["code"] == "MISSING_SLICE" and problem["severity"] == "error" and len(problem["files"]) == 2


def test_jpeg2000_empty_uids_series_exits_1_with_missing_uid(shared_data: Path, capsys) -> None:
    code, doc = run_json(capsys, str(shared_data / "totalsegmentator_example/example_ct_dicom"))
    assert code == 1
    assert doc["selected"] == ""
    assert {p["code"] for p in doc["problems"]} == {"MISSING_UID"}


def test_warnings_only_exit_0(shared_data: Path, capsys) -> None:
    code, doc = run_json(capsys, str(shared_data / "vendor_rtstructs/raystation9_cheese"))
    assert code == 0
    assert [p["code"] for p in doc["problems"]] == ["UNREADABLE_FILE"]
    assert {s["modality"] for s in doc["series"]} == {"CT", "RTSTRUCT"}


def test_text_output_marks_the_selected_series(shared_data: Path, capsys) -> None:
    assert main(["inspect", str(shared_data / "ibsi_sts002/dicom")]) == 0
    out = capsys.readouterr().out
    assert "* CT" in out and "RTSTRUCT" in out and "OK" in out


@pytest.mark.parametrize("argv", [["inspect", "/nonexistent/ct"], ["inspect", ""], ["inspect"], []])
def test_bad_usage_exits_2_with_one_line_and_no_traceback(argv: list[str], capsys) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and captured.out == ""
    assert captured.err.strip()


def test_empty_folder_and_unknown_series_exit_2(tmp_path: Path, small_phantom, capsys) -> None:
    assert main(["inspect", str(tmp_path)]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["inspect", str(small_phantom.ct_dir), "--series", "1.2.3"]) == 2
    err = capsys.readouterr().err
    assert "1.2.3 is not in" in err and small_phantom.series_instance_uid in err
    assert len(err.strip().splitlines()) == 1
