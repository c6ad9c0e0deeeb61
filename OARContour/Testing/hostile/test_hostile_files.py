"""Hostile structure files: RTSTRUCTs and masks cut off, label tables from Excel, file names that are not
text, derived names that already exist.

A damaged file is never turned silently into fewer or emptier structures: the commands that use it
refuse it (exit 2, one line naming file and problem, nothing written), ``verify`` reports it (exit 1).
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from OARContourLib.ct.load import load_ct
from OARContourLib.seg_nrrd import Segment, write_seg_nrrd
from testsupport.hostile import Guard, assert_one_line_error, run_in_process, run_subprocess

VARIAN = "varian_aria_4slice/dicom"


@pytest.fixture()
def cut_rtstruct(shared_data: Path, tmp_path: Path) -> Path:
    """The Eclipse/ARIA RTSTRUCT (defined-length sequences: pydicom reads a cut copy without error) cut at 60 %."""
    data = (shared_data / VARIAN / "RS_Body_SpinalCord.dcm").read_bytes()
    path = tmp_path / "in" / "rs_cut.dcm"
    path.parent.mkdir()
    path.write_bytes(data[: int(len(data) * 0.6)])
    return path


@pytest.mark.parametrize("command", ["convert", "names rename", "names check", "report"])
def test_a_truncated_rtstruct_is_refused(shared_data: Path, cut_rtstruct: Path, tmp_path: Path, capsys,
                                         command: str) -> None:
    ct = shared_data / VARIAN
    out = tmp_path / "out"
    out.mkdir()
    argv = {"convert": ["convert", cut_rtstruct, "--ct", ct, "--out", out / "masks"],
            "names rename": ["names", "rename", cut_rtstruct, "--out", out / "rs2.dcm"],
            "names check": ["names", "check", cut_rtstruct],
            "report": ["report", cut_rtstruct, "--ct", ct, "--out", out / "r.html"]}[command]
    guard = Guard([ct, cut_rtstruct], out)
    assert_one_line_error(run_in_process(argv, capsys), 2, "rs_cut.dcm", "truncated")
    guard.check()


def test_verify_reports_a_truncated_rtstruct_as_an_error(shared_data: Path, cut_rtstruct: Path, capsys) -> None:
    guard = Guard([shared_data / VARIAN, cut_rtstruct], cut_rtstruct.parent)
    run = run_in_process(["verify", cut_rtstruct, "--ct", shared_data / VARIAN, "--json"], capsys)
    assert run.code == 1
    truncated = [f for f in json.loads(run.out)["findings"] if f["code"] == "FILE_TRUNCATED"]
    assert truncated and truncated[0]["severity"] == "error"
    guard.check()


def _truncate_gzip(path: Path, fraction: float = 0.6) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


@pytest.fixture()
def mask_folder(small_phantom, tmp_path: Path) -> Path:
    folder = tmp_path / "masks"
    folder.mkdir()
    for name in ("Body", "Heart", "Lung_L", "SpinalCord"):
        (folder / f"{name}.nii.gz").write_bytes((small_phantom.truth_dir / f"{name}.nii.gz").read_bytes())
    return folder


def test_export_refuses_a_truncated_gzip_mask(small_phantom, mask_folder: Path, tmp_path: Path, capsys) -> None:
    _truncate_gzip(mask_folder / "Body.nii.gz")
    out = tmp_path / "out"
    out.mkdir()
    guard = Guard([small_phantom.ct_dir, mask_folder], out)
    run = run_in_process(["export", small_phantom.ct_dir, mask_folder, "--out", out / "rs.dcm"], capsys)
    assert_one_line_error(run, 2, "Body.nii.gz", "truncated")
    guard.check()


@pytest.fixture()
def label_image(small_phantom, tmp_path: Path) -> tuple[Path, dict[int, str]]:
    """A TotalSegmentator-like multilabel NIfTI of four phantom structures, and its label table."""
    names = {1: "heart", 2: "lung_upper_lobe_left", 3: "spinal_cord", 4: "esophagus"}
    files = {1: "Heart", 2: "Lung_L", 3: "SpinalCord", 4: "Esophagus"}
    reference = sitk.ReadImage(str(small_phantom.truth_dir / "Heart.nii.gz"))
    labels = np.zeros(sitk.GetArrayViewFromImage(reference).shape, np.uint8)
    for value, name in files.items():
        labels[sitk.GetArrayFromImage(sitk.ReadImage(str(small_phantom.truth_dir / f"{name}.nii.gz"))) > 0] = value
    image = sitk.GetImageFromArray(labels)
    image.CopyInformation(reference)
    folder = tmp_path / "ts"
    folder.mkdir()
    path = folder / "ts_multilabel.nii.gz"
    sitk.WriteImage(image, str(path), True)
    return path, names


def test_autoseg_import_refuses_a_truncated_totalsegmentator_output(small_phantom, label_image, tmp_path: Path,
                                                                   capsys) -> None:
    path, names = label_image
    table = path.parent / "labels.csv"
    table.write_text("".join(f"{k},{v}\n" for k, v in names.items()), encoding="utf-8")
    _truncate_gzip(path, 0.7)
    out = tmp_path / "out"
    out.mkdir()
    guard = Guard([small_phantom.ct_dir, path.parent], out)
    run = run_in_process(["autoseg", small_phantom.ct_dir, "--import-ts", path, "--labels", table,
                          "--out", out / "s.seg.nrrd"], capsys)
    assert_one_line_error(run, 2, "ts_multilabel.nii.gz", "truncated")
    guard.check()


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8-sig", "utf-16", "cp1252"])
def test_label_tables_from_excel_are_read(small_phantom, label_image, tmp_path: Path, capsys, encoding: str) -> None:
    path, names = label_image
    table = path.parent / "labels.csv"
    tg263 = {1: "Heart", 2: "Lung_L", 3: "SpinalCord", 4: "Esophagus"}
    table.write_bytes(("étiquette;nom\r\n" + "".join(f"{k},{v}\r\n" for k, v in tg263.items())).encode(encoding))
    out = tmp_path / "out"
    out.mkdir()
    run = run_in_process(["export", small_phantom.ct_dir, path, "--labels", table, "--out", out / "rs.dcm", "--json"],
                         capsys)
    assert run.code == 0, run.err
    assert sorted(r["name"] for r in json.loads(run.out)["rois"]) == sorted(tg263.values())


@pytest.mark.parametrize("content, words", [(b"", "empty"), (b"\x00\x00\x00", "empty"), (b"\n\n  \n", "empty"),
                                            (b"a,b\nc,d\n", "no 'label,name' rows")])
def test_unusable_label_tables_are_refused(small_phantom, label_image, tmp_path: Path, capsys, content: bytes,
                                           words: str) -> None:
    path, _ = label_image
    table = path.parent / "labels.csv"
    table.write_bytes(content)
    out = tmp_path / "out"
    out.mkdir()
    guard = Guard([small_phantom.ct_dir, path.parent], out)
    run = run_in_process(["export", small_phantom.ct_dir, path, "--labels", table, "--out", out / "rs.dcm"], capsys)
    assert_one_line_error(run, 2, "labels.csv", words)
    guard.check()


@pytest.mark.parametrize("raw_name, shown", [(b"Heart\xff\xfe", "Heart__"), (b"Hea\nrt", "Hea_rt")])
def test_mask_file_names_that_are_not_text_are_read_safely(small_phantom, mask_folder: Path, tmp_path: Path,
                                                           raw_name: bytes, shown: str) -> None:
    source = mask_folder / "Heart.nii.gz"
    hostile = mask_folder / os.fsdecode(raw_name + b".nii.gz")
    source.rename(hostile)
    out = tmp_path / "out"
    out.mkdir()
    guard = Guard([small_phantom.ct_dir, mask_folder], out)
    # A subprocess: a name reaching the NIfTI library undecoded used to abort the whole process.
    run = run_subprocess(["export", small_phantom.ct_dir, mask_folder, "--out", out / "rs.dcm", "--json"])
    assert run.code == 0, run.err
    document = json.loads(run.out)
    assert shown in [r["name"] for r in document["rois"]]
    assert any(f["code"] == "MASK_NAME_CLEANED" for f in document["findings"])
    assert "Traceback" not in run.err
    assert (out / "rs.dcm").is_file()
    assert Guard([small_phantom.ct_dir, mask_folder], out).hashes == guard.hashes


def test_gzip_check_passes_complete_files_and_multi_member_streams(small_phantom, tmp_path: Path) -> None:
    from OARContourLib.image_files import truncation_problem

    source = small_phantom.truth_dir / "Heart.nii.gz"
    assert truncation_problem(source) is None
    raw = gzip.decompress(source.read_bytes())
    two_members = tmp_path / "two.nii.gz"
    two_members.write_bytes(gzip.compress(raw[:1000]) + gzip.compress(raw[1000:]))
    assert truncation_problem(two_members) is None
    short = tmp_path / "short.nii.gz"
    short.write_bytes(gzip.compress(raw[:-100]))  # a complete gzip stream of an incomplete image
    assert "declared" in (truncation_problem(short) or "")


@pytest.fixture()
def seg_with_ptv(small_phantom, tmp_path: Path) -> Path:
    ct = load_ct(small_phantom.ct_dir)
    heart = sitk.GetArrayFromImage(sitk.ReadImage(str(small_phantom.truth_dir / "Heart.nii.gz"))) > 0
    segments = [Segment("SpinalCord", sitk.GetArrayFromImage(sitk.ReadImage(
                    str(small_phantom.truth_dir / "SpinalCord.nii.gz"))) > 0, (200, 100, 50)),
                Segment("Body", heart, (1, 2, 3)), Segment("CTV", heart, (4, 5, 6)), Segment("PTV", heart, (7, 8, 9))]
    path = tmp_path / "in" / "in.seg.nrrd"
    path.parent.mkdir()
    write_seg_nrrd(path, segments, ct.geometry.ijk_to_lps())
    return path


@pytest.mark.parametrize("recipe, name", [("SpinalCord:5=Body", "Body"), ("CTV:7,post=5", "PTV"),
                                          ("SpinalCord:5=body", "Body")])
def test_derive_refuses_a_name_that_already_exists(seg_with_ptv: Path, tmp_path: Path, capsys, recipe: str,
                                                   name: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    guard = Guard([seg_with_ptv], out)
    run = run_in_process(["derive", seg_with_ptv, "--out", out / "d.seg.nrrd", "--prv", recipe], capsys)
    assert_one_line_error(run, 2, f"'{name}'", "already exists")
    guard.check()


def _cut(path: Path, fraction: float = 0.7) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


@pytest.mark.parametrize("kind", ["nrrd", "nii", "seg.nrrd"])
def test_other_truncated_mask_formats_are_refused(small_phantom, seg_with_ptv: Path, tmp_path: Path, capsys,
                                                  kind: str) -> None:
    folder = tmp_path / "masks"
    folder.mkdir()
    if kind == "seg.nrrd":
        source = _cut(seg_with_ptv)
    else:
        source = folder / f"Heart.{kind}"
        sitk.WriteImage(sitk.ReadImage(str(small_phantom.truth_dir / "Heart.nii.gz")), str(source), kind == "nrrd")
        _cut(source)
        source = folder
    out = tmp_path / "out"
    out.mkdir()
    guard = Guard([small_phantom.ct_dir, source], out)
    run = run_in_process(["export", small_phantom.ct_dir, source, "--out", out / "rs.dcm"], capsys)
    assert_one_line_error(run, 2)
    if kind == "seg.nrrd":
        run = run_in_process(["derive", source, "--out", out / "d.seg.nrrd", "--prv", "Heart:5"], capsys)
        assert_one_line_error(run, 2, "in.seg.nrrd")
    guard.check()


@pytest.mark.parametrize("where", ["mask folder", "seg.nrrd", "rtstruct"])
def test_pipes_among_structure_files_never_block(small_phantom, mask_folder: Path, tmp_path: Path,
                                                 where: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    if where == "mask folder":
        os.mkfifo(mask_folder / "Pipe.nii.gz")
        argv, code = ["export", small_phantom.ct_dir, mask_folder, "--out", out / "rs.dcm", "--json"], 0
    elif where == "seg.nrrd":
        os.mkfifo(tmp_path / "pipe.seg.nrrd")
        argv, code = ["export", small_phantom.ct_dir, tmp_path / "pipe.seg.nrrd", "--out", out / "rs.dcm"], 2
    else:
        os.mkfifo(tmp_path / "rs.dcm")
        argv, code = ["convert", tmp_path / "rs.dcm", "--ct", small_phantom.ct_dir, "--out", out / "m"], 2
    guard = Guard([small_phantom.ct_dir, mask_folder], out)
    run = run_subprocess(argv, timeout=60)
    if code == 0:
        assert run.code == 0, run.err
        skipped = [f for f in json.loads(run.out)["findings"] if f["code"] == "UNREADABLE_FILE"]
        assert skipped and "Pipe.nii.gz" in skipped[0]["message"]
        (out / "rs.dcm").unlink()
    else:
        assert_one_line_error(run, code)
    guard.check()


def test_names_check_prints_undecodable_paths_without_failing(small_phantom, tmp_path: Path) -> None:
    folder = tmp_path / os.fsdecode(b"masks\xff")
    folder.mkdir()
    (folder / os.fsdecode(b"Lung\xe9_L.nii.gz")).write_bytes((small_phantom.truth_dir / "Lung_L.nii.gz").read_bytes())
    run = run_subprocess(["names", "check", folder], strict_utf8=True)
    assert run.code in (0, 1) and "Traceback" not in run.err, run.err
    assert "Lung__L" in run.out
