"""De-identify out, re-identify on return: real CTs and RTSTRUCTs from ../shared/data and the phantom.

Every test goes through real files: the CLI in-process for the file commands, pydicom for reading
what they wrote, our verifier for the result against the ORIGINAL CT.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from OARContourLib.cli.main import main
from OARContourLib.ct.load import load_ct
from OARContourLib.deid.deidentify import Deidentifier, is_instance_uid
from OARContourLib.deid.map_store import DeidMap
from OARContourLib.deid.reidentify import map_back
from OARContourLib.dicom_compat import save_dataset
from OARContourLib.rtstruct.model import RoiType, Structure
from OARContourLib.rtstruct.rereference import rereference
from OARContourLib.rtstruct.verify import verify_rtstruct
from OARContourLib.rtstruct.write import write_rtstruct
from pydicom.dataset import Dataset

from .leaks import identifying_values, leaks_in

VARIAN = ("varian_aria_4slice/dicom", "varian_aria_4slice/dicom/RS_Body_SpinalCord.dcm")
IBSI = ("ibsi_sts002/dicom/image", "ibsi_sts002/dicom/mask/RS.dcm")
VENDORS = {
    "dicompyler": ("vendor_rtstructs/dicompyler_breast", "vendor_rtstructs/dicompyler_breast/rtss.dcm"),
    "mim7": ("vendor_rtstructs/mim7_rtutils", "vendor_rtstructs/mim7_rtutils/mim_rt.dcm"),
    "rtutils": ("vendor_rtstructs/mim7_rtutils", "vendor_rtstructs/mim7_rtutils/rtutils_rt.dcm"),
    "raystation9": ("vendor_rtstructs/raystation9_cheese", None),
}


def _digest(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _uid_elements(ds: Dataset) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    ds.walk(lambda _d, e: found.append((e.keyword, str(e.value))) if is_instance_uid(e) and e.value else None)
    return found


def _deidentify_rtstruct(rs: Dataset, map_path: Path, target: Path) -> Path:
    """The shared RTSTRUCT as a service would return it: de-identified with the same map."""
    with DeidMap(map_path) as deid_map:
        Deidentifier(deid_map).deidentify(rs)
    save_dataset(rs, target, enforce_file_format=True)
    return target


def _round_trip(tmp_path: Path, ct_dir: Path, rs: Dataset, capsys) -> tuple[Path, Path]:
    out, map_path = tmp_path / "deid", tmp_path / "map.sqlite"
    assert main(["-q", "deidentify", str(ct_dir), "--out", str(out), "--map", str(map_path)]) == 0
    returned = _deidentify_rtstruct(rs, map_path, tmp_path / "returned.dcm")
    back = tmp_path / "back.dcm"
    assert main(["-q", "reidentify", str(returned), "--map", str(map_path), "--ct", str(ct_dir),
                 "--out", str(back)]) == 0, capsys.readouterr().err
    return out, back


def _assert_verifies(back: Path, ct_dir: Path, capsys) -> None:
    capsys.readouterr()
    assert main(["-q", "verify", str(back), "--ct", str(ct_dir)]) == 0, capsys.readouterr().out
    assert "0 errors" in capsys.readouterr().out


def _assert_on_original(back: Path, original_rs: Dataset, ct_dir: Path) -> None:
    result = pydicom.dcmread(back)
    ct = load_ct(ct_dir)
    slice_uids = {s.sop_instance_uid for s in ct.slices}
    images = [str(item.ReferencedSOPInstanceUID) for roi in result.ROIContourSequence
              for contour in roi.ContourSequence for item in contour.ContourImageSequence]
    assert images and set(images) <= slice_uids
    assert str(result.StudyInstanceUID) == ct.reference.study_instance_uid
    assert {str(f.FrameOfReferenceUID) for f in result.ReferencedFrameOfReferenceSequence} == \
        {ct.reference.frame_of_reference_uid}
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "AccessionNumber", "StudyDate"):
        assert str(result.get(keyword, "")) == ct.reference.attributes[keyword], keyword
    assert result.SOPInstanceUID != original_rs.SOPInstanceUID
    points = [np.asarray(c.ContourData, float) for r in result.ROIContourSequence for c in r.ContourSequence]
    originals = [np.asarray(c.ContourData, float) for r in original_rs.ROIContourSequence for c in r.ContourSequence]
    assert all(np.array_equal(a, b) for a, b in zip(points, originals, strict=True))
    assert "PatientIdentityRemoved" not in result


def test_varian_round_trip_verifies_on_original_ct(shared_data, tmp_path, capsys):
    ct_dir, rs_path = shared_data / VARIAN[0], shared_data / VARIAN[1]
    before = _digest(ct_dir)
    out, back = _round_trip(tmp_path, ct_dir, pydicom.dcmread(rs_path), capsys)
    assert _digest(ct_dir) == before
    _assert_verifies(back, ct_dir, capsys)
    _assert_on_original(back, pydicom.dcmread(rs_path), ct_dir)
    assert len(list(out.iterdir())) == 4  # the RTSTRUCT beside the CT is not copied out


def test_ibsi_round_trip_after_matching_by_z(shared_data, tmp_path, capsys):
    """IBSI's RTSTRUCT names 267 slices of the uncropped series: matched by z first, then round-tripped.

    It also lacks the Type 2 OperatorsName (PROVENANCE.txt), added empty as its own fix-up."""
    ct_dir = shared_data / IBSI[0]
    rs = pydicom.dcmread(shared_data / IBSI[1])
    rereference(rs, load_ct(ct_dir))
    rs.OperatorsName = ""
    matched = Dataset()
    matched.update(rs)
    out, back = _round_trip(tmp_path, ct_dir, rs, capsys)
    assert leaks_in([out], identifying_values(ct_dir)) == []
    _assert_verifies(back, ct_dir, capsys)
    _assert_on_original(back, matched, ct_dir)


def test_phantom_contoured_on_deidentified_ct_lands_on_original(small_phantom, tmp_path, capsys):
    """The service's view: our exporter on the de-identified CT; the result verifies on the original."""
    ct_dir, out, map_path = small_phantom.ct_dir, tmp_path / "deid", tmp_path / "map.sqlite"
    assert main(["-q", "deidentify", str(ct_dir), "--out", str(out), "--map", str(map_path)]) == 0
    structures = []
    for name, path in small_phantom.truth_files.items():
        mask = sitk.GetArrayFromImage(sitk.ReadImage(str(path))).astype(bool)
        structures.append(Structure(name, mask, roi_type=RoiType.EXTERNAL if name == "Body" else RoiType.ORGAN))
    write_rtstruct(tmp_path / "service.dcm", load_ct(out), structures)
    back = tmp_path / "back.dcm"
    assert main(["-q", "reidentify", str(tmp_path / "service.dcm"), "--map", str(map_path), "--ct", str(ct_dir),
                 "--out", str(back), "--uid-root", "1.2.3.4", "--deid-ct", str(out)]) == 0, capsys.readouterr().err
    assert "round-trip Dice >= 1.0000" in capsys.readouterr().out
    assert main(["-q", "reidentify", str(tmp_path / "service.dcm"), "--map", str(map_path), "--ct", str(ct_dir),
                 "--out", str(tmp_path / "other.dcm"), "--deid-ct", str(ct_dir)]) == 2  # not the CT it was drawn on
    assert "not drawn on the de-identified CT" in capsys.readouterr().err
    _assert_verifies(back, ct_dir, capsys)
    _assert_on_original(back, pydicom.dcmread(tmp_path / "service.dcm"), ct_dir)
    assert str(pydicom.dcmread(back).SeriesInstanceUID).startswith("1.2.3.4.")
    assert not leaks_in([out], identifying_values(ct_dir))


RETAINED = ("StationName", "DeviceSerialNumber", "Manufacturer", "ManufacturerModelName", "PatientSex", "PatientAge",
            "PatientSize", "PatientWeight")


def _assert_retained(ct_dir: Path, out: Path) -> None:
    """Retain Device Identity and Retain Patient Characteristics: the values are unchanged."""
    def values(paths) -> set[tuple[str, str]]:
        found = set()
        for path in paths:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            if ds.get("Modality") == "CT":
                found.update((k, str(ds.get(k, ""))) for k in RETAINED)
        return found
    assert values(out.iterdir()) == values(ct_dir.glob("*.dcm"))


@pytest.mark.parametrize("case", sorted(VENDORS))
def test_vendor_rtstruct_every_uid_maps_back(case, shared_data, tmp_path):
    """Every UID element at any depth of a vendor RTSTRUCT comes back exactly (their CTs are partial,
    so only the mapping is compared here, element by element)."""
    ct_dir, rs_name = VENDORS[case]
    rs_path = shared_data / rs_name if rs_name else next((shared_data / ct_dir).glob("RS*.dcm"))
    original = pydicom.dcmread(rs_path)
    map_path = tmp_path / "map.sqlite"
    assert main(["-q", "deidentify", str(shared_data / ct_dir), "--out", str(tmp_path / "d"),
                 "--map", str(map_path)]) == 0
    assert leaks_in([tmp_path / "d"], identifying_values(shared_data / ct_dir)) == []
    _assert_retained(shared_data / ct_dir, tmp_path / "d")
    returned = pydicom.dcmread(_deidentify_rtstruct(pydicom.dcmread(rs_path), map_path, tmp_path / "r.dcm"))
    assert leaks_in([tmp_path / "r.dcm"], identifying_values(shared_data / ct_dir)) == []
    assert not set(v for _, v in _uid_elements(returned)) & set(v for _, v in _uid_elements(original))
    with DeidMap(map_path) as deid_map:
        back, mapped = map_back(returned, deid_map, str(original.PatientID))
    own = (str(back.SOPInstanceUID), str(back.SeriesInstanceUID))
    assert own == (str(returned.SOPInstanceUID), str(returned.SeriesInstanceUID))  # replaced later, not mapped
    back.SOPInstanceUID, back.SeriesInstanceUID = original.SOPInstanceUID, original.SeriesInstanceUID
    assert _uid_elements(back) == _uid_elements(original)
    assert mapped == len(_uid_elements(original)) - 2
    # Their CTs are partial, so the originals already have findings: the mapped-back file has the same ones.
    ct = load_ct(shared_data / ct_dir)
    codes = [sorted(f.code for f in verify_rtstruct(ds, ct).findings) for ds in (original, back)]
    assert codes[0] == codes[1]


def test_deidentified_ct_keeps_pixels_geometry_and_records_the_method(shared_data, tmp_path):
    ct_dir = shared_data / VARIAN[0]
    out, map_path = tmp_path / "deid", tmp_path / "map.sqlite"
    assert main(["-q", "deidentify", str(ct_dir), "--out", str(out), "--map", str(map_path)]) == 0
    assert map_path.stat().st_mode & 0o777 == 0o600
    originals = {float(ds.ImagePositionPatient[2]): ds for ds in map(pydicom.dcmread, ct_dir.glob("CT*.dcm"))}
    for path in out.iterdir():
        ds = pydicom.dcmread(path)
        source = originals[float(ds.ImagePositionPatient[2])]
        assert np.array_equal(ds.pixel_array, source.pixel_array)
        for keyword in ("ImageOrientationPatient", "PixelSpacing", "SliceThickness", "RescaleSlope",
                        "RescaleIntercept", "PatientSex", "PatientPosition"):
            assert ds.get(keyword) == source.get(keyword), keyword
        assert ds.PatientIdentityRemoved == "YES"
        assert [c.CodeValue for c in ds.DeidentificationMethodCodeSequence] == ["113100", "113107", "113108", "113109"]
        assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
        assert not any(e.tag.is_private for e in ds.iterall())
        assert "InstitutionName" not in ds and not ds.ReferringPhysicianName and not ds.PatientBirthDate
        assert ds.StudyDate != source.StudyDate and ds.FrameOfReferenceUID != source.FrameOfReferenceUID
    assert not leaks_in([out], identifying_values(ct_dir))


def test_same_patient_keeps_its_pseudonyms_and_date_offset(shared_data, tmp_path):
    ct_dir = shared_data / VARIAN[0]
    map_path = tmp_path / "map.sqlite"
    for name in ("a", "b"):
        assert main(["-q", "deidentify", str(ct_dir), "--out", str(tmp_path / name), "--map", str(map_path)]) == 0
    first, second = (sorted(pydicom.dcmread(p) .StudyDate + str(pydicom.dcmread(p).SOPInstanceUID)
                            for p in (tmp_path / name).iterdir()) for name in ("a", "b"))
    assert first == second


def test_refusals_write_nothing(shared_data, tmp_path, capsys):
    rs_only = tmp_path / "rs_only"
    rs_only.mkdir()
    shutil.copy(shared_data / VARIAN[1], rs_only)
    out, map_path = tmp_path / "out", tmp_path / "map.sqlite"
    assert main(["-q", "deidentify", str(rs_only), "--out", str(out), "--map", str(map_path)]) == 2
    assert "No CT image" in capsys.readouterr().err
    assert not out.exists() and not map_path.exists()
    assert main(["-q", "deidentify", str(shared_data / VARIAN[0]), "--out", str(out),
                 "--map", str(out / "map.sqlite")]) == 2
    assert "inside the output" in capsys.readouterr().err
    assert not out.exists()
    no_uids = shared_data / "totalsegmentator_example/example_ct_dicom"  # empty SOP/Series/Study UIDs
    assert main(["-q", "deidentify", str(no_uids), "--out", str(out), "--map", str(map_path)]) == 2
    assert "has no SOPInstanceUID" in capsys.readouterr().err and not out.exists() and not map_path.exists()
    copy = tmp_path / "ct"
    shutil.copytree(shared_data / VARIAN[0], copy)
    assert main(["-q", "deidentify", str(copy), "--out", str(copy / "deid"), "--map", str(map_path)]) == 2
    assert "never modified" in capsys.readouterr().err and not (copy / "deid").exists()
    assert main(["-q", "reidentify", str(copy / "RS_Body_SpinalCord.dcm"), "--map", str(map_path), "--ct", str(copy),
                 "--out", str(copy / "RS_Body_SpinalCord.dcm")]) == 2
    assert "never modified" in capsys.readouterr().err
    assert main(["-q", "reidentify", str(copy / "RS_Body_SpinalCord.dcm"), "--map", str(map_path), "--ct", str(copy),
                 "--out", str(tmp_path / "back.dcm"), "--uid-root", "1.2.03"]) == 2
    assert "is not a UID root" in capsys.readouterr().err and not (tmp_path / "back.dcm").exists()
    assert _digest(copy) == {k.replace(str(shared_data / VARIAN[0]), str(copy)): v
                             for k, v in _digest(shared_data / VARIAN[0]).items()}


@pytest.mark.parametrize("tamper", ["unknown_contour_image", "unknown_frame", "frame_of_another_known_uid"])
def test_tampered_return_is_held(tamper, shared_data, tmp_path, capsys):
    """An unknown UID anywhere, or a Frame of Reference that is not the CT's: exit 2, one line, no file."""
    ct_dir, rs_path = shared_data / VARIAN[0], shared_data / VARIAN[1]
    map_path = tmp_path / "map.sqlite"
    assert main(["-q", "deidentify", str(ct_dir), "--out", str(tmp_path / "d"), "--map", str(map_path)]) == 0
    returned = pydicom.dcmread(_deidentify_rtstruct(pydicom.dcmread(rs_path), map_path, tmp_path / "r.dcm"))
    frame = returned.ReferencedFrameOfReferenceSequence[0]
    if tamper == "unknown_contour_image":
        returned.ROIContourSequence[0].ContourSequence[0].ContourImageSequence[0].ReferencedSOPInstanceUID = \
            pydicom.uid.generate_uid()
    elif tamper == "unknown_frame":
        frame.FrameOfReferenceUID = pydicom.uid.generate_uid()
    else:  # a UID the map knows, but not a Frame of Reference: mapping succeeds, verification refuses
        frame.FrameOfReferenceUID = returned.StudyInstanceUID
        for roi in returned.StructureSetROISequence:
            roi.ReferencedFrameOfReferenceUID = returned.StudyInstanceUID
    save_dataset(returned, tmp_path / "tampered.dcm", enforce_file_format=True)
    back = tmp_path / "back.dcm"
    capsys.readouterr()
    assert main(["-q", "reidentify", str(tmp_path / "tampered.dcm"), "--map", str(map_path), "--ct", str(ct_dir),
                 "--out", str(back)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert ("does not know" in err) if tamper.startswith("unknown") else ("fails verification" in err)
    assert not back.exists() and not list(tmp_path.glob(".back.dcm*"))


def test_changed_contour_points_are_caught(shared_data):
    from OARContourLib.deid.reidentify import ReidentificationRefused, check_points_untouched

    returned = pydicom.dcmread(shared_data / VARIAN[1])
    changed = pydicom.dcmread(shared_data / VARIAN[1])
    check_points_untouched(returned, changed)
    contour = changed.ROIContourSequence[0].ContourSequence[0]
    contour.ContourData = [float(v) + (0.5 if i == 0 else 0.0) for i, v in enumerate(contour.ContourData)]
    with pytest.raises(ReidentificationRefused, match="Contour points changed"):
        check_points_untouched(returned, changed)
