"""The reader and verifier read contours from their encoding: same results as a plain pydicom walk.

Real files of several producers (Varian, RayStation, MIM, dicompyler, IBSI) and a generated one with
many contours are parsed by :func:`parse_rtstruct` (which takes the encoded fast path) and, in the
test, by walking pydicom's Datasets; every ROI, contour, point and image UID must agree. Values
pydicom would warn about still make pydicom read them, so the warnings stay findings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from OARContourLib.ct.load import load_ct
from OARContourLib.dicom_compat import save_dataset
from OARContourLib.phantom import write_phantom
from OARContourLib.rtstruct.encoded_contours import encoded_contours
from OARContourLib.rtstruct.model import ExportOptions, Structure
from OARContourLib.rtstruct.parse import ReadCode, parse_rtstruct
from OARContourLib.rtstruct.profiles import load_profile
from OARContourLib.rtstruct.rules import VerificationContext
from OARContourLib.rtstruct.rules.elements import element_vr
from OARContourLib.rtstruct.write import write_rtstruct
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

#: Shared file -> whether the encoded path reads its contours (else pydicom reads the items).
SHARED_FILES = {
    "varian_aria_4slice/dicom/RS_Body_SpinalCord.dcm": True,
    "vendor_rtstructs/raystation9_cheese/RS1.2.752.243.1.1.20210208111802158.1580.88111.dcm": True,
    "vendor_rtstructs/mim7_rtutils/mim_rt.dcm": False,  # undefined-length sequences: pydicom reads them at once
    "vendor_rtstructs/mim7_rtutils/rtutils_rt.dcm": True,
    "vendor_rtstructs/dicompyler_breast/rtss.dcm": True,
    "ibsi_sts002/dicom/mask/RS.dcm": False,  # image UIDs of 67 characters: pydicom must warn about them
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """Twelve structures with holes and islands on 40 slices: hundreds of contours."""
    root = tmp_path_factory.mktemp("encoded")
    phantom = write_phantom(root / "p", rows=96, columns=96, slices=40, pixel_spacing_mm=4.0, slice_spacing_mm=3.0,
                            seed=11)
    ct = load_ct(phantom.ct_dir)
    rng = np.random.default_rng(3)
    structures = []
    for number in range(12):
        mask = np.zeros(ct.hu.shape, dtype=bool)
        k, j, i = rng.integers(2, 20), rng.integers(5, 50), rng.integers(5, 50)
        mask[k: k + 15, j: j + 30, i: i + 30] = True
        mask[k + 2: k + 10, j + 10: j + 15, i + 10: i + 15] = False  # a hole
        mask[k: k + 5, j + 35: j + 40, i: i + 5] = True  # an island
        structures.append(Structure(f"Organ_{number:02d}", mask))
    write_rtstruct(root / "rs.dcm", ct, structures, ExportOptions())
    return root / "rs.dcm", ct


def _pydicom_walk(path: Path) -> dict[int, list[tuple[np.ndarray, tuple[str, ...]]]]:
    """ROI Number -> its closed planar contours (points, image UIDs), read the plain pydicom way."""
    dataset = pydicom.dcmread(path)
    rois: dict[int, list[tuple[np.ndarray, tuple[str, ...]]]] = {}
    for roi_contour in dataset.ROIContourSequence:
        contours = rois.setdefault(int(roi_contour.ReferencedROINumber), [])
        for contour in roi_contour.get("ContourSequence", []):
            if str(contour.get("ContourGeometricType", "CLOSED_PLANAR")).upper() not in ("CLOSED_PLANAR",
                                                                                          "CLOSEDPLANAR_XOR"):
                continue
            points = np.array([float(v) for v in contour.ContourData]).reshape(-1, 3)
            uids = tuple(str(image.ReferencedSOPInstanceUID) for image in contour.get("ContourImageSequence", [])
                         if image.get("ReferencedSOPInstanceUID"))
            contours.append((points, uids))
    return rois


def _assert_same_as_pydicom(path: Path) -> int:
    parsed = parse_rtstruct(path)
    expected = _pydicom_walk(path)
    compared = 0
    for roi in parsed.rois:
        wanted = expected.get(roi.number, [])
        assert len(roi.contours) == len(wanted), roi.name
        for got, (points, uids) in zip(roi.contours, wanted, strict=True):
            np.testing.assert_array_equal(got.points_lps, points)
            assert got.referenced_sop_instance_uids == uids
            compared += 1
    return compared


def _explicit_copy(path: Path, target: Path) -> Path:
    """``path`` rewritten in explicit VR little endian (the shared files are all implicit VR)."""
    original = pydicom.dcmread(path)
    copy = Dataset()
    for element in original:
        copy.add(element)
    copy.file_meta = FileMetaDataset(original.file_meta)
    copy.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    save_dataset(copy, target, enforce_file_format=True)
    return target


@pytest.mark.parametrize(("relative", "encoded"), SHARED_FILES.items())
def test_vendor_files_read_as_pydicom_reads_them(shared_data: Path, relative: str, encoded: bool,
                                                 tmp_path: Path) -> None:
    path = shared_data / relative  # all implicit VR little endian
    explicit = _explicit_copy(path, tmp_path / "explicit.dcm")
    for copy in (path, explicit):
        assert _assert_same_as_pydicom(copy) > 0
        assert any(encoded_contours(item) is not None for item in pydicom.dcmread(copy).ROIContourSequence) is encoded


def _sequences_as_datasets(dataset: Dataset) -> Dataset:
    """Every sequence turned into pydicom Datasets (their plain elements left as read)."""
    for tag in list(dataset.keys()):
        if element_vr(dataset, tag) == "SQ":
            for item in dataset[tag].value or []:
                _sequences_as_datasets(item)
    return dataset


@pytest.mark.parametrize("relative", SHARED_FILES)
def test_verifier_reads_vendor_files_as_from_datasets(shared_data: Path, relative: str, generated) -> None:
    _, ct = generated  # any CT: contours and encoded elements do not depend on it
    path = shared_data / relative
    _assert_same_contexts(pydicom.dcmread(path), _sequences_as_datasets(pydicom.dcmread(path)), ct)


def test_generated_file_reads_as_pydicom_reads_it(generated) -> None:
    path, _ = generated
    assert _assert_same_as_pydicom(path) > 200
    assert all(encoded_contours(item) is not None for item in pydicom.dcmread(path).ROIContourSequence)


def test_verifier_contours_equal_those_of_converted_datasets(generated) -> None:
    """Contours read from bytes equal those read from fully converted pydicom Datasets."""
    path, ct = generated
    converted = pydicom.dcmread(path)
    for roi_contour in converted.ROIContourSequence:
        for contour in roi_contour.ContourSequence:
            assert contour.ContourImageSequence[0].ReferencedSOPInstanceUID
    assert _assert_same_contexts(pydicom.dcmread(path), converted, ct) > 200


def _assert_same_contexts(raw: Dataset, converted: Dataset, ct) -> int:
    profile = load_profile("generic")
    fast, slow = VerificationContext(raw, ct, profile), VerificationContext(converted, ct, profile)
    assert len(fast.contours) == len(slow.contours)
    for a, b in zip(fast.contours, slow.contours, strict=True):
        assert (a.roi_number, a.roi_name, a.position, a.roi_contour_count, a.geometric_type, a.declared_points,
                a.contour_data, a.values, a.image_uids) == \
               (b.roi_number, b.roi_name, b.position, b.roi_contour_count, b.geometric_type, b.declared_points,
                b.contour_data, b.values, b.image_uids)
        np.testing.assert_array_equal(a.points, b.points)
    assert fast.elements == slow.elements
    return len(fast.contours)


def test_an_invalid_image_uid_is_left_to_pydicom_and_still_reported(generated, tmp_path: Path) -> None:
    path, ct = generated
    uid = ct.slices[5].sop_instance_uid.encode()
    broken = uid[:-2] + b".A"  # same length, not a UID: pydicom warns when it converts it
    target = tmp_path / "rs.dcm"
    target.write_bytes(path.read_bytes().replace(uid, broken))
    dataset = pydicom.dcmread(target)
    assert any(encoded_contours(item) is None for item in dataset.ROIContourSequence)
    parsed = parse_rtstruct(target)
    invalid = [f for f in parsed.findings if f.code == ReadCode.DICOM_VALUE_INVALID.value]
    assert any(broken.decode() in f.message for f in invalid)
    assert _assert_same_as_pydicom(target) > 200
