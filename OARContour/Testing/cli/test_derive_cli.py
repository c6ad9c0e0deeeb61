"""``oarcontour derive``: PRVs, rings and subtractions added to a .seg.nrrd, inputs untouched."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from OARContourLib.cli.main import main
from OARContourLib.ct.load import load_ct
from OARContourLib.derive import expand
from OARContourLib.seg_nrrd import Segment, read_seg_nrrd_native, write_seg_nrrd


@pytest.fixture()
def seg_file(small_phantom, tmp_path: Path) -> Path:
    ct = load_ct(small_phantom.ct_dir)
    segments = []
    for name in ("SpinalCord", "Lung_L", "Heart", "Body"):
        mask = sitk.GetArrayFromImage(sitk.ReadImage(str(small_phantom.truth_dir / f"{name}.nii.gz"))) > 0
        segments.append(Segment(name, mask, (200, 100, 50)))
    path = tmp_path / "in.seg.nrrd"
    write_seg_nrrd(path, segments, ct.geometry.ijk_to_lps())
    return path


def test_derive_adds_named_structures_with_exact_margins(seg_file: Path, tmp_path: Path, capsys) -> None:
    digest = hashlib.sha256(seg_file.read_bytes()).hexdigest()
    out = tmp_path / "out.seg.nrrd"
    code = main(["derive", str(seg_file), "--out", str(out), "--prv", "SpinalCord:5", "--ring", "Heart:0:10",
                 "--subtract", "Body:Lung_L", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["schema"] == "oarcontour.derive/1"
    segments, ijk_to_lps = read_seg_nrrd_native(out)
    by_name = {s.name: s for s in segments}
    assert {"SpinalCord", "Lung_L", "Heart", "Body", "SpinalCord_PRV05", "Body-Lung_L"} <= set(by_name)
    ring = next(n for n in by_name if n.startswith("zRing"))
    assert by_name[ring].tags["OARContour.RTROIInterpretedType"] == "CONTROL"
    assert by_name["SpinalCord_PRV05"].tags["OARContour.RTROIInterpretedType"] == "AVOIDANCE"
    spacing = np.linalg.norm(ijk_to_lps[:3, :3], axis=0)[::-1]
    np.testing.assert_array_equal(by_name["SpinalCord_PRV05"].mask, expand(by_name["SpinalCord"].mask, spacing, 5.0))
    np.testing.assert_array_equal(by_name["Body-Lung_L"].mask, by_name["Body"].mask & ~by_name["Lung_L"].mask)
    assert hashlib.sha256(seg_file.read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("extra, message", [
    ([], "No structure to derive"),
    (["--prv", "Parotid_L:5"], "Parotid_L"),
    (["--prv", "SpinalCord:x"], "x"),
])
def test_bad_recipes_exit_2_and_write_nothing(seg_file: Path, tmp_path: Path, capsys, extra, message) -> None:
    out = tmp_path / "out.seg.nrrd"
    assert main(["derive", str(seg_file), "--out", str(out), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_refuses_to_overwrite_the_input(seg_file: Path, capsys) -> None:
    assert main(["derive", str(seg_file), "--out", str(seg_file), "--prv", "SpinalCord:5"]) == 2
    assert "overwrite the input" in capsys.readouterr().err
