"""The TotalSegmentator engine: preflight before anything runs, one child per task, TG-263 structures, provenance.

Segmentation runs use ``testsupport/fake_totalsegmentator.py`` as the child (real runs need model
weights that tests cannot download). The preflight tests use the real TotalSegmentator 2.18.0
interpreter named by ``OARCONTOUR_TEST_TS_PYTHON`` (locally ``/tmp/tsv/bin/python``) and are skipped
without it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from OARContourLib.autoseg.engine import run_autoseg, select_structures
from OARContourLib.autoseg.result import REASON_MANUAL
from OARContourLib.autoseg.ts_engine import TSRequest, plan_for, run_checked
from OARContourLib.autoseg.ts_model import PreflightReport, TSEnvironment
from OARContourLib.autoseg.ts_plan import available_structures
from OARContourLib.errors import CancelledError, EngineError, InputError
from OARContourLib.rtstruct.model import GenerationAlgorithm, full_mask
from testsupport import fake_totalsegmentator

FAKE = [sys.executable, fake_totalsegmentator.__file__]
TS_PYTHON = os.environ.get("OARCONTOUR_TEST_TS_PYTHON")
needs_real_ts = pytest.mark.skipif(not TS_PYTHON, reason="set OARCONTOUR_TEST_TS_PYTHON to a Python with "
                                                         "TotalSegmentator 2.18.0 (e.g. /tmp/tsv/bin/python)")


@pytest.fixture(scope="module")
def phantom_ct(small_phantom):
    from OARContourLib.ct.load import load_ct

    return load_ct(small_phantom.ct_dir)


@pytest.fixture()
def ready(tmp_path: Path, monkeypatch) -> PreflightReport:
    """A passed preflight for an installation in ``tmp_path/home`` (what probe + preflight return when all is there)."""
    monkeypatch.delenv("FAKE_TS_MODE", raising=False)
    home = tmp_path / "home"
    environment = TSEnvironment(python=sys.executable, version="2.18.0", home_dir=home,
                                weights_dir=home / "nnunet" / "results", config={}, tasks={})
    return PreflightReport(environment, (), "cpu")


def _request(template: str | None = None, structures: list[str] | None = None, fast: bool = False) -> TSRequest:
    wanted, skipped = select_structures("totalsegmentator", available_structures(), template, structures)
    return TSRequest(tuple(wanted), skipped, template, "cpu", fast, sys.executable)


def _box(index: int, shape: tuple[int, int, int]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[fake_totalsegmentator.box_kji(index, shape)] = True
    return mask


def test_structures_land_where_totalsegmentator_drew_them(phantom_ct, ready: PreflightReport, tmp_path: Path) -> None:
    request = _request(structures=["Heart", "Lung_L", "Spleen"], fast=True)
    plan = plan_for(request)
    assert [r.task for r in plan.runs] == ["total"]
    subset = plan.runs[0].roi_subset
    assert subset == ("heart", "lung_lower_lobe_left", "lung_upper_lobe_left", "spleen")
    work = tmp_path / "work"
    work.mkdir()
    result = run_checked(phantom_ct, request, plan, ready, command=FAKE, work_root=work)
    shape = phantom_ct.geometry.shape
    assert [s.name for s in result.structures] == ["Heart", "Lung_L", "Spleen"]
    assert np.array_equal(full_mask(result.structure("Heart"), shape), _box(0, shape))
    assert np.array_equal(full_mask(result.structure("Lung_L"), shape), _box(1, shape) | _box(2, shape))
    assert np.array_equal(full_mask(result.structure("Spleen"), shape), _box(3, shape))
    assert all(s.algorithm is GenerationAlgorithm.AUTOMATIC for s in result.structures)
    assert {s.description for s in result.structures} == {"OARContour totalsegmentator 2.18.0 task total"}
    assert list(work.iterdir()) == []  # the CT NIfTI and outputs are gone


def test_provenance_and_usage_statistics(phantom_ct, ready: PreflightReport, tmp_path: Path) -> None:
    request = _request(structures=["Heart"], fast=True)
    result = run_checked(phantom_ct, request, plan_for(request), ready, command=FAKE)
    provenance = json.loads(json.dumps(result.provenance))
    assert provenance["engine"] == "totalsegmentator" and provenance["version"] == "2.18.0"
    assert provenance["python"] == sys.executable and provenance["device"] == "cpu" and provenance["fast"] is True
    assert [(r["task"], r["roi_subset"]) for r in provenance["runs"]] == [("total", ["heart"])]
    assert 0 < provenance["runs"][0]["seconds"] <= provenance["seconds"]
    config = json.loads((ready.environment.home_dir / "config.json").read_text())
    assert config["send_usage_stats"] is False


def test_hn_template_runs_one_child_per_task(phantom_ct, ready: PreflightReport, tmp_path: Path, monkeypatch) -> None:
    record = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_TS_RECORD", str(record))
    request = _request(template="HN")
    plan = plan_for(request)
    result = run_checked(phantom_ct, request, plan, ready, command=FAKE)
    calls = [json.loads(line)["argv"] for line in record.read_text().splitlines()]
    tasks = [argv[argv.index("-ta") + 1] for argv in calls]
    assert tasks == list(plan.tasks) and tasks[0] == "total" and "head_glands_cavities" in tasks
    assert all(("--roi_subset" in argv) == (task == "total") for argv, task in zip(calls, tasks, strict=True))
    assert {"Parotid_L", "Parotid_R", "Eye_L", "Eye_R"} <= set(result.produced)  # the fake's default classes
    assert result.skipped["OpticChiasm"] == REASON_MANUAL and result.skipped["Body"].startswith("classical")
    assert "not in the TotalSegmentator output" in result.skipped["Glnd_Submand_L"]
    descriptions = {s.name: s.description for s in result.structures}
    assert descriptions["Parotid_L"] == "OARContour totalsegmentator 2.18.0 task head_glands_cavities"
    assert len(result.provenance["runs"]) == len(plan.runs)


def test_crash_leaves_nothing_behind(phantom_ct, ready: PreflightReport, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_TS_MODE", "crash")
    work = tmp_path / "work"
    work.mkdir()
    request = _request(structures=["Heart"])
    with pytest.raises(EngineError, match="RuntimeError: fake TotalSegmentator crash"):
        run_checked(phantom_ct, request, plan_for(request), ready, command=FAKE, work_root=work)
    assert list(work.iterdir()) == []


def test_cancel_removes_the_work_folder(phantom_ct, ready: PreflightReport, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_TS_MODE", "hang")
    work = tmp_path / "work"
    work.mkdir()
    request = _request(structures=["Heart"])
    with pytest.raises(CancelledError):
        run_checked(phantom_ct, request, plan_for(request), ready, command=FAKE, work_root=work,
                    progress=lambda fraction, message: "Resampling" in message)
    assert list(work.iterdir()) == []


def test_a_failed_preflight_stops_before_any_work(phantom_ct, ready: PreflightReport, tmp_path: Path) -> None:
    from OARContourLib.autoseg.ts_preflight import run_preflight

    request = _request(structures=["Heart"])
    plan = plan_for(request)
    missing = TSEnvironment(python=sys.executable, version=None, home_dir=tmp_path / "home",
                            weights_dir=tmp_path / "w", config={}, tasks={})
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(InputError, match="not installed"):
        run_checked(phantom_ct, request, plan, run_preflight(plan, missing, phantom_ct, device="cpu"),
                    command=FAKE, work_root=work)
    assert list(work.iterdir()) == [] and not (tmp_path / "home").exists()


def test_nothing_to_run_without_totalsegmentator_structures(phantom_ct) -> None:
    result = run_autoseg(phantom_ct, engine="totalsegmentator", structures=[], ts_python="/nonexistent/python")
    assert result.structures == () and result.provenance["runs"] == []


@needs_real_ts
def test_missing_weights_are_reported_before_any_run(phantom_ct, tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(home / ".totalsegmentator"))
    monkeypatch.delenv("TOTALSEG_WEIGHTS_PATH", raising=False)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where a work folder would be made
    with pytest.raises(InputError, match=r"TotalSegmentator cannot run: .*missing .* under .*totalseg_download_weights"):
        run_autoseg(phantom_ct, engine="totalsegmentator", template="HN", device="cpu", ts_python=TS_PYTHON)
    assert list(scratch.iterdir()) == []  # no work folder, so no CT was written and no task ran
    assert not (home / ".totalsegmentator" / "config.json").exists()  # usage stats untouched before a pass


@needs_real_ts
def test_full_path_with_the_real_preflight(phantom_ct, tmp_path: Path, monkeypatch) -> None:
    """Real probe and preflight (weight folders present but empty), the stand-in child, the import."""
    from OARContourLib.autoseg.ts_engine import check, segment_totalsegmentator

    monkeypatch.delenv("FAKE_TS_MODE", raising=False)
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(tmp_path / "ts"))
    monkeypatch.delenv("TOTALSEG_WEIGHTS_PATH", raising=False)
    request = TSRequest(("Heart", "Spleen"), {}, None, "cpu", True, TS_PYTHON)
    _, before = check(phantom_ct, request)
    assert not before.ok and before.environment is not None
    for folder in before.environment.tasks["total"].missing_folders:
        (before.environment.weights_dir / folder).mkdir(parents=True)
    result = segment_totalsegmentator(phantom_ct, request, command=FAKE)
    assert set(result.produced) == {"Heart", "Spleen"}
    assert result.provenance["version"] == "2.18.0" and result.provenance["python"] == TS_PYTHON
    assert json.loads((tmp_path / "ts" / "config.json").read_text())["send_usage_stats"] is False
    assert "TS_USAGE_STATS" in {f.code for f in result.findings}  # warned, then switched off
