"""The pydicom 2.4 / 3 compatibility layer, on real files, in whichever pydicom this environment has.

`make test` runs this file under pydicom 3.0.2 (Slicer 5.12 and the main environment) and 2.4.4
(Slicer 5.10): the expectations are the same in both, which is the point of the module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from OARContourLib.dicom_compat import (
    decoder_available,
    decoder_problem,
    install_command,
    save_dataset,
    save_without_file_meta,
    stored_pixels,
)
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless

MPEG2 = "1.2.840.10008.1.2.4.100"  # a real transfer syntax that no pydicom version decodes
MADE_UP = "1.2.826.0.1.3680043.10.543.99.1"  # a well-formed UID that names no transfer syntax


def _first_slice(small_phantom) -> Path:
    return sorted(small_phantom.ct_dir.iterdir())[0]


def _is_part10(path: Path) -> bool:
    return path.read_bytes()[128:132] == b"DICM"


def _same_elements(a: pydicom.Dataset, b: pydicom.Dataset) -> None:
    assert [e.tag for e in a] == [e.tag for e in b]
    for element in a:
        assert b[element.tag].value == element.value, element.tag


def test_save_enforcing_the_file_format_writes_a_conformant_part10_file(small_phantom, tmp_path: Path) -> None:
    source = pydicom.dcmread(_first_slice(small_phantom))
    target = tmp_path / "enforced.dcm"
    save_dataset(source, target, enforce_file_format=True)
    assert _is_part10(target)
    again = pydicom.dcmread(target)
    assert again.file_meta.TransferSyntaxUID == source.file_meta.TransferSyntaxUID
    assert again.file_meta.MediaStorageSOPInstanceUID == source.SOPInstanceUID
    _same_elements(source, again)


def test_save_like_the_original_keeps_a_bare_file_bare(small_phantom, tmp_path: Path) -> None:
    bare = tmp_path / "bare.dcm"
    save_without_file_meta(pydicom.dcmread(_first_slice(small_phantom)), bare)
    original = pydicom.dcmread(bare, force=True)
    rewritten = tmp_path / "rewritten.dcm"
    save_dataset(original, rewritten, enforce_file_format=False)
    assert not _is_part10(rewritten)
    assert rewritten.read_bytes() == bare.read_bytes()


def test_save_without_file_meta_leaves_the_dataset_alone(small_phantom, tmp_path: Path) -> None:
    source = pydicom.dcmread(_first_slice(small_phantom))
    save_without_file_meta(source, tmp_path / "bare.dcm")
    assert not _is_part10(tmp_path / "bare.dcm")
    assert source.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian and source.preamble is not None
    again = pydicom.dcmread(tmp_path / "bare.dcm", force=True)
    # The first element after the group length is read back as implicit VR (no VR bytes on disk).
    assert not (tmp_path / "bare.dcm").read_bytes()[4:6].isalpha()
    _same_elements(source, again)


def test_stored_pixels_are_the_raw_values_of_an_uncompressed_file(small_phantom) -> None:
    path = _first_slice(small_phantom)
    ds = pydicom.dcmread(path)
    dtype = np.dtype(f"<{'i' if ds.PixelRepresentation else 'u'}{ds.BitsAllocated // 8}")
    expected = np.frombuffer(ds.PixelData, dtype=dtype).reshape(ds.Rows, ds.Columns)
    pixels = stored_pixels(path)
    assert pixels.dtype == dtype and pixels.shape == (ds.Rows, ds.Columns)
    np.testing.assert_array_equal(pixels, expected)


def test_stored_pixels_decode_the_real_jpeg2000_ct_like_gdcm(shared_data: Path) -> None:
    path = sorted((shared_data / "totalsegmentator_example" / "example_ct_dicom").iterdir())[0]
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    assert ds.file_meta.TransferSyntaxUID == JPEG2000Lossless
    # The test extra installs the pylibjpeg decoders in every test environment.
    assert decoder_available(JPEG2000Lossless) is True
    hu = stored_pixels(path).astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    reference = sitk.GetArrayFromImage(sitk.ReadImage(str(path)))[0]  # GDCM inside SimpleITK applies the rescale
    assert hu.shape == reference.shape == (ds.Rows, ds.Columns)
    np.testing.assert_array_equal(hu, reference)


@pytest.mark.parametrize("uid", [ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless])
def test_decodable_syntaxes_have_no_problem(uid: str) -> None:
    assert decoder_available(uid) is True
    assert decoder_problem(uid) is None


@pytest.mark.parametrize("uid, named", [(MPEG2, "MPEG2"), (MADE_UP, MADE_UP)], ids=["mpeg2", "unknown-uid"])
def test_a_syntax_nothing_decodes_is_a_problem_with_a_hint(uid: str, named: str) -> None:
    assert decoder_available(uid) is None
    problem = decoder_problem(uid)
    assert problem is not None
    message, hint = problem
    assert uid in message and named in message and "No decoder exists" in message
    assert "uncompressed" in hint


def test_install_hint_outside_slicer_is_pip() -> None:
    assert install_command("pylibjpeg pylibjpeg-openjpeg") == "pip install pylibjpeg pylibjpeg-openjpeg"
