"""``oarcontour export``: mask folders, label images (TotalSegmentator), .seg.nrrd; orientation from the files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from OARContourLib.cli.main import main
from OARContourLib.ct.load import load_ct
from pydicom.uid import generate_uid
from testsupport.validators import dciodvfy_errors, dice, plastimatch_masks

TS = "totalsegmentator_example"


@pytest.fixture(scope="module")
def ts_ct(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The TotalSegmentator CT with UIDs filled in (its own are empty, so nothing could reference it),
    decompressed so that plastimatch can read it too."""
    target = tmp_path_factory.mktemp("ts") / "ct"
    target.mkdir()
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    for index, source in enumerate(sorted((shared_data / TS / "example_ct_dicom").iterdir())):
        ds = pydicom.dcmread(source)
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
        ds.PatientID = "TS-EXAMPLE"
        ds.decompress()  # plastimatch (the independent rasteriser) cannot read JPEG 2000
        ds.save_as(target / f"{index:03d}.dcm")
    return target


def test_las_label_image_lands_where_totalsegmentator_put_it(shared_data: Path, ts_ct: Path, tmp_path: Path,
                                                             capsys) -> None:
    out = tmp_path / "rs.dcm"
    code = main(["export", str(ts_ct), str(shared_data / TS / "example_seg_dicom.nii.gz"), "--out", str(out), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["schema"] == "oarcontour.export/1"
    written = {r["name"] for r in doc["rois"] if r["written"]}
    # This 20-slice crop holds no kidneys; the left/right organs it holds prove laterality instead.
    assert {"spleen", "liver", "humerus_left", "humerus_right", "autochthon_left", "autochthon_right"} <= written
    ct = load_ct(ts_ct)
    masks = plastimatch_masks(out, ts_ct, tmp_path / "pm")
    to_lps = ct.geometry.ijk_to_lps()

    def centroid_x(mask: np.ndarray) -> float:
        k, j, i = np.nonzero(mask)
        return float((to_lps @ np.array([i.mean(), j.mean(), k.mean(), 1.0]))[0])

    for side in ("humerus", "autochthon", "rib_left_7"):
        left, right = (side, side.replace("left", "right")) if "left" in side else (f"{side}_left", f"{side}_right")
        assert centroid_x(masks[left]) > centroid_x(masks[right]), side  # LPS: +x is the patient's left
    assert centroid_x(masks["humerus_left"]) > 0 > centroid_x(masks["humerus_right"])
    assert centroid_x(masks["spleen"]) > centroid_x(masks["liver"])
    # Voxel for voxel, the label image resampled onto the CT by SimpleITK (orientation-aware).
    label = sitk.ReadImage(str(shared_data / TS / "example_seg_dicom.nii.gz"))
    reference = sitk.GetArrayFromImage(sitk.Resample(label, _ct_image(ct), sitk.Transform(), sitk.sitkNearestNeighbor))
    assert dice(masks["humerus_left"], reference == 69) > 0.99 and dice(masks["liver"], reference == 5) > 0.99
    assert dciodvfy_errors(out) == []


def _ct_image(ct) -> sitk.Image:
    from OARContourLib.mask_grid import reference_image

    return reference_image(ct.geometry)


def test_mask_folder_with_label_table(shared_data: Path, ts_ct: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "masks"
    folder.mkdir()
    for name in ("liver", "kidney_left", "aorta"):
        shutil.copy(shared_data / TS / "example_seg_fast" / f"{name}.nii.gz", folder / f"{name}.nii.gz")
    out = tmp_path / "rs.dcm"
    code = main(["export", str(ts_ct), str(folder), "--out", str(out), "--tps", "eclipse", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert sorted(r["name"] for r in doc["rois"]) == ["aorta", "kidney_left", "liver"]
    # example_seg_fast was made on the 3 mm NIfTI, not on this CT: resampling is reported per structure.
    assert {f["code"] for f in doc["findings"]} >= {"MASK_RESAMPLED"}


def test_phantom_truth_folder_round_trips_exactly(small_phantom, tmp_path: Path, capsys) -> None:
    out = tmp_path / "rs.dcm"
    assert main(["export", str(small_phantom.ct_dir), str(small_phantom.truth_dir), "--out", str(out)]) == 0
    assert "Wrote" in capsys.readouterr().out
    masks = plastimatch_masks(out, small_phantom.ct_dir, tmp_path / "pm")
    for path in small_phantom.truth_dir.glob("*.nii.gz"):
        truth = sitk.GetArrayFromImage(sitk.ReadImage(str(path))).astype(bool)
        name = path.name[: -len(".nii.gz")]
        if truth.any():
            assert dice(masks[name], truth) == 1.0, name


def test_seg_nrrd_input(small_phantom, tmp_path: Path) -> None:
    import slicerio

    ct = load_ct(small_phantom.ct_dir)
    truth = {n: sitk.GetArrayFromImage(sitk.ReadImage(str(small_phantom.truth_dir / f"{n}.nii.gz"))) for n in ("Lung_L", "Heart")}
    labels = np.zeros(ct.hu.shape, np.uint8)
    labels[truth["Lung_L"] > 0] = 1
    labels[truth["Heart"] > 0] = 2
    segmentation = {
        "voxels": np.ascontiguousarray(labels.transpose(2, 1, 0)),
        "ijkToLPS": ct.geometry.ijk_to_lps().tolist(),
        "encoding": "gzip",
        "segments": [{"id": "Segment_1", "labelValue": 1, "layer": 0, "name": "Lung_L", "color": [0.2, 0.4, 0.9]},
                     {"id": "Segment_2", "labelValue": 2, "layer": 0, "name": "Heart", "color": [0.9, 0.1, 0.1]}],
    }
    seg_file = tmp_path / "s.seg.nrrd"
    slicerio.write_segmentation(str(seg_file), segmentation)
    out = tmp_path / "rs.dcm"
    assert main(["export", str(small_phantom.ct_dir), str(seg_file), "--out", str(out)]) == 0
    ds = pydicom.dcmread(out)
    colors = {r.ROIName: list(c.ROIDisplayColor) for r, c in zip(ds.StructureSetROISequence, ds.ROIContourSequence)}
    assert colors == {"Lung_L": [51, 102, 230], "Heart": [230, 26, 26]}
    masks = plastimatch_masks(out, small_phantom.ct_dir, tmp_path / "pm")
    assert dice(masks["Lung_L"], truth["Lung_L"] > 0) == 1.0 and dice(masks["Heart"], truth["Heart"] > 0) == 1.0


@pytest.mark.parametrize("make_args, message", [
    (lambda ct, tmp: ["export", str(ct), str(tmp / "missing"), "--out", str(tmp / "rs.dcm")], "not found"),
    (lambda ct, tmp: ["export", str(tmp / "noct"), str(tmp), "--out", str(tmp / "rs.dcm")], "not found"),
    (lambda ct, tmp: ["export", str(ct), str(tmp), "--out", str(tmp / "rs.dcm")], "No mask files"),
    (lambda ct, tmp: ["export", str(ct), str(tmp), "--out", str(tmp / "rs.dcm"), "--label", "x" * 17], "1–16"),
])
def test_bad_input_exits_2_and_writes_nothing(small_phantom, tmp_path: Path, capsys, make_args, message) -> None:
    assert main(make_args(small_phantom.ct_dir, tmp_path)) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "rs.dcm").exists()


def test_anonymised_ct_is_refused_with_exit_2(shared_data: Path, tmp_path: Path, capsys) -> None:
    code = main(["export", str(shared_data / TS / "example_ct_dicom"),
                 str(shared_data / TS / "example_seg_dicom.nii.gz"), "--out", str(tmp_path / "rs.dcm")])
    assert code == 2 and "no RTSTRUCT can reference it" in capsys.readouterr().err
    assert not (tmp_path / "rs.dcm").exists()


def test_types_and_colours_come_from_the_naming_tables(small_phantom, tmp_path: Path) -> None:
    from OARContourLib.naming.tables import load_tables

    out = tmp_path / "rs.dcm"
    assert main(["export", str(small_phantom.ct_dir), str(small_phantom.truth_dir), "--out", str(out)]) == 0
    ds = pydicom.dcmread(out)
    types = {o.ReferencedROINumber: o.RTROIInterpretedType for o in ds.RTROIObservationsSequence}
    tables = load_tables()
    for roi, contour in zip(ds.StructureSetROISequence, ds.ROIContourSequence):
        default = tables.default_for(roi.ROIName)
        assert default is not None, roi.ROIName
        assert types[roi.ROINumber] == default.roi_type.value
        assert tuple(contour.ROIDisplayColor) == default.color
    assert types[next(r.ROINumber for r in ds.StructureSetROISequence if r.ROIName == "Body")] == "EXTERNAL"
