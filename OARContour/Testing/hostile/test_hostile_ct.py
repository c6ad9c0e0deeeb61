"""Hostile CT folders: special files, truncated or impossible pixel data, broken geometry values, copies.

``inspect`` reports each as an error with its own code (exit 1); the commands that need the CT
(export, autoseg, verify, convert) refuse it with one line (exit 2), write nothing and leave every
input byte-identical. Hangs are run in a subprocess with a timeout.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest
from pydicom import config
from pydicom.dataset import Dataset
from testsupport.hostile import Guard, assert_one_line_error, run_in_process, run_subprocess
from testsupport.series_factory import sorted_files


def _edit(path: Path, change: Callable[[Dataset], None]) -> None:
    dataset = pydicom.dcmread(path)
    with config.disable_value_validation():  # we write invalid values on purpose
        change(dataset)
        dataset.save_as(path)


def _truncate_pixels(folder: Path) -> str:
    path = sorted_files(folder)[5]
    data = path.read_bytes()
    path.write_bytes(data[:-1000])
    return path.name


def _huge_matrix(folder: Path) -> str:
    path = sorted_files(folder)[3]

    def change(ds: Dataset) -> None:
        ds.Rows, ds.Columns = 65535, 65535
        ds.PixelData = bytes(8192)

    _edit(path, change)
    return path.name


def _cut_in_header(folder: Path) -> str:
    """The last slice cut just before Rows: it would drop out of the series unnoticed."""
    path = sorted_files(folder)[-1]
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"\x28\x00\x10\x00US")])
    return path.name


def _nan_position(folder: Path) -> str:
    path = sorted_files(folder)[7]
    _edit(path, lambda ds: setattr(ds, "ImagePositionPatient", ["nan", "0", "0"]))
    return path.name


def _inf_position(folder: Path) -> str:
    path = sorted_files(folder)[7]
    _edit(path, lambda ds: setattr(ds, "ImagePositionPatient", ["0", "inf", "10"]))
    return path.name


def _zero_spacing(folder: Path) -> str:
    for path in sorted_files(folder):
        _edit(path, lambda ds: setattr(ds, "PixelSpacing", ["0", "0"]))
    return "PixelSpacing"


def _nan_spacing(folder: Path) -> str:
    for path in sorted_files(folder):
        _edit(path, lambda ds: setattr(ds, "PixelSpacing", ["nan", "1"]))
    return "PixelSpacing"


def _zero_orientation(folder: Path) -> str:
    for path in sorted_files(folder):
        _edit(path, lambda ds: setattr(ds, "ImageOrientationPatient", ["0"] * 6))
    return "ImageOrientationPatient"


def _duplicate_sop_uid(folder: Path) -> str:
    files = sorted_files(folder)
    uid = pydicom.dcmread(files[2], stop_before_pixels=True).SOPInstanceUID
    _edit(files[9], lambda ds: setattr(ds, "SOPInstanceUID", uid))
    return files[9].name


DAMAGE = {
    "TRUNCATED_PIXEL_DATA": [_truncate_pixels, _huge_matrix, _cut_in_header],
    "INVALID_POSITION": [_nan_position, _inf_position, _zero_orientation],
    "INVALID_PIXEL_SPACING": [_zero_spacing, _nan_spacing],
    "DUPLICATE_SOP_INSTANCE_UID": [_duplicate_sop_uid],
}
CASES = [(code, damage) for code, damages in DAMAGE.items() for damage in damages]
IDS = [damage.__name__.strip("_") for _, damage in CASES]


@pytest.mark.parametrize("code, damage", CASES, ids=IDS)
def test_inspect_reports_the_damage_with_its_own_code(small_ct_copy: Path, capsys, code: str, damage) -> None:
    damage(small_ct_copy)
    guard = Guard([small_ct_copy], small_ct_copy)
    run = run_in_process(["inspect", small_ct_copy, "--json"], capsys)
    assert run.code == 1, run.err
    problems = json.loads(run.out)["problems"]
    assert code in {p["code"] for p in problems if p["severity"] == "error"}
    assert "Traceback" not in run.err
    guard.check()


@pytest.mark.parametrize("code, damage", CASES, ids=IDS)
def test_export_refuses_a_damaged_ct(small_phantom, small_ct_copy: Path, tmp_path: Path, capsys, code: str,
                                     damage) -> None:
    damage(small_ct_copy)
    out = tmp_path / "out"
    out.mkdir()
    guard = Guard([small_ct_copy, small_phantom.truth_dir], out)
    run = run_in_process(["export", small_ct_copy, small_phantom.truth_dir, "--out", out / "rs.dcm"], capsys)
    assert_one_line_error(run, 2, code)
    guard.check()


@pytest.mark.parametrize("command", ["autoseg", "verify", "convert", "report"])
def test_every_command_needing_the_ct_refuses_truncated_pixels(small_phantom, small_ct_copy: Path, tmp_path: Path,
                                                               capsys, command: str) -> None:
    from testsupport.phantom_rtstruct import write_phantom_rtstruct

    rtstruct = write_phantom_rtstruct(small_phantom, tmp_path / "rs.dcm")
    _huge_matrix(small_ct_copy)
    out = tmp_path / "out"
    out.mkdir()
    argv = {"autoseg": ["autoseg", small_ct_copy, "--out", out / "s.seg.nrrd"],
            "verify": ["verify", rtstruct, "--ct", small_ct_copy],
            "convert": ["convert", rtstruct, "--ct", small_ct_copy, "--out", out / "masks"],
            "report": ["report", rtstruct, "--ct", small_ct_copy, "--out", out / "r.html"]}[command]
    guard = Guard([small_ct_copy, rtstruct], out)
    assert_one_line_error(run_in_process(argv, capsys), 2, "TRUNCATED_PIXEL_DATA")
    guard.check()


@pytest.mark.parametrize("special", ["fifo", "dev_zero_link", "fifo_link"])
def test_special_files_are_skipped_never_read(small_ct_copy: Path, special: str) -> None:
    target = small_ct_copy / "zz_special.dcm"
    if special == "fifo":
        os.mkfifo(target)
    elif special == "dev_zero_link":
        target.symlink_to("/dev/zero")
    else:
        os.mkfifo(small_ct_copy.parent / "pipe")
        target.symlink_to(small_ct_copy.parent / "pipe")
    guard = Guard([small_ct_copy], small_ct_copy)
    run = run_subprocess(["inspect", small_ct_copy, "--json"], timeout=60)
    assert run.code == 0, run.err
    unreadable = [p for p in json.loads(run.out)["problems"] if p["code"] == "UNREADABLE_FILE"]
    assert unreadable and str(target) in unreadable[0]["files"] and "not a regular file" in unreadable[0]["message"]
    guard.check()


def test_undecodable_jpeg2000_pixels_are_one_line_exit_2(shared_data: Path, tmp_path: Path, capsys) -> None:
    import shutil

    ct = shutil.copytree(shared_data / "totalsegmentator_example/example_ct_dicom", tmp_path / "ct")
    files = sorted(p for p in ct.iterdir() if p.is_file())
    damaged = files[len(files) // 2]
    data = bytearray(damaged.read_bytes())
    data[-3000:-100] = b"\xff" * 2900  # the codestream is garbage, its length intact
    damaged.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()
    guard = Guard([ct], out)
    run = run_in_process(["autoseg", ct, "--out", out / "s.seg.nrrd"], capsys)
    assert_one_line_error(run, 2, damaged.name, "Cannot decode")
    guard.check()
