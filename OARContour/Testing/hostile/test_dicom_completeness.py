"""The RTSTRUCT completeness walk: no complete file is called truncated, every cut file is."""

from __future__ import annotations

from pathlib import Path

import pytest
from OARContourLib.dicom_compat import save_dataset
from OARContourLib.rtstruct.completeness import truncation_problem
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid


def _shared_dicom_files(shared_data: Path) -> list[Path]:
    return sorted(p for p in shared_data.rglob("*.dcm") if p.is_file())


def test_every_shared_file_is_complete_and_every_cut_is_found(shared_data: Path, tmp_path: Path) -> None:
    files = _shared_dicom_files(shared_data)
    assert len(files) > 20
    cut = tmp_path / "cut.dcm"
    for path in files:
        assert truncation_problem(path) is None, path
        data = path.read_bytes()
        for fraction in (0.3, 0.6, 0.95, 0.999):
            cut.write_bytes(data[: int(len(data) * fraction)])
            assert truncation_problem(cut), f"{path.name} cut at {fraction}"


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
@pytest.mark.parametrize("undefined", [True, False])
def test_files_ending_in_a_sequence_delimiter(tmp_path: Path, syntax: str, undefined: bool) -> None:
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = "1.2.840.10008.5.1.4.1.1.481.3", generate_uid(), "RTSTRUCT"
    item = Dataset()
    item.ObservationNumber, item.ROIInterpreter = 1, ""
    ds.RTROIObservationsSequence = Sequence([item, item])
    ds["RTROIObservationsSequence"].is_undefined_length = undefined
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    path = tmp_path / "rs.dcm"
    save_dataset(ds, path, enforce_file_format=True)
    assert truncation_problem(path) is None
    data = path.read_bytes()
    for missing in (1, 4, 8, 12):
        path.write_bytes(data[:-missing])
        assert truncation_problem(path), missing
