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
from OARContourLib.derive import DirectionalMargin, expand, expand_directional
from OARContourLib.phantom import build_phantom
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


def lps_extremes(mask: np.ndarray, ijk_to_lps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest LPS coordinate (mm) of the mask's voxel centres, per axis x, y, z."""
    kji = np.argwhere(mask)
    lps = (ijk_to_lps @ np.column_stack([kji[:, ::-1], np.ones(len(kji))]).T).T[:, :3]
    return lps.min(axis=0), lps.max(axis=0)


def test_directional_prv_end_to_end(seg_file: Path, tmp_path: Path, capsys) -> None:
    digest = hashlib.sha256(seg_file.read_bytes()).hexdigest()
    out = tmp_path / "out.seg.nrrd"
    code = main(["derive", str(seg_file), "--out", str(out), "--prv", "SpinalCord:0,post=16",
                 "--prv", "Heart:8,left=16,sup=0,inf=0=Heart_PRV_X", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and [n["name"] for n in doc["names"]] == ["SpinalCord_PRV", "Heart_PRV_X"]
    segments, ijk_to_lps = read_seg_nrrd_native(out)
    by_name = {s.name: s for s in segments}
    spacing = tuple(np.linalg.norm(ijk_to_lps[:3, :3], axis=0)[::-1])
    margin = DirectionalMargin(anterior_mm=0, posterior_mm=16, left_mm=0, right_mm=0, superior_mm=0, inferior_mm=0)
    cord, prv = by_name["SpinalCord"].mask, by_name["SpinalCord_PRV"].mask
    np.testing.assert_array_equal(prv, expand_directional(cord, spacing, margin, ijk_to_lps))
    (lo, hi), (prv_lo, prv_hi) = lps_extremes(cord, ijk_to_lps), lps_extremes(prv, ijk_to_lps)
    assert prv_hi[1] - hi[1] == pytest.approx(16.0)  # +y is posterior; the phantom has 8 mm pixels
    np.testing.assert_allclose([*prv_lo, prv_hi[0], prv_hi[2]], [*lo, hi[0], hi[2]])
    assert by_name["SpinalCord_PRV"].tags["OARContour.RTROIInterpretedType"] == "AVOIDANCE"
    assert hashlib.sha256(seg_file.read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("position", ["FFS", "HFP"])
def test_directional_prv_follows_the_patient_not_the_array(position: str, tmp_path: Path, capsys) -> None:
    volume = build_phantom(rows=64, columns=64, slices=16, pixel_spacing_mm=8.0, slice_spacing_mm=10.0,
                           patient_position=position, seed=7)
    source = tmp_path / "in.seg.nrrd"
    write_seg_nrrd(source, [Segment("Heart", volume.masks["Heart"], (200, 0, 0))], volume.geometry.ijk_to_lps())
    out = tmp_path / "out.seg.nrrd"
    assert main(["derive", str(source), "--out", str(out), "--prv", "Heart:L=16,R=0,A=0,P=0,S=0,I=20"]) == 0
    assert "Heart_PRV" in capsys.readouterr().out
    segments, ijk_to_lps = read_seg_nrrd_native(out)
    by_name = {s.name: s for s in segments}
    (lo, hi), (prv_lo, prv_hi) = lps_extremes(by_name["Heart"].mask, ijk_to_lps), \
        lps_extremes(by_name["Heart_PRV"].mask, ijk_to_lps)
    assert prv_hi - hi == pytest.approx([16.0, 0.0, 0.0])  # patient left is +x
    assert prv_lo - lo == pytest.approx([0.0, 0.0, -20.0])  # inferior is -z (the heart touches the top slice)


def test_bad_directional_recipe_exits_2_and_writes_nothing(seg_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.seg.nrrd"
    assert main(["derive", str(seg_file), "--out", str(out), "--prv", "SpinalCord:5,back=3"]) == 2
    err = capsys.readouterr().err
    assert "unknown direction 'back'" in err and "posterior/post/P" in err
    assert not out.exists()
