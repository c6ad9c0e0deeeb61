"""The TotalSegmentator extension keeps Slicer responsive, and its setup errors and version reach the user in words.

The extension's ``process`` blocks until TotalSegmentator's child process ends; only its
``logCallback`` runs meanwhile. These tests drive :mod:`OARContourLib.logic.ts_extension` with the
stand-in of :mod:`testsupport.ts_extension_standin` (the extension's documented interface) on real
MRML.
"""

from __future__ import annotations

import pytest
from OARContourLib.autoseg.engine import totalsegmentator_request
from OARContourLib.errors import CancelledError
from OARContourLib.logic import ts_extension
from testsupport import ts_extension_standin
from testsupport.ts_extension_standin import InstallError, TotalSegmentatorLogic


def test_each_line_the_extension_logs_reaches_progress_while_it_runs(scene, logic, small_phantom) -> None:
    ct_node = logic.loadCT(small_phantom.ct_dir)
    ts_logic = TotalSegmentatorLogic()
    seen: list[tuple[float, str]] = []
    request = totalsegmentator_request(None, ["Heart", "Parotid_L"], "cpu", True)
    result = ts_extension.segment_with_extension(
        ct_node, request, ts_logic=ts_logic, progress=lambda fraction, message: seen.append((fraction, message)) and False)
    assert [s.name for s in result.structures] == ["Heart", "Parotid_L"]
    # Every line was logged with our callback in place, so the panel could process events for each.
    assert ts_logic.logged and all(with_callback for _, with_callback in ts_logic.logged)
    messages = [message for _, message in seen]
    for task in ("total", "head_glands_cavities"):
        for line in ("Processing started", *ts_extension_standin.CHILD_OUTPUT, "Processing completed"):
            assert f"TotalSegmentator ({task}): {line}" in messages
    # The second task's lines come at its own share of the bar, after the first task's.
    fractions = [fraction for fraction, message in seen if message.startswith("TotalSegmentator (head_glands")]
    assert fractions and min(fractions) == pytest.approx(0.5)
    assert ts_logic.logCallback is None, "the extension's own callback must be restored"


def test_cancel_during_a_task_stops_before_the_next(scene, logic, small_phantom) -> None:
    ct_node = logic.loadCT(small_phantom.ct_dir)
    ts_logic = TotalSegmentatorLogic()
    cancelled = []

    def progress(fraction: float, message: str) -> bool:
        if "Predicting" in message:
            cancelled.append(message)  # the user clicks Cancel while the first task runs
        return bool(cancelled)

    segmentations_before = scene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode")
    request = totalsegmentator_request(None, ["Heart", "Parotid_L"], "cpu", True)
    with pytest.raises(CancelledError):
        ts_extension.segment_with_extension(ct_node, request, ts_logic=ts_logic, progress=progress)
    assert [call["task"] for call in ts_logic.calls] == ["total"], "the second task must not start"
    assert scene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode") == segmentations_before
    assert ts_logic.logCallback is None


def test_without_progress_the_log_is_still_taken_over(scene, logic, small_phantom) -> None:
    ct_node = logic.loadCT(small_phantom.ct_dir)
    ts_logic = TotalSegmentatorLogic()
    previous = []
    ts_logic.logCallback = previous.append  # e.g. the extension's own panel
    request = totalsegmentator_request(None, ["Heart"], "cpu", True)
    ts_extension.segment_with_extension(ct_node, request, ts_logic=ts_logic)
    assert all(with_callback for _, with_callback in ts_logic.logged)
    assert previous == [], "lines went to the extension's panel instead of ours"
    assert ts_logic.logCallback == previous.append


def test_a_release_other_than_the_tested_one_is_reported(scene, logic, small_phantom) -> None:
    ct_node = logic.loadCT(small_phantom.ct_dir)
    request = totalsegmentator_request(None, ["Heart"], "cpu", True)
    result = ts_extension.segment_with_extension(ct_node, request, ts_logic=TotalSegmentatorLogic())
    installed = ts_extension._installed_version()  # "unknown" where TotalSegmentator is not installed
    expected = ts_extension.version_findings(installed, ts_extension.WHERE, "pip install")
    reported = [f for f in result.findings if f.code == "TS_VERSION"]
    assert [f.message for f in reported] == [f.message for f in expected]
    assert bool(ts_extension.version_warning()) is bool(expected)
    if installed == "unknown":
        assert reported and reported[0].severity.value == "warning"


@pytest.mark.parametrize("version, warned", [("2.13.0", True), ("1.5.7", True), ("2.18.0", False),
                                             ("2.18.3", False), ("2.19.0", True)])
def test_version_findings_for_the_extension(version: str, warned: bool) -> None:
    findings = ts_extension.version_findings(version, ts_extension.WHERE, "slicer.util.pip_install(...)")
    assert bool(findings) is warned
    if warned:
        assert "2.18.0" in findings[0].message + findings[0].hint and version in findings[0].message


def test_setup_problems_are_sentences_with_a_restart_when_needed() -> None:
    restart = ts_extension.setup_problem(InstallError("Packages were updated.", restartRequired=True))
    assert restart.restart_required and "Restart Slicer" in restart.hint
    assert restart.message == "TotalSegmentator could not be set up: Packages were updated."
    missing_extension = ts_extension.setup_problem(
        InstallError("This module requires PyTorch extension. Install it from the Extensions Manager."))
    assert not missing_extension.restart_required and "Extensions Manager" in missing_extension.hint
    not_loaded = ts_extension.setup_problem(ModuleNotFoundError("No module named 'torch'", name="torch"))
    assert not_loaded.restart_required and "'torch'" in not_loaded.message
    other = ts_extension.setup_problem(ValueError("TotalSegmentator update was cancelled."))
    assert not other.restart_required and "ValueError: TotalSegmentator update was cancelled." in other.message


def test_install_hints_outside_the_app_name_pip(scene) -> None:
    # slicer-core is imported here, but only the application sets slicer.app.
    from OARContourLib.startup import in_slicer_app, install_command

    assert not in_slicer_app()
    assert install_command("pylibjpeg") == "pip install pylibjpeg"
    assert ts_extension.version_warning() == "" or "pip install TotalSegmentator==2.18.0" in ts_extension.version_warning()
