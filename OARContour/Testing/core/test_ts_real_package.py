"""The probe, preflight and naming table against a real TotalSegmentator installation.

Needs ``OARCONTOUR_TEST_TS_PYTHON``: an interpreter with TotalSegmentator 2.18.0 installed (its own
virtual environment; it pins vtk and torch versions that differ from ours). No weights are needed:
TotalSegmentator only checks that a weight folder exists, so the tests create empty ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from OARContourLib.autoseg.ts_memory import MODEL_SHAPES
from OARContourLib.autoseg.ts_model import LICENSED_TASKS, PINNED_VERSION, TSTaskRun
from OARContourLib.autoseg.ts_plan import plan_tasks
from OARContourLib.autoseg.ts_preflight import run_preflight
from OARContourLib.autoseg.ts_probe import probe_environment
from OARContourLib.autoseg.ts_usage_stats import disable_usage_statistics
from OARContourLib.naming.tables import load_tables

TS_PYTHON = os.environ.get("OARCONTOUR_TEST_TS_PYTHON")
pytestmark = pytest.mark.skipif(not TS_PYTHON, reason="set OARCONTOUR_TEST_TS_PYTHON to an interpreter with "
                                                      f"TotalSegmentator {PINNED_VERSION} to run these tests")
CROP_6MM = "Dataset298_TotalSegmentator_total_6mm_1559subj"
#: Masks TotalSegmentator derives and writes beside the body task's classes (not in its class map).
DERIVED_MASKS = {"body": {"body", "skin"}}
PLENTY = 10**15


@pytest.fixture()
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for the probe: no TotalSegmentator variables, HOME an empty folder."""
    monkeypatch.delenv("TOTALSEG_HOME_DIR", raising=False)
    monkeypatch.delenv("TOTALSEG_WEIGHTS_PATH", raising=False)
    return {"HOME": str(tmp_path)}


@pytest.fixture(scope="module")
def phantom_ct(small_phantom):
    from OARContourLib.ct.load import load_ct

    return load_ct(small_phantom.ct_dir)


def _table_tasks() -> list[str]:
    return list(dict.fromkeys(m.ts_task for m in load_tables().ts_map))


def _ts_json(code: str) -> Any:
    """Run ``code`` (which prints one JSON document) in the TotalSegmentator interpreter."""
    completed = subprocess.run([str(TS_PYTHON), "-I", "-c", code], capture_output=True, text=True, check=True,
                               timeout=120)
    return json.loads(completed.stdout)


def _codes(report, code: str) -> list[str]:
    return [f.message for f in report.findings if f.code == code]


def test_probe_is_quick_and_finds_the_version(empty_home: dict[str, str], tmp_path: Path) -> None:
    started = time.perf_counter()
    environment = probe_environment(TS_PYTHON, plan_tasks(["Parotid_L"]).runs, env=empty_home)
    assert time.perf_counter() - started < 10
    assert environment.version == PINNED_VERSION and environment.installed
    assert environment.home_dir == tmp_path / ".totalsegmentator"
    assert environment.weights_dir == tmp_path / ".totalsegmentator" / "nnunet" / "results"
    assert environment.config == {} and environment.usage_stats_enabled
    assert not (tmp_path / ".totalsegmentator").exists()  # the probe writes nothing


def test_weights_findings_follow_the_folders(empty_home: dict[str, str], phantom_ct) -> None:
    names = [e.tg263_name for e in load_tables().template("HN")]
    plan = plan_tasks(names, template="HN")
    environment = probe_environment(TS_PYTHON, plan.runs, env=empty_home)
    report = run_preflight(plan, environment, phantom_ct, device="cpu", available_memory=PLENTY)
    missing = _codes(report, "TS_WEIGHTS_MISSING")
    assert len(missing) == len(plan.runs) and all(any(f"'{r.task}'" in m for m in missing) for r in plan.runs)
    glands = environment.tasks["head_glands_cavities"]
    assert CROP_6MM in glands.crop_folders and CROP_6MM in glands.missing_folders
    assert "Dataset775_head_glands_cavities_492subj" in glands.missing_folders
    assert any("head_glands_cavities" in m and CROP_6MM in m and "cropping" in m for m in missing)
    for status in environment.tasks.values():
        for folder in status.missing_folders:
            (environment.weights_dir / folder).mkdir(parents=True, exist_ok=True)
    again = probe_environment(TS_PYTHON, plan.runs, env=empty_home)
    assert all(not s.missing_folders for s in again.tasks.values())
    assert _codes(run_preflight(plan, again, phantom_ct, device="cpu", available_memory=PLENTY),
                  "TS_WEIGHTS_MISSING") == []


def test_crop_models_chosen_as_totalsegmentator_does(empty_home: dict[str, str]) -> None:
    runs = [TSTaskRun("total", ("liver",), ("Liver",), fast=True), TSTaskRun("abdominal_muscles", None, ()),
            TSTaskRun("lung_vessels", None, ())]
    tasks = probe_environment(TS_PYTHON, runs, env=empty_home).tasks
    assert tasks["total"].weight_folders == ("Dataset297_TotalSegmentator_total_3mm_1559subj", CROP_6MM)
    assert tasks["abdominal_muscles"].crop_folders == ("Dataset300_body_6mm_1559subj",)  # crops to body_trunc
    assert tasks["lung_vessels"].crop_folders == ("Dataset297_TotalSegmentator_total_3mm_1559subj",)  # robust crop
    whole = probe_environment(TS_PYTHON, [TSTaskRun("total", None, ())], env=empty_home).tasks["total"]
    assert len(whole.weight_folders) == 5 and whole.crop_folders == ()  # no roi_subset: no crop pass


def test_license_and_usage_statistics(empty_home: dict[str, str], phantom_ct) -> None:
    plan = plan_tasks(["Brainstem"])
    environment = probe_environment(TS_PYTHON, plan.runs, env=empty_home)
    assert _codes(run_preflight(plan, environment, phantom_ct, available_memory=PLENTY), "TS_LICENSE_MISSING")
    assert disable_usage_statistics(environment.home_dir)
    config_path = environment.home_dir / "config.json"
    for key, accepted in (("aca_" + "X" * 13, False), ("aca_" + "X" * 14, True)):  # TS checks 18 characters
        config_path.write_text(json.dumps({**json.loads(config_path.read_text()), "license_number": key}))
        again = probe_environment(TS_PYTHON, plan.runs, env=empty_home)
        report = run_preflight(plan, again, phantom_ct, available_memory=PLENTY)
        assert bool(_codes(report, "TS_LICENSE_MISSING")) is not accepted
        assert not again.usage_stats_enabled and _codes(report, "TS_USAGE_STATS") == []


def test_licensed_tasks_match_the_package(empty_home: dict[str, str]) -> None:
    runs = [TSTaskRun(task, None, ()) for task in _table_tasks()]
    environment = probe_environment(TS_PYTHON, runs, env=empty_home)
    assert environment.unknown_tasks == ()
    assert {t for t, s in environment.tasks.items() if s.license_required} == set(LICENSED_TASKS)


def test_cuda_check_imports_torch(empty_home: dict[str, str]) -> None:
    environment = probe_environment(TS_PYTHON, check_cuda=True, env=empty_home)
    assert isinstance(environment.cuda_available, bool)


def test_naming_table_matches_class_maps(empty_home: dict[str, str]) -> None:
    tasks = _table_tasks()
    class_maps = probe_environment(TS_PYTHON, class_map_tasks=tasks, env=empty_home).class_maps
    assert set(class_maps) == set(tasks)
    table = {(m.ts_task, c) for m in load_tables().ts_map for c in m.components}
    package = {(t, c) for t, classes in class_maps.items() for c in classes.values()}
    derived = {(t, c) for t, names in DERIVED_MASKS.items() for c in names}
    assert sorted(table - package - derived) == [], "table rows whose class the package does not have"
    assert sorted(package - table) == [], "package classes without a row (add a no_equivalent row)"
    nnunet = Path(_ts_json("import importlib.util, json; "
                           "print(json.dumps(importlib.util.find_spec('totalsegmentator.nnunet').origin))"))
    source = nnunet.read_text()
    assert all(f'"{name}.nii.gz"' in source for _, name in derived), "derived masks TotalSegmentator writes"


def test_model_shapes_match_the_package() -> None:
    configs = _ts_json("import json; from totalsegmentator.map_tasks_config import TASK_CONFIGS as T; "
                       f"print(json.dumps({{t: T[t] for t in {sorted(MODEL_SHAPES)!r}}}))")
    for task, shape in MODEL_SHAPES.items():
        config = configs[task]
        modes = config.get("sub_modes", {"default": config})
        default, fast = modes["default"], modes.get("fast")
        if shape.spacing_mm_xyz is None:
            assert default.get("resample") is None, task
        else:
            assert _xyz(default.get("resample")) == pytest.approx(shape.spacing_mm_xyz, abs=1e-3), task
        ids = default["task_id"]
        assert shape.models == (len(ids) if isinstance(ids, list) else 1), task
        assert (fast is not None) == (shape.fast_spacing_mm_xyz is not None), task
        if fast is not None:
            assert _xyz(fast["resample"]) == pytest.approx(shape.fast_spacing_mm_xyz), task
        crop = config.get("crop")
        whole_ct = crop is None or "body_trunc" in crop
        assert (shape.crop_box_mm is None) == whole_ct, task


def _xyz(resample: float | list[float] | None) -> tuple[float, ...] | None:
    if resample is None:
        return None
    return tuple(resample) if isinstance(resample, list) else (resample,) * 3
