"""``oarcontour autoseg``: classical engine → .seg.nrrd, TotalSegmentator import, bad input (exit 2, nothing written)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pydicom
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
    # The tags the Slicer Logic uses, so Slicer and `oarcontour export` read the same semantics.
    assert body["tags"]["OARContour.RTROIInterpretedType"] == "EXTERNAL"
    assert body["tags"]["OARContour.ROIGenerationAlgorithm"] == "AUTOMATIC"
    assert body["tags"]["OARContour.ROIGenerationDescription"] == "OARContour classical 1.2"
    assert [s["name"] for s in segmentation["segments"]] == ["Body", "Lung_L"]


def test_export_accepts_the_segmentation(thorax_phantom, tmp_path: Path, capsys) -> None:
    seg = tmp_path / "auto.seg.nrrd"
    assert main(["-q", "autoseg", str(thorax_phantom.ct_dir), "--template", "Thorax", "--out", str(seg)]) == 0
    capsys.readouterr()
    rs = tmp_path / "RS.dcm"
    assert main(["export", str(thorax_phantom.ct_dir), str(seg), "--out", str(rs), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in report["rois"]} >= {"Body", "Lung_L", "Lung_R", "SpinalCanal"}
    # The segment tags survive the file round trip: automatic contours stay AUTOMATIC, with provenance.
    dataset = pydicom.dcmread(rs)
    observations = {o.ReferencedROINumber: o for o in dataset.RTROIObservationsSequence}
    for roi in dataset.StructureSetROISequence:
        assert roi.ROIGenerationAlgorithm == "AUTOMATIC", roi.ROIName
        assert roi.ROIGenerationDescription == "OARContour classical 1.2", roi.ROIName
        if roi.ROIName == "Body":
            assert observations[roi.ROINumber].RTROIInterpretedType == "EXTERNAL"
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


def test_preflight_without_totalsegmentator_exits_2(thorax_phantom, tmp_path: Path, capsys) -> None:
    import sys

    code = main(["autoseg", str(thorax_phantom.ct_dir), "--engine", "totalsegmentator", "--template", "Thorax",
                 "--preflight", "--json", "--ts-python", sys.executable])
    document = json.loads(capsys.readouterr().out)
    assert code == 2
    assert document["schema"] == "oarcontour.autoseg-preflight/1" and document["ok"] is False
    assert [f["code"] for f in document["findings"]] == ["TS_NOT_INSTALLED"]
    assert "total" in [run["task"] for run in document["runs"]]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.environ.get("OARCONTOUR_TEST_TS_PYTHON"),
                    reason="set OARCONTOUR_TEST_TS_PYTHON to a Python with TotalSegmentator 2.18.0")
def test_preflight_lists_missing_weights(thorax_phantom, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(tmp_path / ".totalsegmentator"))
    monkeypatch.delenv("TOTALSEG_WEIGHTS_PATH", raising=False)
    argv = ["autoseg", str(thorax_phantom.ct_dir), "--engine", "totalsegmentator", "--template", "HN", "--preflight",
            "--device", "cpu", "--ts-python", os.environ["OARCONTOUR_TEST_TS_PYTHON"]]
    assert main([*argv, "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    codes = {f["code"] for f in document["findings"] if f["severity"] == "error"}
    assert {"TS_WEIGHTS_MISSING", "TS_LICENSE_MISSING"} <= codes
    assert document["version"] == "2.18.0" and document["device"] == "cpu"
    assert main(argv) == 2
    text = capsys.readouterr().out
    assert "TotalSegmentator 2.18.0" in text and "ERROR   TS_WEIGHTS_MISSING" in text
    assert text.rstrip().endswith("Preflight failed: TotalSegmentator cannot run (see the errors above).")
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, not even TotalSegmentator's config
