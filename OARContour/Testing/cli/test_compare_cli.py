"""``oarcontour compare`` in-process on RTSTRUCTs from other systems, mask folders and .seg.nrrd files:
each against itself, against a copy moved by whole voxels, pairing by TG-263 name, exit codes, the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from OARContourLib.cli.main import main
from OARContourLib.ct.load import load_ct
from OARContourLib.rtstruct.read import read_rtstruct
from testsupport.rtstruct_copies import edited_copy

IBSI = ("ibsi_sts002/dicom/mask/RS.dcm", "ibsi_sts002/dicom/image")
VARIAN = ("varian_aria_4slice/dicom/RS_Body_SpinalCord.dcm", "varian_aria_4slice/dicom")
MIM = ("vendor_rtstructs/mim7_rtutils/mim_rt.dcm", "vendor_rtstructs/mim7_rtutils")
RAYSTATION = ("vendor_rtstructs/raystation9_cheese/RS1.2.752.243.1.1.20210208111802158.1580.88111.dcm",
              "vendor_rtstructs/raystation9_cheese")
DICOMPYLER = ("vendor_rtstructs/dicompyler_breast/rtss.dcm", "vendor_rtstructs/dicompyler_breast")
RTUTILS = ("vendor_rtstructs/mim7_rtutils/rtutils_rt.dcm", "vendor_rtstructs/mim7_rtutils")
CASES = [IBSI, VARIAN, MIM, RAYSTATION, DICOMPYLER]
PAIR_KEYS = {"reference", "test", "dice", "hd95_mm", "hd_max_mm", "msd_mm", "surface_dice", "apl_mm",
             "volume_reference_cc", "volume_test_cc", "centroid_shift_mm"}


def compare_json(capsys: pytest.CaptureFixture[str], reference: Path, test: Path, ct_dir: Path, *extra: str
                 ) -> tuple[int, dict]:
    code = main(["compare", str(reference), str(test), "--ct", str(ct_dir), "--json", *extra])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0].split("/")[-2])
def test_each_structure_set_against_itself_is_identical(shared_data, capsys, case):
    rs = shared_data / case[0]
    code, document = compare_json(capsys, rs, rs, shared_data / case[1])
    assert code == 0
    assert set(document) == {"schema", "tolerance_mm", "pairs", "unpaired_reference", "unpaired_test"}
    assert document["schema"] == "oarcontour.compare/1" and document["tolerance_mm"] == 2.0
    assert document["unpaired_reference"] == document["unpaired_test"] == []
    assert document["pairs"] and all(set(p) == PAIR_KEYS for p in document["pairs"])
    non_empty = [p for p in document["pairs"] if p["volume_reference_cc"] > 0]
    assert non_empty
    for pair in document["pairs"]:
        assert pair["reference"] == pair["test"] and pair["dice"] == 1.0
    for pair in non_empty:
        assert pair["hd_max_mm"] == pair["hd95_mm"] == pair["msd_mm"] == pair["apl_mm"] == 0.0
        assert pair["surface_dice"] == 1.0 and pair["centroid_shift_mm"] == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("case", [IBSI, VARIAN, MIM, RAYSTATION], ids=lambda c: c[0].split("/")[-2])
def test_a_copy_moved_by_whole_voxels_gives_the_shift(shared_data, capsys, tmp_path, case):
    ct = load_ct(shared_data / case[1])
    column_mm, row_mm = ct.geometry.spacing_mm[0], ct.geometry.spacing_mm[1]
    shift = np.array([2 * column_mm, -1 * row_mm, 0.0])  # two columns toward the left, one row anterior
    moved = edited_copy(shared_data / case[0], tmp_path / "moved.dcm", shift_lps_mm=(shift[0], shift[1], shift[2]))
    code, document = compare_json(capsys, shared_data / case[0], moved, shared_data / case[1], "--tolerance", "1")
    assert code == 0
    inside = _away_from_the_edge(read_rtstruct(shared_data / case[0], ct))
    checked = [p for p in document["pairs"] if p["reference"] in inside]
    assert checked, "no structure away from the image edge to check"
    for pair in checked:
        assert pair["hd_max_mm"] == pytest.approx(float(np.linalg.norm(shift)), abs=1e-6), pair
        assert pair["centroid_shift_mm"] == pytest.approx(list(shift), abs=1e-6), pair
        assert pair["volume_test_cc"] == pytest.approx(pair["volume_reference_cc"])
        assert pair["dice"] < 1.0 and pair["apl_mm"] > 0


def _away_from_the_edge(contents) -> set[str]:  # type: ignore[no-untyped-def]
    """Non-empty ROIs with three empty columns and rows on every side (a moved copy is not clipped)."""
    names = set()
    for roi in contents.rois:
        rows, columns = roi.mask.any(axis=(0, 2)), roi.mask.any(axis=(0, 1))
        if roi.mask.any() and not (rows[:3].any() or rows[-3:].any() or columns[:3].any() or columns[-3:].any()):
            names.add(roi.name)
    return names


def test_structures_pair_by_tg263_name_and_map_overrides(shared_data, capsys, tmp_path):
    renamed = edited_copy(shared_data / VARIAN[0], tmp_path / "renamed.dcm",
                          rename={"SpinalCord": "Spinal Cord", "BODY": "Structure 7"})
    code, document = compare_json(capsys, shared_data / VARIAN[0], renamed, shared_data / VARIAN[1])
    assert code == 0
    assert [(p["reference"], p["test"]) for p in document["pairs"]] == [("SpinalCord", "Spinal Cord")]
    assert document["unpaired_reference"] == ["BODY"] and document["unpaired_test"] == ["Structure 7"]
    code, document = compare_json(capsys, shared_data / VARIAN[0], renamed, shared_data / VARIAN[1],
                                  "--map", "BODY=Structure 7")
    assert sorted((p["reference"], p["test"]) for p in document["pairs"]) == [("BODY", "Structure 7"),
                                                                             ("SpinalCord", "Spinal Cord")]
    assert document["unpaired_reference"] == document["unpaired_test"] == []
    assert all(p["dice"] == 1.0 for p in document["pairs"])
    assert main(["compare", str(shared_data / VARIAN[0]), str(renamed), "--ct", str(shared_data / VARIAN[1]),
                 "--map", "BODY=Nothing"]) == 2


def test_another_frame_of_reference_is_refused_and_nothing_is_written(shared_data, capsys, tmp_path):
    page = tmp_path / "report.html"
    code = main(["compare", str(shared_data / MIM[0]), str(shared_data / RTUTILS[0]), "--ct", str(shared_data / MIM[1]),
                 "--report", str(page)])
    assert code == 2 and not page.exists()
    assert "Frame of Reference" in capsys.readouterr().err
    other = edited_copy(shared_data / IBSI[0], tmp_path / "other_for.dcm", frame_of_reference_uid="1.2.3.4.5")
    assert main(["compare", str(shared_data / IBSI[0]), str(other), "--ct", str(shared_data / IBSI[1])]) == 2


def test_mask_folder_and_seg_nrrd_compare_with_the_rtstruct(shared_data, capsys, tmp_path):
    masks = shared_data / "ibsi_sts002/plastimatch_masks"
    code, document = compare_json(capsys, shared_data / IBSI[0], masks, shared_data / IBSI[1])
    assert code == 0 and document["pairs"][0]["dice"] == 1.0  # plastimatch and our reader agree voxel for voxel
    seg_dir = tmp_path / "seg"
    assert main(["convert", str(shared_data / IBSI[0]), "--ct", str(shared_data / IBSI[1]), "--out", str(seg_dir),
                 "--format", "seg.nrrd"]) == 0
    capsys.readouterr()
    seg = next(seg_dir.glob("*.seg.nrrd"))
    code, document = compare_json(capsys, seg, masks, shared_data / IBSI[1])
    assert code == 0 and [p["dice"] for p in document["pairs"]] == [1.0]


def test_report_and_text_output(shared_data, capsys, tmp_path):
    moved = edited_copy(shared_data / IBSI[0], tmp_path / "moved.dcm", shift_lps_mm=(3.0, 0.0, 0.0))
    page = tmp_path / "compare.html"
    args = ["compare", str(shared_data / IBSI[0]), str(moved), "--ct", str(shared_data / IBSI[1]), "--report", str(page)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "GTV_Mass_CT" in text and "Dice" in text and str(page) in text
    html = page.read_text(encoding="utf-8")
    assert html.count('<tr data-roi="GTV_Mass_CT">') == 1 and 'data-role="reference"' in html and 'data-role="test"' in html
    assert html.count("data:image/png;base64,") == 2  # the two slices of largest disagreement
    assert "toward the patient&#x27;s left" in html
    assert main(args) == 2  # the page exists: refused without --overwrite
    assert main([*args, "--overwrite"]) == 0
