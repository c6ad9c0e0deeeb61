"""Hostile output paths: an input as the output, a folder, a name too long, a full disk, a killed run.

Every command resolves its output before writing and refuses (exit 2, one line) an output that is,
or is inside, one of its inputs (real paths, after symlinks), that is a folder where a file is
written (or a file where a folder is), or whose name the file system cannot hold. Operating-system
errors while writing (disk full, no permission) are exit 2 with one line and leave no temporary file.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest
from pydicom import config
from testsupport.hostile import (
    MODULE_ROOT,
    Guard,
    assert_one_line_error,
    listing,
    run_in_process,
    run_subprocess,
)
from testsupport.phantom_rtstruct import write_phantom_rtstruct
from testsupport.series_factory import sorted_files


@pytest.fixture()
def inputs(small_phantom, small_ct_copy: Path, tmp_path: Path) -> dict[str, Path]:
    rtstruct = write_phantom_rtstruct(small_phantom, tmp_path / "rs_in.dcm")
    truth = tmp_path / "truth"
    truth.mkdir()
    for name in ("Heart", "Lung_L", "SpinalCord"):
        (truth / f"{name}.nii.gz").write_bytes((small_phantom.truth_dir / f"{name}.nii.gz").read_bytes())
    return {"ct": small_ct_copy, "rs": rtstruct, "truth": truth, "slice": sorted_files(small_ct_copy)[0],
            "mask": truth / "Heart.nii.gz"}


def _cases(paths: dict[str, Path], tmp: Path) -> dict[str, tuple[list[object], str]]:
    ct, rs, truth, one_slice, mask = paths["ct"], paths["rs"], paths["truth"], paths["slice"], paths["mask"]
    link = tmp / "link_to_rs.dcm"
    link.symlink_to(rs)
    return {
        "export onto the SEG input": (["export", ct, mask, "--out", mask, "--overwrite"], "input"),
        "export onto a CT slice": (["export", ct, truth, "--out", one_slice, "--overwrite"], "input"),
        "export into the CT folder": (["export", ct, truth, "--out", ct / "rs.dcm"], "inside the input"),
        "export onto the CT folder": (["export", ct, truth, "--out", ct, "--overwrite"], "input"),
        "export name too long": (["export", ct, truth, "--out", tmp / ("a" * 300 + ".dcm")], "too long"),
        "export below a file": (["export", ct, truth, "--out", tmp / "rs_in.dcm" / "x.dcm"], "does not exist"),
        "report onto a CT slice": (["report", rs, "--ct", ct, "--out", one_slice, "--overwrite"], "input"),
        "report onto the RTSTRUCT via a symlink": (["report", rs, "--ct", ct, "--out", link, "--overwrite"], "input"),
        "report onto a folder": (["report", rs, "--ct", ct, "--out", tmp], "folder"),
        "convert into the CT folder": (["convert", rs, "--ct", ct, "--out", ct / "masks"], "inside the input"),
        "convert onto a file": (["convert", rs, "--ct", ct, "--out", rs, "--overwrite"], "input"),
        "convert around its inputs": (["convert", rs, "--ct", ct, "--out", tmp, "--overwrite"], "holds the input"),
        "names rename onto the input": (["names", "rename", rs, "--out", link, "--overwrite"], "input"),
        "autoseg onto the CT folder": (["autoseg", ct, "--out", ct / "x.seg.nrrd"], "inside the input"),
        "phantom onto a file": (["phantom", "--out", rs, "--size", "16"], "not a folder"),
        "demo onto a file": (["demo", "--out", rs], "not a folder"),
        "phantom size 0": (["phantom", "--out", tmp / "ph", "--size", "0"], "--size"),
        "compare report onto the reference": (["compare", rs, truth, "--ct", ct, "--report", rs, "--overwrite"], "input"),
        "compare report into the CT folder": (["compare", rs, truth, "--ct", ct, "--report", ct / "c.html"],
                                              "inside the input"),
    }


CASE_NAMES = [
    "export onto the SEG input", "export onto a CT slice", "export into the CT folder", "export onto the CT folder",
    "export name too long", "export below a file", "report onto a CT slice", "report onto the RTSTRUCT via a symlink",
    "report onto a folder", "convert into the CT folder", "convert onto a file", "convert around its inputs",
    "names rename onto the input", "autoseg onto the CT folder", "phantom onto a file", "demo onto a file",
    "phantom size 0", "compare report onto the reference", "compare report into the CT folder"]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_outputs_that_would_hit_an_input_are_refused(inputs: dict[str, Path], tmp_path: Path, capsys,
                                                     case: str) -> None:
    argv, words = _cases(inputs, tmp_path)[case]
    guard = Guard([inputs["ct"], inputs["rs"], inputs["truth"]], tmp_path)
    assert_one_line_error(run_in_process(argv, capsys), 2, words)
    guard.check()


def test_an_os_error_while_writing_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    # /proc accepts no new folders, even for root: the write itself fails (not our checks).
    run = run_in_process(["phantom", "--out", "/proc/self/oarcontour_phantom", "--size", "16"], capsys)
    assert_one_line_error(run, 2, "/proc/self")


def _file_size_limit(limit_bytes: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes then fail with EFBIG instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return apply


@pytest.mark.parametrize("command", ["phantom", "export", "convert"])
def test_disk_full_is_one_line_exit_2_and_leaves_nothing(inputs: dict[str, Path], tmp_path: Path,
                                                         command: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    argv = {"phantom": ["phantom", "--out", out / "ph", "--size", "64"],
            "export": ["export", inputs["ct"], inputs["truth"], "--out", out / "rs.dcm"],
            "convert": ["convert", inputs["rs"], "--ct", inputs["ct"], "--out", out / "masks"]}[command]
    guard = Guard([inputs["ct"], inputs["rs"], inputs["truth"]], out)
    run = run_subprocess(argv, timeout=120, preexec_fn=_file_size_limit(600))
    assert_one_line_error(run, 2)
    assert any(word in run.err for word in ("too large", "File too large", "Cannot write")), run.err
    guard.check()


def test_convert_writes_safe_unique_file_names_for_hostile_roi_names(inputs: dict[str, Path], tmp_path: Path,
                                                                    capsys) -> None:
    hostile = ["a" * 300, "../../escape", "a/b\\c", "line\nbreak", "Ünïcödé ☢", "."]
    dataset = pydicom.dcmread(inputs["rs"])
    with config.disable_value_validation():
        for item, name in zip(dataset.StructureSetROISequence, hostile, strict=False):
            item.ROIName = name
        dataset.save_as(inputs["rs"])
    out = tmp_path / "out"
    run = run_in_process(["convert", inputs["rs"], "--ct", inputs["ct"], "--out", out], capsys)
    assert run.code in (0, 1), run.err
    files = sorted(p.name for p in out.iterdir())
    assert all(len(os.fsencode(name)) <= 255 and "/" not in name and not name.startswith(".") for name in files)
    assert len({name.lower() for name in files}) == len(files)
    assert not list(tmp_path.glob("escape*")) and sorted(listing(tmp_path)) == sorted(
        {"out", "rs_in.dcm", "truth", "ct", *(f"out/{n}" for n in files), *(f"truth/{n}" for n in listing(inputs["truth"])),
         *(f"ct/{n}" for n in listing(inputs["ct"]))})


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(MODULE_ROOT)}
    target = tmp_path / "ph"
    process = subprocess.Popen([sys.executable, "-m", "OARContourLib.cli.main", "-q", "phantom", "--out", str(target),
                                "--size", "256"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".ph.*.partial")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.kill()
    process.wait()
    assert list(tmp_path.glob(".ph.*.partial")), "the run ended before its staging folder could be seen"
    foreign = tmp_path / ".ph.notours"
    foreign.mkdir()
    run = run_subprocess(["phantom", "--out", target, "--size", "16", "--overwrite"], timeout=120)
    assert run.code == 0, run.err
    assert not list(tmp_path.glob(".ph.*.partial")) and foreign.is_dir()
