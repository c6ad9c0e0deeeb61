"""``oarcontour autoseg``: classical engine → .seg.nrrd, TotalSegmentator import, bad input (exit 2, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from OARContourLib.cli.main import main

TS_EXAMPLE = "totalsegmentator_example"
PHANTOM = dict(rows=160, columns=160, pixel_spacing_mm=3.0, slices=40, slice_spacing_mm=6.0)


@pytest.fixture(scope="module")
def thorax_phantom(tmp_path_factory: pytest.TempPathFactory):
    from OARContourLib.phantom import write_phantom

    return write_phantom(tmp_path_factory.mktemp("autoseg") / "ct", seed=5, **PHANTOM)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * np.count_nonzero(a & b) / max(np.count_nonzero(a) + np.count_nonzero(b), 1)


def _segments_kji(path: Path) -> dict[str, np.ndarray]:
    import slicerio

    segmentation = slicerio.read_segmentation(str(path))
    return {s["name"]: np.asarray(slicerio.segment_mask(segmentation, s), dtype=bool).transpose(2, 1, 0)
            for s in segmentation["segments"]}


def test_classical_thorax_template_writes_seg_nrrd(thorax_phantom, tmp_path: Path, capsys) -> None:
    out = tmp_path / "auto.seg.nrrd"
    code = main(["autoseg", str(thorax_phantom.ct_dir), "--template", "Thorax", "--out", str(out), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["schema"] == "oarcontour.autoseg/1"
    assert document["provenance"]["engine"] == "classical"
    assert document["skipped"]["Heart"] == "needs TotalSegmentator"
    assert document["skipped"]["Chestwall"] == "manual"
    produced = {s["name"]: s for s in document["produced"]}
    assert produced["Body"]["roi_type"] == "EXTERNAL" and produced["Lung_L"]["roi_type"] == "ORGAN"
    segments = _segments_kji(out)
    for name in ("Body", "Lung_L", "Lung_R", "SpinalCanal"):
        truth = sitk.GetArrayFromImage(sitk.ReadImage(str(thorax_phantom.truth_dir / f"{name}.nii.gz"))) != 0
        assert _dice(segments[name], truth) >= 0.9, name
    assert not list(tmp_path.glob(".*partial*"))


def test_seg_nrrd_carries_colours_and_tags(thorax_phantom, tmp_path: Path) -> None:
    import slicerio

    out = tmp_path / "auto.seg.nrrd"
    assert main(["-q", "autoseg", str(thorax_phantom.ct_dir), "--structures", "Body,Lung_L", "--out", str(out)]) == 0
    segmentation = slicerio.read_segmentation(str(out))
    body = slicerio.segment_from_name(segmentation, "Body")
    assert body["tags"]["DICOM.RTROIInterpretedType"] == "EXTERNAL"
    assert body["tags"]["DICOM.ROIGenerationAlgorithm"] == "AUTOMATIC"
    assert body["tags"]["DICOM.ROIGenerationDescription"] == "OARContour classical 1.0"
    assert [s["name"] for s in segmentation["segments"]] == ["Body", "Lung_L"]


def test_export_accepts_the_segmentation(thorax_phantom, tmp_path: Path, capsys) -> None:
    seg = tmp_path / "auto.seg.nrrd"
    assert main(["-q", "autoseg", str(thorax_phantom.ct_dir), "--template", "Thorax", "--out", str(seg)]) == 0
    capsys.readouterr()
    rs = tmp_path / "RS.dcm"
    assert main(["export", str(thorax_phantom.ct_dir), str(seg), "--out", str(rs), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in report["rois"]} >= {"Body", "Lung_L", "Lung_R", "SpinalCanal"}
    assert rs.is_file()


def test_refuses_to_overwrite(thorax_phantom, tmp_path: Path, capsys) -> None:
    out = tmp_path / "auto.seg.nrrd"
    out.write_bytes(b"keep")
    assert main(["autoseg", str(thorax_phantom.ct_dir), "--structures", "Body", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"keep"
    assert main(["-q", "autoseg", str(thorax_phantom.ct_dir), "--structures", "Body", "--out", str(out),
                 "--overwrite"]) == 0
    assert out.read_bytes() != b"keep"


@pytest.mark.parametrize("extra, message", [
    (["--template", "Nowhere"], "Thorax"),
    (["--structures", "Heart,Body"], "Choose from: Body"),
    (["--engine", "totalsegmentator"], "TotalSegmentator"),
])
def test_bad_input_exits_2_and_writes_nothing(thorax_phantom, tmp_path: Path, capsys, monkeypatch,
                                              extra: list[str], message: str) -> None:
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None)
    out = tmp_path / "auto.seg.nrrd"
    code = main(["autoseg", str(thorax_phantom.ct_dir), "--out", str(out), *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_missing_ct_exits_2(tmp_path: Path, capsys) -> None:
    out = tmp_path / "auto.seg.nrrd"
    assert main(["autoseg", str(tmp_path / "nope"), "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith("oarcontour: error:")
    assert not out.exists()


def test_import_ts_output(shared_data: Path, tmp_path: Path, capsys) -> None:
    example = shared_data / TS_EXAMPLE
    out = tmp_path / "ts.seg.nrrd"
    code = main(["autoseg", str(example / "example_ct_dicom"), "--import-ts", str(example / "example_seg_dicom.nii.gz"),
                 "--structures", "Spleen,Liver,Humerus_L,Humerus_R", "--out", str(out), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["provenance"]["engine"] == "totalsegmentator"
    assert document["provenance"]["task"] == "total"
    assert [s["name"] for s in document["produced"]] == ["Spleen", "Liver", "Humerus_L", "Humerus_R"]
    segments = _segments_kji(out)
    assert set(segments) == {"Spleen", "Liver", "Humerus_L", "Humerus_R"}
