"""Classical auto-segmentation: Dice on the phantom, laterality per patient position, real CTs."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from OARContourLib.autoseg import SUPPORTED_STRUCTURES, ClassicalResult, segment_classical
from OARContourLib.ct.load import load_ct
from OARContourLib.ct.model import CTVolume, ImageGeometry, SeriesReference
from OARContourLib.errors import CancelledError, InputError
from OARContourLib.phantom import build_phantom

#: TotalSegmentator "total" task label of spinal_cord (label_map_total.csv beside the data).
SPINAL_CORD_LABEL = 79
SMALL_GRID = dict(rows=160, columns=160, pixel_spacing_mm=3.0, slices=40, slice_spacing_mm=7.5)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


def as_ct(hu: np.ndarray, geometry: ImageGeometry) -> CTVolume:
    return CTVolume(hu, geometry, (), SeriesReference("", "", "", "CT"))


def lung_truth(masks) -> dict[str, np.ndarray]:
    return {**masks, "Lungs": masks["Lung_L"] | masks["Lung_R"]}


@pytest.fixture(scope="module")
def phantom():
    return build_phantom()


@pytest.fixture(scope="module")
def phantom_result(phantom) -> ClassicalResult:
    started = time.perf_counter()
    result = segment_classical(as_ct(phantom.hu, phantom.geometry))
    print(f"\nclassical engine on {phantom.hu.shape} phantom: {time.perf_counter() - started:.2f} s")
    return result


@pytest.mark.parametrize("name, minimum", [("Body", 0.97), ("Lung_L", 0.95), ("Lung_R", 0.95), ("Lungs", 0.95),
                                           ("SpinalCanal", 0.85), ("Bone", 0.90)])
def test_phantom_dice(phantom, phantom_result: ClassicalResult, name: str, minimum: float) -> None:
    value = dice(phantom_result.masks[name], lung_truth(phantom.masks)[name])
    print(f"Dice {name}: {value:.4f}")
    assert value >= minimum


def test_phantom_trachea_reported(phantom, phantom_result: ClassicalResult) -> None:
    value = dice(phantom_result.masks["Trachea"], phantom.masks["Trachea"])
    print(f"Dice Trachea: {value:.4f}")
    assert value > 0.5


def test_result_lists_every_structure_and_provenance(phantom_result: ClassicalResult) -> None:
    assert set(phantom_result.masks) == set(SUPPORTED_STRUCTURES)
    assert phantom_result.skipped == {}
    assert phantom_result.provenance["engine"] == "classical"
    assert phantom_result.provenance["settings"]["body_threshold_hu"] == -400.0
    summary = phantom_result.to_dict()
    assert summary["structures"]["Body"] == int(phantom_result.masks["Body"].sum())


def test_couch_not_in_body(phantom, phantom_result: ClassicalResult) -> None:
    assert phantom.couch.any()
    assert not (phantom_result.masks["Body"] & phantom.couch).any()


def test_lungs_and_airway_inside_body_and_disjoint(phantom_result: ClassicalResult) -> None:
    masks = phantom_result.masks
    assert not (masks["Lung_L"] & masks["Lung_R"]).any()
    assert not (masks["Lungs"] & masks["Trachea"]).any()
    for name in ("Lungs", "Trachea", "SpinalCanal", "Bone"):
        assert not (masks[name] & ~masks["Body"]).any(), name


@pytest.mark.parametrize("position", ["HFS", "FFS", "HFP"])
def test_laterality_from_geometry(position: str) -> None:
    phantom = build_phantom(patient_position=position, **SMALL_GRID)
    result = segment_classical(as_ct(phantom.hu, phantom.geometry), ["Lung_L", "Lung_R"])
    for name in ("Lung_L", "Lung_R"):
        assert dice(result.masks[name], phantom.masks[name]) >= 0.9, (position, name)
    assert (result.masks["Lung_L"] & phantom.masks["Lung_R"]).sum() == 0


def test_couch_like_slab_touching_nothing_is_removed() -> None:
    hu = np.full((6, 120, 120), -1000, dtype=np.int16)
    j, i = np.ogrid[:120, :120]
    hu[:, ((j - 50) / 35.0) ** 2 + ((i - 60) / 45.0) ** 2 <= 1] = 20
    hu[:, 92:100, 5:115] = 100  # a solid table top 8 mm below the patient, 110 mm wide
    geometry = ImageGeometry((6, 120, 120), (2.5, 2.5, 5.0), (0.0, 0.0, 0.0),
                             ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)))
    body = segment_classical(as_ct(hu, geometry), ["Body"]).masks["Body"]
    assert not body[:, 92:100].any()
    assert body[:, 50, 60].all()


def test_unknown_structure_is_skipped_with_reason() -> None:
    phantom = build_phantom(**SMALL_GRID)
    result = segment_classical(as_ct(phantom.hu, phantom.geometry), ["Body", "Heart"])
    assert set(result.masks) == {"Body"}
    assert "No classical recipe for Heart" in result.skipped["Heart"]


def test_cancel_through_progress() -> None:
    phantom = build_phantom(**SMALL_GRID)
    with pytest.raises(CancelledError, match="Cancelled during: Lungs"):
        segment_classical(as_ct(phantom.hu, phantom.geometry), progress=lambda f, message: message == "Lungs")


def test_mismatched_geometry_is_an_input_error() -> None:
    phantom = build_phantom(**SMALL_GRID)
    with pytest.raises(InputError, match="geometry says"):
        segment_classical(as_ct(phantom.hu[:-1], phantom.geometry))


def test_padding_counts_as_air() -> None:
    phantom = build_phantom(**SMALL_GRID)
    hu = phantom.hu.copy()
    hu[hu < -900] = -2000
    result = segment_classical(as_ct(hu, phantom.geometry), ["Body", "Lungs"])
    assert dice(result.masks["Body"], phantom.masks["Body"]) >= 0.97
    assert dice(result.masks["Lungs"], phantom.masks["Lung_L"] | phantom.masks["Lung_R"]) >= 0.9


def reference_image(geometry: ImageGeometry) -> sitk.Image:
    """An empty image on the CT grid (LPS), to resample other label maps onto."""
    image = sitk.Image(geometry.shape[2], geometry.shape[1], geometry.shape[0], sitk.sitkUInt8)
    image.SetSpacing(geometry.spacing_mm)
    image.SetOrigin(geometry.origin_lps)
    image.SetDirection(tuple(geometry.direction_matrix.ravel()))
    return image


@pytest.fixture(scope="module")
def totalsegmentator_case(shared_data: Path):
    """The real abdominal CT, our result on it, and TotalSegmentator's labels on the CT grid."""
    folder = shared_data / "totalsegmentator_example"
    ct = load_ct(folder / "example_ct_dicom")
    result = segment_classical(ct)
    seg = sitk.ReadImage(str(folder / "example_seg_dicom.nii.gz"))
    labels = sitk.GetArrayFromImage(sitk.Resample(seg, reference_image(ct.geometry), sitk.Transform(),
                                                  sitk.sitkNearestNeighbor, 0, seg.GetPixelID()))
    return ct, result, labels


def test_totalsegmentator_organs_inside_body(totalsegmentator_case) -> None:
    _, result, labels = totalsegmentator_case
    body = result.masks["Body"]
    present = [int(v) for v in np.unique(labels) if v]
    assert len(present) > 20
    for value in present:  # includes both humeri: the arms lie apart from the trunk
        organ = labels == value
        assert (organ & body).sum() >= 0.99 * organ.sum(), f"label {value}"


def test_totalsegmentator_spinal_canal_holds_the_cord(totalsegmentator_case) -> None:
    _, result, labels = totalsegmentator_case
    cord = labels == SPINAL_CORD_LABEL
    canal = result.masks["SpinalCanal"]
    found = canal.any(axis=(1, 2))
    print(f"SpinalCanal on {found.sum()} of {len(found)} slices; cord covered {(canal & cord).sum() / cord.sum():.3f}")
    assert found.sum() >= 0.75 * len(found)
    assert all((canal[k] & cord[k]).any() for k in np.flatnonzero(found))
    assert (canal & cord).sum() >= 0.8 * cord.sum()


def test_abdominal_ct_has_no_lungs_or_trachea(totalsegmentator_case) -> None:
    _, result, _ = totalsegmentator_case
    assert {"Lung_L", "Lung_R", "Lungs", "Trachea"} <= set(result.skipped)


def test_thigh_ct_body_covers_soft_tissue(shared_data: Path) -> None:
    ct = load_ct(shared_data / "ibsi_sts002" / "dicom" / "image")
    body = segment_classical(ct, ["Body"]).masks["Body"]
    soft = (ct.hu >= -100) & (ct.hu <= 100)
    assert (soft & body).sum() > 0.9 * soft.sum()


@pytest.mark.parametrize("position", ["HFS", "FFS"])
def test_single_lung_is_named_by_its_side(position: str) -> None:
    phantom = build_phantom(patient_position=position, **SMALL_GRID)
    hu = phantom.hu.copy()
    hu[phantom.masks["Lung_R"]] = 40  # a white-out right lung: only the left one is air-filled
    result = segment_classical(as_ct(hu, phantom.geometry), ["Lung_L", "Lung_R"])
    assert dice(result.masks["Lung_L"], phantom.masks["Lung_L"]) >= 0.9
    assert "Lung_R" in result.skipped
