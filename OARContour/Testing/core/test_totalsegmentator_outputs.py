"""Importing real TotalSegmentator outputs (../shared/data/totalsegmentator_example) as TG-263 structures."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import SimpleITK as sitk
from OARContourLib.autoseg.totalsegmentator_outputs import import_totalsegmentator_output
from OARContourLib.ct.model import ImageGeometry
from OARContourLib.errors import InputError
from OARContourLib.mask_files import label_names
from OARContourLib.naming.tables import load_tables
from OARContourLib.rtstruct.model import GenerationAlgorithm, full_mask

EXAMPLE = "totalsegmentator_example"
#: Made on example_ct_sm.nii.gz (3 mm, RAS), not on the DICOM example.
SM_OUTPUTS = ("example_seg_fast", "example_seg_fast.nii.gz", "example_seg.nii.gz")


@pytest.fixture(scope="module")
def example(shared_data: Path) -> Path:
    return shared_data / EXAMPLE


@pytest.fixture(scope="module")
def dicom_ct(example: Path):
    from OARContourLib.ct.load import load_ct

    return load_ct(example / "example_ct_dicom")


@pytest.fixture(scope="module")
def dicom_import(example: Path, dicom_ct):
    return import_totalsegmentator_output(example / "example_seg_dicom.nii.gz", dicom_ct)


def _geometry(image: sitk.Image) -> ImageGeometry:
    d = np.array(image.GetDirection()).reshape(3, 3)
    return ImageGeometry(tuple(reversed(image.GetSize())), tuple(image.GetSpacing()),  # type: ignore[arg-type]
                         tuple(image.GetOrigin()), tuple(tuple(float(v) for v in row) for row in d))  # type: ignore[arg-type]


def _lps_grid_of(image: sitk.Image) -> ImageGeometry:
    """The same voxel centres as ``image`` but stored in LPS order (identity direction): a different grid."""
    size = np.array(image.GetSize())
    corners = [image.TransformIndexToPhysicalPoint([int(c) for c in corner])
               for corner in np.array(np.meshgrid(*[[0, s - 1] for s in size])).T.reshape(-1, 3)]
    origin = np.min(np.array(corners), axis=0)
    return ImageGeometry(tuple(int(s) for s in reversed(size)), tuple(image.GetSpacing()),  # type: ignore[arg-type]
                         tuple(float(o) for o in origin), ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)))  # type: ignore[arg-type]


def _reference(geometry: ImageGeometry) -> sitk.Image:
    image = sitk.Image([int(s) for s in reversed(geometry.shape)], sitk.sitkUInt8)
    image.SetSpacing(geometry.spacing_mm)
    image.SetOrigin(geometry.origin_lps)
    image.SetDirection(tuple(float(v) for v in np.array(geometry.direction).ravel()))
    return image


def _centroid_x_lps(structure, geometry: ImageGeometry) -> float:
    k, j, i = np.nonzero(full_mask(structure, geometry.shape))
    ijk = np.stack([i, j, k]).astype(float).mean(axis=1)
    lps = np.array(geometry.origin_lps) + np.array(geometry.direction) @ (ijk * np.array(geometry.spacing_mm))
    return float(lps[0])


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * np.count_nonzero(a & b) / max(np.count_nonzero(a) + np.count_nonzero(b), 1)


def _assert_laterality(result, geometry: ImageGeometry) -> int:
    names = {s.name for s in result.structures}
    pairs = [(n, n[:-2] + "_R") for n in names if n.endswith("_L") and n[:-2] + "_R" in names]
    for left, right in pairs:
        assert _centroid_x_lps(result.structure(left), geometry) > _centroid_x_lps(result.structure(right), geometry), left
    return len(pairs)


# (a) the DICOM example: LAS multilabel on the JPEG2000 CT -----------------------------------------------


def test_dicom_example_names_are_tg263(dicom_import) -> None:
    produced = dicom_import.produced
    for name in ("Spleen", "Liver", "Humerus_L", "Humerus_R", "SpinalCord", "Stomach"):
        assert produced[name] > 0, name
    assert all(s.algorithm is GenerationAlgorithm.AUTOMATIC for s in dicom_import.structures)
    assert dicom_import.structure("Liver").description == "OARContour import TotalSegmentator total"
    assert dicom_import.provenance["engine"] == "totalsegmentator"
    assert dicom_import.provenance["task"] == "total"
    assert dicom_import.provenance["source"] == "example_seg_dicom.nii.gz"


def test_dicom_example_lands_on_the_correct_side(dicom_import, dicom_ct) -> None:
    assert _assert_laterality(dicom_import, dicom_ct.geometry) >= 5
    assert _centroid_x_lps(dicom_import.structure("Humerus_L"), dicom_ct.geometry) > 0
    assert _centroid_x_lps(dicom_import.structure("Spleen"), dicom_ct.geometry) > \
        _centroid_x_lps(dicom_import.structure("Liver"), dicom_ct.geometry)


def test_dicom_example_matches_simpleitk_resampling(example: Path, dicom_import, dicom_ct) -> None:
    path = example / "example_seg_dicom.nii.gz"
    resampled = sitk.GetArrayFromImage(sitk.Resample(sitk.ReadImage(str(path)), _reference(dicom_ct.geometry),
                                                     sitk.Transform(), sitk.sitkNearestNeighbor, 0))
    tables = load_tables()
    checked = 0
    for value, ts_class in label_names(path, None).items():
        row = tables.ts_mapping("total", ts_class)
        if row is None or not row.tg263_name or not np.any(resampled == value):
            continue
        structure = dicom_import.structure(row.tg263_name)
        assert _dice(full_mask(structure, dicom_ct.geometry.shape), resampled == value) > 0.99, ts_class
        checked += 1
    assert checked >= 25


def test_composites_are_unions(dicom_import, dicom_ct) -> None:
    shape = dicom_ct.geometry.shape
    ribs_l = full_mask(dicom_import.structure("Ribs_L"), shape)
    union = np.zeros(shape, bool)
    for s in dicom_import.structures:
        if s.name.startswith("Rib") and s.name.endswith("_L") and s.name != "Ribs_L":
            union |= full_mask(s, shape)
    assert np.array_equal(ribs_l, union)
    # Ribs 1-5 lie outside this 20-slice CT: the union is still made, with a warning naming them.
    partial = [f for f in dicom_import.findings if f.code == "COMPOSITE_PARTIAL" and f.roi_name == "Ribs_L"]
    assert partial and "rib_left_1" in partial[0].message


def test_no_equivalent_classes_are_skipped_by_class_name(dicom_import) -> None:
    assert dicom_import.skipped["costal_cartilages"].startswith("no TG-263 equivalent")


# (b) outputs made on the 3 mm RAS NIfTI --------------------------------------------------------------


@pytest.mark.parametrize("name", SM_OUTPUTS)
def test_ras_outputs_on_their_own_grid(example: Path, name: str) -> None:
    geometry = _geometry(sitk.ReadImage(str(example / "example_ct_sm.nii.gz")))
    result = import_totalsegmentator_output(example / name, SimpleNamespace(geometry=geometry))  # type: ignore[arg-type]
    assert not [f for f in result.findings if f.code == "MASK_RESAMPLED"]
    assert {"Liver", "Spleen", "Kidney_L", "Kidney_R", "Kidneys"} <= set(result.produced)
    assert _assert_laterality(result, geometry) >= 5


@pytest.mark.parametrize("name", SM_OUTPUTS)
def test_ras_outputs_resampled_onto_an_lps_grid(example: Path, name: str) -> None:
    source = sitk.ReadImage(str(example / "example_ct_sm.nii.gz"))
    native = import_totalsegmentator_output(example / name, SimpleNamespace(geometry=_geometry(source)))  # type: ignore[arg-type]
    geometry = _lps_grid_of(source)
    result = import_totalsegmentator_output(example / name, SimpleNamespace(geometry=geometry))  # type: ignore[arg-type]
    assert any(f.code == "MASK_RESAMPLED" for f in result.findings)
    assert not any(f.code == "MASK_CLIPPED" for f in result.findings)
    assert set(result.produced) == set(native.produced)
    assert _assert_laterality(result, geometry) >= 5
    assert result.produced["Liver"] == native.produced["Liver"]


def test_folder_and_multilabel_agree(example: Path) -> None:
    geometry = _geometry(sitk.ReadImage(str(example / "example_ct_sm.nii.gz")))
    ct = SimpleNamespace(geometry=geometry)
    folder = import_totalsegmentator_output(example / "example_seg_fast", ct)  # type: ignore[arg-type]
    multilabel = import_totalsegmentator_output(example / "example_seg_fast.nii.gz", ct,  # type: ignore[arg-type]
                                                label_map=example / "label_map_total.csv")
    assert folder.produced == multilabel.produced
    for s in folder.structures:
        assert np.array_equal(full_mask(s, geometry.shape), full_mask(multilabel.structure(s.name), geometry.shape))


def test_outputs_of_another_scan_do_not_land_on_the_dicom_ct(example: Path, dicom_ct) -> None:
    result = import_totalsegmentator_output(example / "example_seg_fast.nii.gz", dicom_ct)
    assert not result.structures
    assert {"MASK_RESAMPLED", "MASK_CLIPPED"} <= {f.code for f in result.findings}


# (c) table coverage ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["example_seg_dicom.nii.gz", *SM_OUTPUTS[1:], "example_seg_roi_subset.nii.gz"])
def test_every_class_present_is_mapped_or_no_equivalent(example: Path, name: str) -> None:
    tables = load_tables()
    path = example / name
    present = np.unique(sitk.GetArrayFromImage(sitk.ReadImage(str(path))))
    names = label_names(path, None)
    for value in present[present != 0]:
        row = tables.ts_mapping("total", names[int(value)])
        assert row is not None, names[int(value)]
        assert row.tg263_name or row.status == "no_equivalent", names[int(value)]


def test_every_class_file_in_the_folder_is_in_the_table(example: Path) -> None:
    tables = load_tables()
    classes = [p.name[:-len(".nii.gz")] for p in (example / "example_seg_fast").glob("*.nii.gz")]
    assert len(classes) == 117
    assert [c for c in classes if tables.ts_mapping("total", c) is None] == []


# options and errors --------------------------------------------------------------------------------------


def test_structure_selection(example: Path, dicom_ct) -> None:
    result = import_totalsegmentator_output(example / "example_seg_dicom.nii.gz", dicom_ct,
                                            structures=["Liver", "Heart"])
    assert list(result.produced) == ["Liver"]
    assert result.skipped == {"Heart": "not in the TotalSegmentator output"}


def test_template_selection(example: Path, dicom_ct) -> None:
    result = import_totalsegmentator_output(example / "example_seg_dicom.nii.gz", dicom_ct, template="Abdomen")
    assert "Liver" in result.produced
    assert all(s.name in {e.tg263_name for e in load_tables().template("Abdomen")} for s in result.structures)
    assert "manual" in result.skipped.values() or "needs the classical engine" in result.skipped.values()


def test_unknown_structure_and_task(example: Path, dicom_ct) -> None:
    with pytest.raises(InputError, match="no class for: Nowhere.*Choose from"):
        import_totalsegmentator_output(example / "example_seg_dicom.nii.gz", dicom_ct, structures=["Nowhere"])
    with pytest.raises(InputError, match="Unknown TotalSegmentator task 'nope'"):
        import_totalsegmentator_output(example / "example_seg_dicom.nii.gz", dicom_ct, task="nope")


def test_missing_path(tmp_path: Path, dicom_ct) -> None:
    with pytest.raises(InputError, match="not found"):
        import_totalsegmentator_output(tmp_path / "missing.nii.gz", dicom_ct)
