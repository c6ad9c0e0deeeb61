"""The TotalSegmentator child process: arguments, output, crash, out-of-memory kill, cancel, CT NIfTI.

The child is ``testsupport/fake_totalsegmentator.py`` (real runs need model weights, which tests
cannot download); it records the arguments it received and its pid.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from OARContourLib.autoseg.ts_model import TSTaskRun
from OARContourLib.autoseg.ts_runner import child_environment, run_task, stage_fraction, write_ct_nifti
from OARContourLib.errors import CancelledError, EngineError
from OARContourLib.mask_files import label_names
from testsupport import fake_totalsegmentator

FAKE = [sys.executable, fake_totalsegmentator.__file__]


@pytest.fixture(scope="module")
def phantom_ct(small_phantom):
    from OARContourLib.ct.load import load_ct

    return load_ct(small_phantom.ct_dir)


@pytest.fixture()
def ct_nifti(phantom_ct, tmp_path: Path) -> Path:
    path = tmp_path / "ct.nii.gz"
    write_ct_nifti(phantom_ct, path)
    return path


@pytest.fixture()
def record(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_TS_RECORD", str(path))
    monkeypatch.delenv("FAKE_TS_MODE", raising=False)
    return path


def _calls(record: Path) -> list[dict]:
    return [json.loads(line) for line in record.read_text().splitlines()]


def _run(ct_nifti: Path, run: TSTaskRun, device: str = "cpu", progress=None) -> tuple[Path, object]:
    output = ct_nifti.with_name(f"{run.task}.nii.gz")
    return output, run_task(ct_nifti, run, output, python=sys.executable, device=device, progress=progress,
                            command=FAKE)


def test_total_argv_has_subset_fast_and_device(ct_nifti: Path, record: Path) -> None:
    run = TSTaskRun("total", ("heart", "liver"), ("Heart", "Liver"), fast=True)
    output, result = _run(ct_nifti, run, device="gpu")
    assert _calls(record)[0]["argv"] == ["-i", str(ct_nifti), "-o", str(output), "--ml", "-ta", "total", "-d", "gpu",
                                         "--fast", "--roi_subset", "heart", "liver"]
    assert result.output == output and result.seconds > 0
    assert label_names(output, None) == {1: "heart", 2: "liver"}


def test_other_tasks_get_no_subset_and_full_resolution(ct_nifti: Path, record: Path) -> None:
    run = TSTaskRun("head_glands_cavities", ("parotid_gland_left",), ("Parotid_L",), fast=False)
    output, _ = _run(ct_nifti, run)
    argv = _calls(record)[0]["argv"]
    assert argv[argv.index("-ta") + 1] == "head_glands_cavities" and argv[argv.index("-d") + 1] == "cpu"
    assert "--roi_subset" not in argv and "--fast" not in argv
    assert set(label_names(output, None).values()) == set(fake_totalsegmentator.DEFAULT_CLASSES["head_glands_cavities"])


def test_output_is_on_the_ct_grid_where_the_labels_were_drawn(ct_nifti: Path, record: Path, phantom_ct) -> None:
    output, _ = _run(ct_nifti, TSTaskRun("total", ("spleen", "liver"), ("Spleen", "Liver")))
    labels = sitk.ReadImage(str(output))
    array = sitk.GetArrayFromImage(labels)
    assert array.shape == phantom_ct.hu.shape
    assert np.allclose(labels.GetOrigin(), phantom_ct.geometry.origin_lps, atol=1e-3)
    expected = np.zeros(array.shape, dtype=bool)
    expected[fake_totalsegmentator.box_kji(1, array.shape)] = True
    assert np.array_equal(array == 2, expected)


def test_stage_lines_reach_the_progress_callback(ct_nifti: Path, record: Path) -> None:
    seen: list[tuple[float, str]] = []
    _run(ct_nifti, TSTaskRun("total", ("heart",), ("Heart",)), progress=lambda f, m: seen.append((f, m)) or False)
    messages = [m for _, m in seen]
    assert any("Predicting..." in m for m in messages) and any("Saving segmentations" in m for m in messages)
    assert not any("please cite" in m for m in messages)  # other lines are logged, not shown
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and 0 <= fractions[0] and fractions[-1] <= 1


def test_stage_fraction() -> None:
    assert stage_fraction("Predicting part 1 of 4 ...") == pytest.approx(0.30)
    assert stage_fraction("Predicting part 3 of 4 ...") > stage_fraction("Predicting part 2 of 4 ...")
    assert stage_fraction("Resampling...") < stage_fraction("Predicting...") < stage_fraction("Saving segmentations...")
    assert stage_fraction("  found image with shape (512, 512, 80)") is None


def test_crash_raises_with_the_output_tail_and_leaves_no_output(ct_nifti: Path, record: Path, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_TS_MODE", "crash")
    with pytest.raises(EngineError, match=r"(?s)task total failed \(exit code 1\).*RuntimeError: fake TotalSegmentator crash"):
        _run(ct_nifti, TSTaskRun("total", ("heart",), ("Heart",)))
    assert sorted(p.name for p in ct_nifti.parent.iterdir()) == ["calls.jsonl", "ct.nii.gz"]


def test_exit_zero_without_output_is_an_error(ct_nifti: Path, record: Path, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_TS_MODE", "empty")
    with pytest.raises(EngineError, match="finished but wrote no output"):
        _run(ct_nifti, TSTaskRun("total", ("heart",), ("Heart",)))


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_out_of_memory_kill_is_explained(ct_nifti: Path, record: Path, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_TS_MODE", "oom")
    with pytest.raises(EngineError, match=r"(?s)killed \(SIGKILL\), probably out of memory.*--fast, fewer structures"):
        _run(ct_nifti, TSTaskRun("total", ("heart",), ("Heart",)))
    assert not ct_nifti.with_name("total.nii.gz").exists()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_cancel_stops_a_hanging_child(ct_nifti: Path, record: Path, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_TS_MODE", "hang")
    started = time.perf_counter()
    cancel_after = started + 1.0
    with pytest.raises(CancelledError):
        _run(ct_nifti, TSTaskRun("total", ("heart",), ("Heart",)),
             progress=lambda f, m: time.perf_counter() > cancel_after)
    assert time.perf_counter() - started < 8.0
    assert _gone(_calls(record)[0]["pid"])
    assert not ct_nifti.with_name("total.nii.gz").exists()


def test_keyboard_interrupt_stops_the_child(ct_nifti: Path, record: Path, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_TS_MODE", "hang")

    def interrupt(fraction: float, message: str) -> bool:
        if record.exists():  # the child has started and recorded its pid
            raise KeyboardInterrupt
        return False

    with pytest.raises(KeyboardInterrupt):
        _run(ct_nifti, TSTaskRun("total", ("heart",), ("Heart",)), progress=interrupt)
    assert _gone(_calls(record)[0]["pid"])
    assert threading.active_count() < 10  # reader threads end with their child


def test_ct_nifti_keeps_voxels_and_geometry(phantom_ct, ct_nifti: Path) -> None:
    image = sitk.ReadImage(str(ct_nifti))
    assert np.array_equal(sitk.GetArrayFromImage(image), phantom_ct.hu)
    geometry = phantom_ct.geometry
    assert np.allclose(image.GetSpacing(), geometry.spacing_mm) and np.allclose(image.GetOrigin(), geometry.origin_lps)
    assert np.allclose(image.GetDirection(), geometry.direction_matrix.ravel())


def test_child_environment(monkeypatch) -> None:
    env = {"TOTALSEG_HOME_DIR": "/data/ts", "PYTHONPATH": "/slicer/lib", "PYTHONHOME": "/slicer", "PATH": "/bin"}
    other = child_environment("/opt/ts-venv/bin/python", env)
    assert other["TOTALSEG_HOME_DIR"] == "/data/ts" and other["PYTHONUNBUFFERED"] == "1"
    assert "PYTHONPATH" not in other and "PYTHONHOME" not in other
    assert child_environment(sys.executable, env)["PYTHONPATH"] == "/slicer/lib"
