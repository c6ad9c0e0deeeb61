"""``oarcontour convert`` in-process: mask files on the CT grid, rois.csv, .seg.nrrd, exit codes, no partial output."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from OARContourLib.cli.convert import file_stems
from OARContourLib.cli.main import main
from OARContourLib.ct.load import load_ct
from OARContourLib.phantom import build_phantom, write_phantom
from OARContourLib.rtstruct.model import Structure
from OARContourLib.rtstruct.read import read_rtstruct
from OARContourLib.rtstruct.roi_types import default_roi_type
from OARContourLib.rtstruct.write import write_rtstruct

VARIAN = ("varian_aria_4slice/dicom/RS_Body_SpinalCord.dcm", "varian_aria_4slice/dicom")
IBSI = ("ibsi_sts002/dicom/mask/RS.dcm", "ibsi_sts002/dicom/image")
RTUTILS = ("vendor_rtstructs/mim7_rtutils/rtutils_rt.dcm", "vendor_rtstructs/mim7_rtutils")
DICOMPYLER = ("vendor_rtstructs/dicompyler_breast/rtss.dcm", "vendor_rtstructs/dicompyler_breast")
GRID = dict(rows=64, columns=64, slices=16, pixel_spacing_mm=8.0, slice_spacing_mm=10.0, seed=5)


def convert(shared_data: Path, case: tuple[str, str], out: Path, *extra: str) -> int:
    return main(["convert", str(shared_data / case[0]), "--ct", str(shared_data / case[1]), "--out", str(out), *extra])


def run_json(capsys: pytest.CaptureFixture[str], shared_data: Path, case: tuple[str, str], out: Path,
             *extra: str) -> tuple[int, dict]:
    code = convert(shared_data, case, out, "--json", *extra)
    return code, json.loads(capsys.readouterr().out)


def table(out: Path) -> list[dict[str, str]]:
    with (out / "rois.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_nifti_masks_on_the_ct_grid_with_table_and_json(shared_data: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "masks"
    code, doc = run_json(capsys, shared_data, VARIAN, out)
    assert code == 0 and doc["schema"] == "oarcontour.convert/1" and doc["format"] == "nii.gz"
    assert [(r["number"], r["name"], r["file"], r["voxels"]) for r in doc["rois"]] == [
        (13, "BODY", "BODY.nii.gz", 163769), (23, "SpinalCord", "SpinalCord.nii.gz", 654)]
    assert sorted(p.name for p in out.iterdir()) == ["BODY.nii.gz", "SpinalCord.nii.gz", "rois.csv"]
    assert table(out) == [
        {"roi_number": "13", "name": "BODY", "type": "EXTERNAL", "color_r": "0", "color_g": "255", "color_b": "0",
         "voxels": "163769", "file": "BODY.nii.gz"},
        {"roi_number": "23", "name": "SpinalCord", "type": "ORGAN", "color_r": "0", "color_g": "64", "color_b": "128",
         "voxels": "654", "file": "SpinalCord.nii.gz"}]
    ct = load_ct(shared_data / VARIAN[1])
    expected = read_rtstruct(shared_data / VARIAN[0], ct)
    for roi in expected.rois:
        image = sitk.ReadImage(str(out / f"{roi.name}.nii.gz"))
        assert image.GetSize() == tuple(reversed(ct.geometry.shape))
        assert np.allclose(image.GetOrigin(), ct.geometry.origin_lps) and np.allclose(image.GetSpacing(), ct.geometry.spacing_mm)
        assert np.allclose(image.GetDirection(), ct.geometry.direction_matrix.ravel())
        np.testing.assert_array_equal(sitk.GetArrayFromImage(image) > 0, roi.mask)
    assert leftovers(tmp_path) == []


def test_nrrd_masks(shared_data: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "nrrd"
    assert convert(shared_data, IBSI, out, "--format", "nrrd") == 0
    assert "GTV_Mass_CT" in capsys.readouterr().out
    image = sitk.ReadImage(str(out / "GTV_Mass_CT.nrrd"))
    reference = sitk.ReadImage(str(shared_data / "ibsi_sts002/nifti/CT_mask.nii.gz"))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image) > 0, sitk.GetArrayFromImage(reference) > 0)
    assert np.allclose(image.GetOrigin(), reference.GetOrigin(), atol=1e-3)
    assert table(out)[0]["voxels"] == "17090"


@pytest.fixture(scope="module")
def phantom_rs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A phantom CT (FFS) and an RTSTRUCT of its overlapping structures (Body contains the organs)."""
    folder = tmp_path_factory.mktemp("convert")
    result = write_phantom(folder / "p", patient_position="FFS", **GRID)
    masks = build_phantom(patient_position="FFS", **GRID).masks
    structures = [Structure(n, m, roi_type=default_roi_type(n)) for n, m in masks.items() if m.any()]
    write_rtstruct(folder / "rs.dcm", load_ct(result.ct_dir), structures)
    return folder / "rs.dcm", result.ct_dir


def test_seg_nrrd_opens_with_slicerio_with_every_segment(phantom_rs, tmp_path: Path, capsys) -> None:
    slicerio = pytest.importorskip("slicerio")
    rs, ct_dir = phantom_rs
    out = tmp_path / "seg"
    code = main(["convert", str(rs), "--ct", str(ct_dir), "--out", str(out), "--format", "seg.nrrd", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and sorted(p.name for p in out.iterdir()) == ["OARContour.seg.nrrd", "rois.csv"]
    ct = load_ct(ct_dir)
    expected = read_rtstruct(rs, ct)
    segmentation = slicerio.read_segmentation(str(out / "OARContour.seg.nrrd"))
    assert np.allclose(segmentation["ijkToLPS"], ct.geometry.ijk_to_lps())
    assert segmentation["voxels"].ndim == 4  # overlapping segments need layers
    segments = segmentation["segments"]
    assert [s["name"] for s in segments] == [r.name for r in expected.rois] == [r["name"] for r in doc["rois"]]
    for segment, roi in zip(segments, expected.rois):
        assert segment["tags"]["DicomRtImport.RoiNumber"] == str(roi.number)
        assert np.allclose(np.array(segment["color"]) * 255, roi.color, atol=0.01)
        mask = slicerio.segment_mask(segmentation, segment).transpose(2, 1, 0)
        np.testing.assert_array_equal(mask, roi.mask, err_msg=roi.name)


def test_seg_nrrd_keeps_empty_rois_and_names_with_spaces(shared_data: Path, tmp_path: Path) -> None:
    slicerio = pytest.importorskip("slicerio")
    out = tmp_path / "seg"
    assert main(["-q", "convert", str(shared_data / DICOMPYLER[0]), "--ct", str(shared_data / DICOMPYLER[1]),
                 "--out", str(out), "--format", "seg.nrrd"]) == 0
    segmentation = slicerio.read_segmentation(str(out / "CT_1.seg.nrrd"))
    names = [s["name"] for s in segmentation["segments"]]
    assert names[:2] == ["BODY", "Areola"] and "Tumor Bed Block" in names and len(names) == 10
    assert slicerio.segment_mask(segmentation, "Areola").sum() == 0
    assert slicerio.segment_mask(segmentation, "BODY").sum() == int(table(out)[0]["voxels"]) > 0


def test_error_findings_exit_1_but_masks_are_written(shared_data: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "rtutils"
    code, doc = run_json(capsys, shared_data, RTUTILS, out)
    assert code == 1
    assert [(f["code"], f["severity"]) for f in doc["findings"]] == [("FRAME_OF_REFERENCE_MISMATCH", "error")]
    assert (out / "ROI-1.nii.gz").exists() and doc["rois"][0]["voxels"] > 0


def test_non_empty_output_is_refused_without_overwrite(shared_data: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert convert(shared_data, VARIAN, out) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not empty" in err and "--overwrite" in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"] and leftovers(tmp_path) == []
    assert convert(shared_data, VARIAN, out, "--overwrite") == 0
    assert sorted(p.name for p in out.iterdir()) == ["BODY.nii.gz", "SpinalCord.nii.gz", "rois.csv"]
    assert leftovers(tmp_path) == []


def test_empty_existing_output_folder_is_used(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert convert(shared_data, IBSI, out) == 0 and (out / "GTV_Mass_CT.nii.gz").exists()


@pytest.mark.parametrize("rs, ct, message", [
    ("missing.dcm", VARIAN[1], "RTSTRUCT file not found"),
    (VARIAN[0], "missing_ct", "CT folder not found"),
    ("varian_aria_4slice/dicom/CT_1.dcm", VARIAN[1], "is not an RTSTRUCT"),
    (VARIAN[0], "vendor_rtstructs/mim7_rtutils/PROVENANCE.txt", "CT folder not found"),
], ids=["missing-rs", "missing-ct", "ct-as-rs", "file-as-ct"])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(shared_data: Path, tmp_path: Path, capsys,
                                                            rs: str, ct: str, message: str) -> None:
    out = tmp_path / "out"
    assert convert(shared_data, (rs, ct), out) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err and err.startswith("oarcontour: error:")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_output_holding_the_inputs_is_refused(shared_data: Path, tmp_path: Path, capsys) -> None:
    ct_dir = tmp_path / "ct"
    ct_dir.mkdir()
    for source in (shared_data / VARIAN[1]).iterdir():
        (ct_dir / source.name).write_bytes(source.read_bytes())
    before = sorted(p.name for p in ct_dir.iterdir())
    code = main(["convert", str(ct_dir / "RS_Body_SpinalCord.dcm"), "--ct", str(ct_dir), "--out", str(tmp_path),
                 "--overwrite"])
    assert code == 2 and "holds the input" in capsys.readouterr().err
    assert sorted(p.name for p in ct_dir.iterdir()) == before


def test_unsafe_and_colliding_names_get_safe_unique_stems(phantom_rs, tmp_path: Path, capsys) -> None:
    rs, ct_dir = phantom_rs
    ds = pydicom.dcmread(rs)
    names = ["Lt Lung", "lt/lung", "..hidden", "CON", "Heart", "HEART"]
    for item, name in zip(ds.StructureSetROISequence, names):
        item.ROIName = name
    edited = tmp_path / "rs.dcm"
    ds.save_as(edited)
    out = tmp_path / "out"
    assert main(["convert", str(edited), "--ct", str(ct_dir), "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    files = [r["file"] for r in doc["rois"]][: len(names)]
    assert files == ["Lt_Lung.nii.gz", "lt_lung_2.nii.gz", "hidden.nii.gz", "CON_.nii.gz", "Heart.nii.gz",
                     "HEART_2.nii.gz"]
    assert all((out / f).exists() for f in files)
    assert "DUPLICATE_ROI_NAME" in {f["code"] for f in doc["findings"]}


def test_file_stems() -> None:
    assert file_stems(["a b", "A_B", "", "x:y*z?", "nul.txt", "Émile"]) == ["a_b", "A_B_2", "ROI", "x_y_z_", "nul.txt_",
                                                                          "_mile"]
