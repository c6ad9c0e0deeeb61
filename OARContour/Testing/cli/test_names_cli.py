"""``oarcontour names suggest|check|rename`` in-process: exit codes, JSON, nothing but names changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from OARContourLib.cli.main import main
from OARContourLib.ct.load import load_ct
from OARContourLib.dicom_compat import save_dataset
from OARContourLib.rtstruct.model import RoiType, Structure
from OARContourLib.rtstruct.write import write_rtstruct
from pydicom.dataset import Dataset

#: Local names of the test RTSTRUCT → what rename must do with them (None: leave for review).
ROIS = {"Lt Parotid": "Parotid_L", "Parotid": None, "BODY": "Body", "Cord PRV 5mm": "SpinalCord_PRV05",
        "xyz": None, "Brainstem": "Brainstem", "brain stem": None, "Kidney Rt": "Kidney_R",
        "GTV_Mass": "GTV_Mass", "Duodenium": None}
#: Elements rename may write; everything else must stay as it was.
WRITABLE = {"ROIName", "ROIObservationLabel", "RTROIInterpretedType", "ROIDisplayColor"}


@pytest.fixture(scope="module")
def rtstruct(small_phantom, tmp_path_factory) -> Path:
    """Our writer's RTSTRUCT with clinical names; ROI 'Kidney Rt' loses its type and colour."""
    ct = load_ct(small_phantom.ct_dir)
    structures = []
    for index, name in enumerate(ROIS):
        mask = np.zeros(ct.hu.shape, bool)
        mask[4:8, 10 + 4 * index: 13 + 4 * index, 20:30] = True
        roi_type = RoiType.EXTERNAL if name == "BODY" else RoiType.ORGAN
        structures.append(Structure(f"S{index}", mask, color=(10 * index, 100, 200), roi_type=roi_type))
    path = tmp_path_factory.mktemp("names") / "rs.dcm"
    write_rtstruct(path, ct, structures)  # the writer refuses names like these: set them afterwards
    ds = pydicom.dcmread(path)
    for item, observation, name in zip(ds.StructureSetROISequence, ds.RTROIObservationsSequence, ROIS):
        item.ROIName, observation.ROIObservationLabel = name, name[:16]
    number = next(item.ROINumber for item in ds.StructureSetROISequence if item.ROIName == "Kidney Rt")
    for item in ds.RTROIObservationsSequence:
        if item.ReferencedROINumber == number:
            item.RTROIInterpretedType = ""
    for item in ds.ROIContourSequence:
        if item.ReferencedROINumber == number:
            del item.ROIDisplayColor
    save_dataset(ds, path, enforce_file_format=True)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def differences(before: Dataset, after: Dataset, path: str = "") -> list[str]:
    """Element-by-element comparison (recursing into sequences) outside the writable elements."""
    found = []
    for tag in sorted({e.tag for e in before} | {e.tag for e in after}):
        old, new = before.get(tag), after.get(tag)
        keyword = (old or new).keyword
        if old is None or new is None:
            if keyword not in WRITABLE:
                found.append(f"{path}/{keyword}: {'added' if old is None else 'removed'}")
        elif old.VR == "SQ":
            if len(old.value) != len(new.value):
                found.append(f"{path}/{keyword}: {len(old.value)} → {len(new.value)} items")
            for index, (a, b) in enumerate(zip(old.value, new.value)):
                found += differences(a, b, f"{path}/{keyword}[{index}]")
        elif keyword not in WRITABLE and (old.value != new.value or old.VR != new.VR):
            found.append(f"{path}/{keyword}: {old.value!r} → {new.value!r}")
    return found


# ---- names suggest -----------------------------------------------------------------------------------------------

def test_suggest_json_lines_best_first(capsys) -> None:
    assert main(["names", "suggest", "Lt Parotid", "Cord PRV 5mm", "xyz", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["input"] for line in lines] == ["Lt Parotid", "Cord PRV 5mm", "xyz"]
    assert all(line["schema"] == "oarcontour.names-suggest/1" for line in lines)
    assert lines[0]["suggestions"][0] == {"name": "Parotid_L", "confidence": 0.94, "reason": "normalised primary name"}
    assert lines[1]["suggestions"][0]["name"] == "SpinalCord_PRV05" and lines[2]["suggestions"] == []
    confidences = [s["confidence"] for line in lines for s in line["suggestions"]]
    assert all(0.0 <= c <= 1.0 for c in confidences)


def test_suggest_table_marks_what_may_be_applied(capsys) -> None:
    assert main(["names", "suggest", "Lt Parotid", "Parotid", "xyz"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["INPUT", "SUGGESTION", "CONF", "AUTO", "REASON"]
    assert "Parotid_L" in out and " yes " in out and " no " in out and "no TG-263 name found" in out


def test_suggest_with_overrides_and_reverse_order(tmp_path: Path, capsys) -> None:
    table = tmp_path / "site.csv"
    table.write_text("local_name,tg263_name\nOhrspeicheldruese li,Parotid_L\n", encoding="utf-8")
    assert main(["names", "suggest", "Ohrspeicheldruese li", "--map", str(table), "--json"]) == 0
    best = json.loads(capsys.readouterr().out)["suggestions"][0]
    assert best == {"name": "Parotid_L", "confidence": 1.0, "reason": "institution override"}
    assert main(["names", "suggest", "Lt Parotid", "--reverse-order", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["suggestions"][0]["name"] == "L_Parotid"


@pytest.mark.parametrize("argv", [["names"], ["names", "suggest"], ["names", "suggest", "x", "--limit", "0"],
                                  ["names", "suggest", "x", "--map", "/nonexistent/site.csv"]])
def test_suggest_usage_errors_exit_2(argv: list[str], capsys) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().out == ""


# ---- names check -------------------------------------------------------------------------------------------------

def test_check_rtstruct_reports_errors_and_suggestions(rtstruct: Path, capsys) -> None:
    assert main(["names", "check", str(rtstruct), "--tps", "eclipse", "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["schema"] == "oarcontour.names-check/1" and document["kind"] == "rtstruct"
    assert document["profile"] == "eclipse" and document["has_errors"] is True
    by_name = {entry["name"]: entry for entry in document["names"]}
    assert list(by_name) == list(ROIS)
    assert by_name["Brainstem"]["valid"] is True and by_name["Brainstem"]["suggestions"] == []
    assert by_name["Lt Parotid"]["valid"] is False
    assert by_name["Lt Parotid"]["suggestions"][0]["name"] == "Parotid_L"
    assert {f["code"] for f in by_name["Lt Parotid"]["findings"]} >= {"NAME_SPACES"}
    assert document["counts"]["error"] > 0


def test_check_text_output(rtstruct: Path, capsys) -> None:
    assert main(["names", "check", str(rtstruct)]) == 1
    out = capsys.readouterr().out
    assert "-> suggest Parotid_L" in out and "NAME_SPACES" in out and "errors" in out


def test_check_clean_mask_folder_exits_0_without_reading_voxels(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "masks"
    folder.mkdir()
    for name in ("Parotid_L", "SpinalCord", "PTV_7000"):
        (folder / f"{name}.nii.gz").write_bytes(b"not read")  # names come from the file stems only
    assert main(["names", "check", str(folder), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["kind"] == "mask-folder" and [n["name"] for n in document["names"]] == ["PTV_7000", "Parotid_L",
                                                                                              "SpinalCord"]
    assert document["has_errors"] is False


def test_check_label_image_with_label_table(tmp_path: Path, capsys) -> None:
    image = tmp_path / "labels.nii.gz"
    sitk.WriteImage(sitk.Image([4, 4, 4], sitk.sitkUInt8), str(image))
    table = tmp_path / "labels.csv"
    table.write_text("1,kidney_left\n2,Spinal Cord\n", encoding="utf-8")
    assert main(["names", "check", str(image), "--labels", str(table), "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["kind"] == "label-image"
    assert [n["suggestions"][0]["name"] for n in document["names"]] == ["Kidney_L", "SpinalCord"]


def test_check_seg_nrrd_segment_names(tmp_path: Path, capsys) -> None:
    slicerio = pytest.importorskip("slicerio")
    segmentation = {"voxels": np.zeros((4, 4, 4), np.uint8), "ijkToLPS": np.eye(4).tolist(), "encoding": "gzip",
                    "segments": [{"id": "Segment_1", "labelValue": 1, "layer": 0, "name": "Lt Lung",
                                  "color": [0.2, 0.4, 0.9]},
                                 {"id": "Segment_2", "labelValue": 2, "layer": 0, "name": "Heart", "color": [1, 0, 0]}]}
    path = tmp_path / "s.seg.nrrd"
    slicerio.write_segmentation(str(path), segmentation)
    assert main(["names", "check", str(path), "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["kind"] == "seg.nrrd" and [n["name"] for n in document["names"]] == ["Lt Lung", "Heart"]
    assert document["names"][0]["suggestions"][0]["name"] == "Lung_L"


@pytest.mark.parametrize("argv, message", [
    (["names", "check", "/nonexistent/rs.dcm"], "Not found"),
    (["names", "check", "{tmp}/not_dicom.dcm"], "is not an RTSTRUCT"),
    (["names", "check", "{tmp}/not_dicom.dcm", "--tps", "nosuchtps"], "Unknown TPS profile"),
])
def test_check_bad_input_exits_2(tmp_path: Path, argv: list[str], message: str, capsys) -> None:
    (tmp_path / "not_dicom.dcm").write_text("hello")
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err


# ---- names rename ------------------------------------------------------------------------------------------------

def test_rename_applies_names_and_changes_nothing_else(rtstruct: Path, tmp_path: Path, capsys) -> None:
    before_digest = digest(rtstruct)
    out = tmp_path / "rs2.dcm"
    assert main(["names", "rename", str(rtstruct), "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["schema"] == "oarcontour.names-rename/1" and report["output"] == str(out.resolve())
    assert digest(rtstruct) == before_digest  # the input is never modified
    before, after = pydicom.dcmread(rtstruct), pydicom.dcmread(out)
    assert differences(before, after) == []
    assert before.file_meta == after.file_meta and before.preamble == after.preamble
    names = [item.ROIName for item in after.StructureSetROISequence]
    assert names == [new if new else old for old, new in ROIS.items()]
    labels = [item.ROIObservationLabel for item in after.RTROIObservationsSequence]
    assert labels == [name[:16] for name in names]
    renamed = {r["old_name"]: r for r in report["renamed"]}
    assert set(renamed) == {old for old, new in ROIS.items() if new and new != old}
    assert renamed["Kidney Rt"]["roi_type_set"] == "ORGAN" and renamed["Kidney Rt"]["color_set"] is not None
    assert renamed["Lt Parotid"]["roi_type_set"] is None and renamed["Lt Parotid"]["color_set"] is None
    review = {r["name"]: r["reason"] for r in report["left_for_review"]}
    assert set(review) == {old for old, new in ROIS.items() if new is None}
    assert "duplicate" in review["brain stem"] and "< 0.90" in review["Parotid"]
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed into place


def test_rename_fills_type_and_colour_only_where_missing(rtstruct: Path, tmp_path: Path) -> None:
    out = tmp_path / "rs2.dcm"
    assert main(["names", "rename", str(rtstruct), "-o", str(out)]) == 0
    before, after = pydicom.dcmread(rtstruct), pydicom.dcmread(out)
    for old, new in zip(before.RTROIObservationsSequence, after.RTROIObservationsSequence):
        if old.RTROIInterpretedType:
            assert new.RTROIInterpretedType == old.RTROIInterpretedType
        else:
            assert new.RTROIInterpretedType == "ORGAN"
    for old, new in zip(before.ROIContourSequence, after.ROIContourSequence):
        if "ROIDisplayColor" in old:
            assert list(new.ROIDisplayColor) == list(old.ROIDisplayColor)
        else:
            assert len(new.ROIDisplayColor) == 3


def test_rename_never_applies_below_the_threshold_or_changes_a_side(rtstruct: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "rs2.dcm"
    assert main(["names", "rename", str(rtstruct), "-o", str(out), "--min-confidence", "0.99", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert all(r["confidence"] >= 0.99 for r in report["renamed"])
    names = [item.ROIName for item in pydicom.dcmread(out).StructureSetROISequence]
    assert "Parotid_L" not in names and "Lt Parotid" in names  # 0.94 < 0.99: left as it was
    assert "Parotid_R" not in names and "Kidney_L" not in names


def test_rename_with_overrides(rtstruct: Path, tmp_path: Path, capsys) -> None:
    table = tmp_path / "site.csv"
    table.write_text("local_name,tg263_name\nxyz,zHelper\n", encoding="utf-8")
    out = tmp_path / "rs2.dcm"
    assert main(["names", "rename", str(rtstruct), "-o", str(out), "--map", str(table)]) == 0
    assert "renamed  ROI" in capsys.readouterr().out
    assert "zHelper" in [item.ROIName for item in pydicom.dcmread(out).StructureSetROISequence]


@pytest.mark.parametrize("extra, message", [
    (["--min-confidence", "0.5"], "outside 0.9-1"), (["--min-confidence", "1.5"], "outside 0.9-1"),
    (["--map", "{tmp}/swap.csv"], "never changes a side"),
])
def test_rename_bad_input_exits_2_and_writes_nothing(rtstruct: Path, tmp_path: Path, extra: list[str], message: str,
                                                     capsys) -> None:
    (tmp_path / "swap.csv").write_text("local_name,tg263_name\nLt Parotid,Parotid_R\n", encoding="utf-8")
    out = tmp_path / "rs2.dcm"
    assert main(["names", "rename", str(rtstruct), "-o", str(out), *[e.format(tmp=tmp_path) for e in extra]]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_rename_refuses_to_overwrite_without_flag_and_never_writes_the_input(rtstruct: Path, tmp_path: Path,
                                                                           capsys) -> None:
    out = tmp_path / "rs2.dcm"
    out.write_bytes(b"keep me")
    assert main(["names", "rename", str(rtstruct), "-o", str(out)]) == 2
    assert out.read_bytes() == b"keep me" and "--overwrite" in capsys.readouterr().err
    assert main(["names", "rename", str(rtstruct), "-o", str(out), "--overwrite"]) == 0
    assert pydicom.dcmread(out).Modality == "RTSTRUCT"
    before = digest(rtstruct)
    assert main(["names", "rename", str(rtstruct), "-o", str(rtstruct), "--overwrite"]) == 2
    assert digest(rtstruct) == before and "is the input file" in capsys.readouterr().err


def test_rename_keeps_uids(rtstruct: Path, tmp_path: Path) -> None:
    out = tmp_path / "rs2.dcm"
    assert main(["names", "rename", str(rtstruct), "-o", str(out)]) == 0
    before, after = pydicom.dcmread(rtstruct), pydicom.dcmread(out)
    assert (before.SOPInstanceUID, before.SeriesInstanceUID) == (after.SOPInstanceUID, after.SeriesInstanceUID)


def test_rename_vendor_file_changes_only_names(shared_data: Path, tmp_path: Path, capsys) -> None:
    source = shared_data / "vendor_rtstructs" / "dicompyler_breast" / "rtss.dcm"
    out = tmp_path / "rs2.dcm"
    assert main(["names", "rename", str(source), "-o", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {r["old_name"]: r["new_name"] for r in report["renamed"]}["Lt Lung"] == "Lung_L"
    assert "Breast" in {r["name"] for r in report["left_for_review"]}  # no side stated: never guessed
    before, after = pydicom.dcmread(source), pydicom.dcmread(out)
    assert differences(before, after) == []
    # untouched elements keep their bytes: the contour data of every ROI is identical
    for old, new in zip(before.ROIContourSequence, after.ROIContourSequence):
        for a, b in zip(old.get("ContourSequence", []), new.get("ContourSequence", [])):
            assert a["ContourData"].value == b["ContourData"].value
