"""Broken series built by the tests: every problem is reported with its code, never hidden."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from OARContourLib.ct import ProblemCode, Severity
from OARContourLib.ct.inspection import inspect_folder
from OARContourLib.ct.load import load_ct
from OARContourLib.errors import GeometryError, InputError
from pydicom.encaps import encapsulate
from pydicom.uid import RLELossless, generate_uid
from testsupport.series_factory import duplicate_slice, edit, edit_all, sorted_files


def codes(folder: Path, **kwargs) -> dict[ProblemCode, Severity]:
    return {p.code: p.severity for p in inspect_folder(folder, **kwargs).problems}


def test_clean_phantom_has_no_problem(small_ct_copy: Path) -> None:
    inspection = inspect_folder(small_ct_copy)
    assert inspection.problems == ()
    assert not inspection.has_errors


def test_missing_slice_is_an_error_and_blocks_loading(small_ct_copy: Path) -> None:
    removed = sorted_files(small_ct_copy)[5]
    removed.unlink()
    problems = inspect_folder(small_ct_copy).problems
    gap = [p for p in problems if p.code is ProblemCode.MISSING_SLICE]
    assert len(gap) == 1 and gap[0].severity is Severity.ERROR
    assert "About 1 slice(s) missing" in gap[0].message and len(gap[0].files) == 2
    with pytest.raises(GeometryError, match="MISSING_SLICE"):
        load_ct(small_ct_copy)


def test_duplicate_position(small_ct_copy: Path) -> None:
    copy = duplicate_slice(small_ct_copy, 3)
    problems = [p for p in inspect_folder(small_ct_copy).problems if p.code is ProblemCode.DUPLICATE_POSITION]
    assert problems and str(copy) in problems[0].files
    with pytest.raises(GeometryError, match="DUPLICATE_POSITION"):
        load_ct(small_ct_copy)


def test_non_uniform_spacing(small_ct_copy: Path) -> None:
    target = sorted_files(small_ct_copy)[7]
    edit(target, lambda ds: setattr(ds, "ImagePositionPatient", [*ds.ImagePositionPatient[:2], ds.ImagePositionPatient[2] + 3.0]))
    found = codes(small_ct_copy)
    assert found.get(ProblemCode.NON_UNIFORM_SPACING) is Severity.ERROR
    assert ProblemCode.MISSING_SLICE not in found


def test_gantry_tilt_is_detected_from_sheared_positions(small_ct_copy: Path) -> None:
    shift = math.tan(math.radians(15))

    def tilt(index: int, ds: pydicom.Dataset) -> None:
        x, y, z = (float(v) for v in ds.ImagePositionPatient)
        ds.ImagePositionPatient = [x, y + index * 10.0 * shift, z]
        ds.GantryDetectorTilt = 15

    edit_all(small_ct_copy, tilt)
    tilt_problems = [p for p in inspect_folder(small_ct_copy).problems if p.code is ProblemCode.GANTRY_TILT]
    assert tilt_problems and "15.00 degrees" in tilt_problems[0].message
    with pytest.raises(GeometryError, match="GANTRY_TILT"):
        load_ct(small_ct_copy)


@pytest.mark.parametrize("attribute, value", [
    ("ImageOrientationPatient", [1, 0, 0, 0, 0.9950042, -0.0998334]),
    ("Rows", 32),
    ("PixelSpacing", [4.0, 4.0]),
])
def test_mixed_geometry(small_ct_copy: Path, attribute: str, value) -> None:
    edit(sorted_files(small_ct_copy)[2], lambda ds: setattr(ds, attribute, value))
    assert codes(small_ct_copy).get(ProblemCode.INCONSISTENT_GEOMETRY) is Severity.ERROR


def test_unreadable_and_non_dicom_files_are_skipped_and_listed(small_ct_copy: Path) -> None:
    first_slice = sorted_files(small_ct_copy)[0]
    (small_ct_copy / "notes.txt").write_text("scanned on Tuesday")
    truncated = small_ct_copy / "truncated.dcm"
    truncated.write_bytes(first_slice.read_bytes()[:300])
    inspection = inspect_folder(small_ct_copy)
    unreadable = [p for p in inspection.problems if p.code is ProblemCode.UNREADABLE_FILE]
    assert len(unreadable) == 1 and unreadable[0].severity is Severity.WARNING
    assert str(small_ct_copy / "notes.txt") in unreadable[0].files
    assert not inspection.has_errors
    assert load_ct(small_ct_copy).hu.shape[0] == 16


def test_empty_uids_are_reported_but_the_series_still_loads(small_ct_copy: Path) -> None:
    edit_all(small_ct_copy, lambda i, ds: setattr(ds, "FrameOfReferenceUID", ""))
    inspection = inspect_folder(small_ct_copy)
    assert inspection.has_errors
    assert any(p.code is ProblemCode.MISSING_UID and "FrameOfReferenceUID" in p.message for p in inspection.problems)
    assert not load_ct(small_ct_copy).reference.is_referenceable


def test_rle_compressed_series_decodes_to_the_same_hu(small_ct_copy: Path, small_phantom) -> None:
    edit_all(small_ct_copy, lambda i, ds: ds.compress(RLELossless))
    assert pydicom.dcmread(sorted_files(small_ct_copy)[0]).file_meta.TransferSyntaxUID == RLELossless
    np.testing.assert_array_equal(load_ct(small_ct_copy).hu, load_ct(small_phantom.ct_dir).hu)


def test_transfer_syntax_without_decoder_is_unsupported(small_ct_copy: Path) -> None:
    mpeg2 = "1.2.840.10008.1.2.4.100"

    def relabel(index: int, ds: pydicom.Dataset) -> None:
        # Encapsulate the native bytes so the file is well-formed; only the decoder lookup matters.
        ds.PixelData = encapsulate([ds.PixelData])
        ds.file_meta.TransferSyntaxUID = mpeg2

    edit_all(small_ct_copy, relabel)
    problems = [p for p in inspect_folder(small_ct_copy).problems if p.code is ProblemCode.UNSUPPORTED_COMPRESSION]
    assert problems and problems[0].severity is Severity.ERROR and "MPEG2" in problems[0].message
    with pytest.raises(GeometryError, match="UNSUPPORTED_COMPRESSION"):
        load_ct(small_ct_copy)


def test_multiple_series_are_listed_and_selectable(small_phantom, tmp_path: Path) -> None:
    folder = tmp_path / "two"
    shutil.copytree(small_phantom.ct_dir, folder / "a")
    shutil.copytree(small_phantom.ct_dir, folder / "b")
    other_uid = generate_uid()
    for path in sorted_files(folder / "b")[:10]:
        edit(path, lambda ds: (setattr(ds, "SeriesInstanceUID", other_uid), setattr(ds, "SOPInstanceUID", generate_uid())))
    for path in sorted_files(folder / "b")[10:]:
        path.unlink()
    inspection = inspect_folder(folder)
    multiple = [p for p in inspection.problems if p.code is ProblemCode.MULTIPLE_SERIES]
    assert multiple and other_uid in multiple[0].message and multiple[0].severity is Severity.WARNING
    assert inspection.selected == small_phantom.series_instance_uid
    chosen = load_ct(folder, series_uid=other_uid)
    assert chosen.hu.shape[0] == 10 and chosen.reference.series_instance_uid == other_uid
    with pytest.raises(InputError, match="is not in"):
        load_ct(folder, series_uid="1.2.3.4")


def test_folder_without_images_reports_no_image_series(shared_data: Path, tmp_path: Path) -> None:
    shutil.copy(shared_data / "varian_aria_4slice/dicom/RS_Body_SpinalCord.dcm", tmp_path / "rs.dcm")
    inspection = inspect_folder(tmp_path)
    assert inspection.selected is None
    assert [p.code for p in inspection.problems] == [ProblemCode.NO_IMAGE_SERIES]
    with pytest.raises(InputError, match="No image series"):
        load_ct(tmp_path)


@pytest.mark.parametrize("make", ["missing", "empty", "file", "text_only"])
def test_bad_folder_arguments_raise_input_error(tmp_path: Path, make: str) -> None:
    target = tmp_path / "x"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("x")
    elif make == "text_only":
        target.mkdir()
        (target / "readme.txt").write_text("hello")
    with pytest.raises(InputError):
        inspect_folder(target)


def test_each_problem_is_reported_with_the_severity_its_code_declares() -> None:
    """``oarcontour rules`` lists ProblemCode.severity: the places that report a problem must agree."""
    import re
    from pathlib import Path

    from OARContourLib.ct.problems import ProblemCode

    source = "\n".join(p.read_text(encoding="utf-8") for p in (Path(__file__).parents[2] / "OARContourLib" / "ct").glob("*.py"))
    pairs = set(re.findall(r"Severity\.(ERROR|WARNING),\s*ProblemCode\.([A-Z_]+)", source))
    assert pairs, "no reported problem found in ct/"
    assert {(severity, code) for severity, code in pairs if ProblemCode[code].severity.name != severity} == set()
