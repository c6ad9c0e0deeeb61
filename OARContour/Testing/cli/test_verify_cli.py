"""``oarcontour verify`` in-process: exit codes 0/1/2, JSON report, grouped text, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from OARContourLib.cli.main import main
from OARContourLib.ct.load import load_ct
from OARContourLib.rtstruct.model import RoiType, Structure
from OARContourLib.rtstruct.rules import RULES
from OARContourLib.rtstruct.write import write_rtstruct

IBSI_RS = "ibsi_sts002/dicom/mask/RS.dcm"
IBSI_CT = "ibsi_sts002/dicom/image"


def _write(folder: Path, small_phantom, external: bool) -> Path:
    """Our writer's RTSTRUCT of the phantom; without an EXTERNAL it has one warning (NO_EXTERNAL)."""
    ct = load_ct(small_phantom.ct_dir)
    structures = []
    for name, path in small_phantom.truth_files.items():
        mask = sitk.GetArrayFromImage(sitk.ReadImage(str(path))).astype(bool)
        body = name == "Body" and external
        structures.append(Structure(name, mask, roi_type=RoiType.EXTERNAL if body else RoiType.ORGAN))
    write_rtstruct(folder / "rs.dcm", ct, structures)
    return folder / "rs.dcm"


@pytest.fixture(scope="module")
def clean_rs(small_phantom, tmp_path_factory) -> Path:
    return _write(tmp_path_factory.mktemp("clean"), small_phantom, external=True)


@pytest.fixture(scope="module")
def warning_rs(small_phantom, tmp_path_factory) -> Path:
    return _write(tmp_path_factory.mktemp("warning"), small_phantom, external=False)


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(["verify", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_clean_file_exits_0_with_documented_json(clean_rs: Path, small_phantom, capsys) -> None:
    code, doc = run_json(capsys, str(clean_rs), "--ct", str(small_phantom.ct_dir), "--tps", "eclipse")
    assert code == 0
    assert doc["schema"] == "oarcontour.verify/1" and doc["profile"] == "eclipse"
    assert doc["has_errors"] is False and doc["findings"] == [] and doc["counts"] == {"error": 0, "warning": 0}
    assert doc["source"] == str(clean_rs) and doc["rois_checked"] > 10
    assert doc["rules"] == [rule.code for rule in RULES]


def test_warnings_only_exit_0(warning_rs: Path, small_phantom, capsys) -> None:
    code, doc = run_json(capsys, str(warning_rs), "--ct", str(small_phantom.ct_dir))
    assert code == 0
    assert [(f["code"], f["severity"]) for f in doc["findings"]] == [("NO_EXTERNAL", "warning")]


def test_errors_exit_1_with_findings_in_json(shared_data: Path, capsys) -> None:
    code, doc = run_json(capsys, str(shared_data / IBSI_RS), "--ct", str(shared_data / IBSI_CT))
    assert code == 1 and doc["has_errors"] is True
    finding = next(f for f in doc["findings"] if f["code"] == "SERIES_IMAGE_MISSING")
    assert finding["severity"] == "error" and "267 of 267" in finding["message"] and finding["hint"]
    assert set(finding) == {"code", "severity", "roi_name", "message", "hint", "slice_index"}


def test_text_output_groups_findings_by_severity(shared_data: Path, capsys) -> None:
    code = main(["verify", str(shared_data / IBSI_RS), "--ct", str(shared_data / IBSI_CT)])
    out = capsys.readouterr().out
    assert code == 1
    errors, warnings = out.index("Errors (6):"), out.index("Warnings (1):")
    assert errors < out.index("  SERIES_IMAGE_MISSING:") < warnings < out.index("  NO_EXTERNAL:")
    assert "      -> " in out and out.rstrip().endswith("6 errors, 1 warning: NOT ready for the generic profile.")


def test_clean_text_output_says_ready(clean_rs: Path, small_phantom, capsys) -> None:
    assert main(["verify", str(clean_rs), "--ct", str(small_phantom.ct_dir)]) == 0
    out = capsys.readouterr().out
    assert "Errors" not in out and "0 errors, 0 warnings: ready for the generic profile." in out


@pytest.mark.parametrize("case, message", [
    ("missing", "RTSTRUCT file not found"),
    ("ct_file", "is not an RTSTRUCT"),
    ("profile", "Unknown TPS profile 'nope'"),
    ("no_ct", "verify needs an RTSTRUCT file and --ct CT_DIR"),
    ("bad_ct", "No DICOM files found"),
])
def test_bad_input_exits_2_with_one_line(case: str, message: str, clean_rs: Path, small_phantom,
                                         tmp_path: Path, capsys) -> None:
    ct_dir = str(small_phantom.ct_dir)
    argv = {
        "missing": [str(tmp_path / "nothing.dcm"), "--ct", ct_dir],
        "ct_file": [str(next(small_phantom.ct_dir.iterdir())), "--ct", ct_dir],
        "profile": [str(clean_rs), "--ct", ct_dir, "--tps", "nope"],
        "no_ct": [str(clean_rs)],
        "bad_ct": [str(clean_rs), "--ct", str(tmp_path)],
    }[case]
    (tmp_path / "readme.txt").write_text("no DICOM here")
    before = sorted(tmp_path.iterdir())
    assert main(["verify", *argv, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in captured.err
    assert sorted(tmp_path.iterdir()) == before  # nothing written


def test_list_rules_names_every_rule(capsys) -> None:
    assert main(["verify", "--list-rules"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()] == [rule.code for rule in RULES]


def test_verify_writes_nothing(clean_rs: Path, small_phantom, capsys) -> None:
    folder_before = sorted(p.name for p in clean_rs.parent.iterdir())
    data_before = clean_rs.read_bytes()
    main(["verify", str(clean_rs), "--ct", str(small_phantom.ct_dir), "--json"])
    capsys.readouterr()
    assert sorted(p.name for p in clean_rs.parent.iterdir()) == folder_before
    assert clean_rs.read_bytes() == data_before
    assert np.array_equal(np.frombuffer(data_before, np.uint8), np.frombuffer(clean_rs.read_bytes(), np.uint8))
