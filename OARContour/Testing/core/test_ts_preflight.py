"""TotalSegmentator preflight findings, memory estimate, probe plumbing and the usage-statistics switch.

Installations are described with our own TSEnvironment records (the real package is tested in
test_ts_real_package.py); the CT is the small thorax phantom.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
from OARContourLib.autoseg.ts_memory import available_memory_bytes, estimate_memory_bytes
from OARContourLib.autoseg.ts_model import PINNED_VERSION, TSEnvironment, TSPlan, TSTaskRun, TSTaskStatus
from OARContourLib.autoseg.ts_plan import plan_tasks
from OARContourLib.autoseg.ts_preflight import run_preflight
from OARContourLib.autoseg.ts_probe import PYTHON_VARIABLE, default_python, probe_environment
from OARContourLib.autoseg.ts_usage_stats import disable_usage_statistics
from OARContourLib.errors import InputError
from OARContourLib.findings import Severity

CROP_FOLDER = "Dataset298_TotalSegmentator_total_6mm_1559subj"
PLENTY = 10**15
HN_RUNS = (TSTaskRun("total", ("spinal_cord",), ("SpinalCord",)),
           TSTaskRun("head_glands_cavities", None, ("Parotid_L", "Parotid_R")),
           TSTaskRun("brain_structures", None, ("Brainstem",)))


@pytest.fixture(scope="module")
def phantom_ct(small_phantom):
    from OARContourLib.ct.load import load_ct

    return load_ct(small_phantom.ct_dir)


def _status(task: str, missing: tuple[str, ...] = (), licensed: bool = False, license_ok: bool = False,
            fast_allowed: bool = True) -> TSTaskStatus:
    own = f"Dataset_{task}"
    return TSTaskStatus(task, (own, CROP_FOLDER), missing, licensed, license_ok, fast_allowed, (CROP_FOLDER,))


def _environment(runs=HN_RUNS, version: str | None = PINNED_VERSION, config=None, cuda=None,
                 **statuses) -> TSEnvironment:
    tasks = {r.task: statuses.get(r.task, _status(r.task, licensed=r.task == "brain_structures", license_ok=True))
             for r in runs} if version else {}
    return TSEnvironment("/opt/ts/bin/python", version, Path("/home/u/.totalsegmentator"),
                         Path("/home/u/.totalsegmentator/nnunet/results"),
                         {"send_usage_stats": False} if config is None else config, tasks, cuda)


def _codes(report) -> list[str]:
    return [f.code for f in report.findings]


def _preflight(ct, environment, runs=HN_RUNS, **kwargs):
    kwargs.setdefault("available_memory", PLENTY)
    return run_preflight(TSPlan(tuple(runs)), environment, ct, **kwargs)


def test_ready_installation_has_no_findings(phantom_ct) -> None:
    report = _preflight(phantom_ct, _environment(), device="cpu")
    assert report.findings == () and report.ok and report.device == "cpu"
    assert report.memory_needed_bytes > 0 and report.memory_available_bytes == PLENTY
    report.raise_for_errors()
    assert json.loads(json.dumps(report.to_dict()))["version"] == PINNED_VERSION


def test_not_installed(phantom_ct) -> None:
    report = _preflight(phantom_ct, _environment(version=None))
    assert _codes(report) == ["TS_NOT_INSTALLED"] and not report.ok
    hint = report.findings[0].hint
    assert 'pip install "oarcontour[totalsegmentator]"' in hint and "OARCONTOUR_TS_PYTHON" in hint
    assert "--engine classical" in hint and "--import-ts" in hint
    with pytest.raises(InputError, match="not installed in /opt/ts/bin/python"):
        report.raise_for_errors()


@pytest.mark.parametrize(("version", "severity"), [("2.18.3", None), ("2.17.1", Severity.WARNING),
                                                   ("3.0.0", Severity.WARNING), ("1.5.7", Severity.ERROR),
                                                   ("unknown", Severity.WARNING)])
def test_version(phantom_ct, version: str, severity: Severity | None) -> None:
    findings = [f for f in _preflight(phantom_ct, _environment(version=version)).findings if f.code == "TS_VERSION"]
    assert [f.severity for f in findings] == ([severity] if severity else [])
    assert all(PINNED_VERSION in f.message or PINNED_VERSION in f.hint for f in findings)


def test_weights_missing_per_task_names_crop_model(phantom_ct) -> None:
    environment = _environment(head_glands_cavities=_status("head_glands_cavities",
                                                            ("Dataset_head_glands_cavities", CROP_FOLDER)),
                               total=_status("total", (CROP_FOLDER,)))
    report = _preflight(phantom_ct, environment)
    weights = [f for f in report.findings if f.code == "TS_WEIGHTS_MISSING"]
    assert len(weights) == 2 and all(f.severity is Severity.ERROR for f in weights)
    glands = next(f for f in weights if "'head_glands_cavities'" in f.message)
    assert "Dataset_head_glands_cavities" in glands.message and CROP_FOLDER in glands.message
    assert "cropping" in glands.message and str(environment.weights_dir) in glands.message
    assert "Parotid_L" in glands.message
    assert "`totalseg_download_weights -t head_glands_cavities` and `totalseg_download_weights -t total_fast`" \
        in glands.hint
    assert str(environment.weights_dir) in glands.hint and "TOTALSEG_WEIGHTS_PATH" in glands.hint
    total = next(f for f in weights if "'total'" in f.message)
    assert "its own model" not in total.message and "`totalseg_download_weights -t total_fast`" in total.hint
    with pytest.raises(InputError, match="head_glands_cavities"):
        report.raise_for_errors()


def test_download_hint_names_each_command_once(phantom_ct) -> None:
    own_and_crop = ("Dataset_total", CROP_FOLDER)
    for fast, commands in ((False, ["total"]), (True, ["total_fast"])):
        runs = (TSTaskRun("total", ("liver",), ("Liver",), fast),)
        environment = _environment(runs, total=_status("total", own_and_crop))
        hint = _preflight(phantom_ct, environment, runs).findings[0].hint
        assert re.findall(r"totalseg_download_weights -t (\w+)", hint) == commands  # -t total brings the crop model


def test_license(phantom_ct) -> None:
    missing = _status("brain_structures", licensed=True, license_ok=False)
    report = _preflight(phantom_ct, _environment(brain_structures=missing))
    assert _codes(report) == ["TS_LICENSE_MISSING"]
    finding = report.findings[0]
    assert "Brainstem" in finding.message and "totalseg_set_license -l" in finding.hint
    assert "license-academic" in finding.hint
    assert _codes(_preflight(phantom_ct, _environment())) == []


def test_fast_not_allowed_is_a_warning(phantom_ct) -> None:
    plan = plan_tasks(["SpinalCord", "Parotid_L"], fast=True)
    statuses = {"head_glands_cavities": _status("head_glands_cavities", fast_allowed=False)}
    report = _preflight(phantom_ct, _environment(plan.runs, **statuses), plan.runs)
    assert _codes(report) == ["TS_FAST_NOT_ALLOWED"] and report.ok
    assert "head_glands_cavities" in report.findings[0].message
    slow = plan_tasks(["SpinalCord", "Parotid_L"]).runs
    assert _codes(_preflight(phantom_ct, _environment(slow, **statuses), slow)) == []


@pytest.mark.parametrize(("device", "cuda", "resolved", "codes"), [
    ("gpu", False, "gpu", ["TS_DEVICE"]), ("gpu", True, "gpu", []), ("gpu:1", False, "gpu", ["TS_DEVICE"]),
    ("auto", True, "gpu", []), ("auto", False, "cpu", []), ("auto", None, "cpu", []), ("cpu", False, "cpu", [])])
def test_device(phantom_ct, device: str, cuda: bool | None, resolved: str, codes: list[str]) -> None:
    report = _preflight(phantom_ct, _environment(cuda=cuda), device=device)
    assert report.device == resolved and _codes(report) == codes


def test_unknown_device(phantom_ct) -> None:
    with pytest.raises(InputError, match="Unknown device 'tpu'"):
        _preflight(phantom_ct, _environment(), device="tpu")


def test_memory(phantom_ct) -> None:
    needed = _preflight(phantom_ct, _environment()).memory_needed_bytes
    short = _preflight(phantom_ct, _environment(), available_memory=needed - 1)
    assert _codes(short) == ["TS_MEMORY"]
    message = short.findings[0].message
    assert f"{needed / 1e9:.1f} GB" in message and f"{(needed - 1) / 1e9:.1f} GB" in message
    assert "--fast" in short.findings[0].hint
    largest = max(HN_RUNS, key=lambda run: estimate_memory_bytes(phantom_ct.geometry.shape,
                                                                 phantom_ct.geometry.spacing_mm[::-1], [run], False))
    assert f"task '{largest.task}'" in message
    assert _codes(_preflight(phantom_ct, _environment(), available_memory=needed)) == []


def test_usage_stats_warning(phantom_ct) -> None:
    for config in ({}, {"send_usage_stats": True}):
        report = _preflight(phantom_ct, _environment(config=config))
        assert _codes(report) == ["TS_USAGE_STATS"] and report.ok
        assert "switched off before the run" in report.findings[0].message


def test_unknown_task_and_broken_config(phantom_ct) -> None:
    runs = HN_RUNS + (TSTaskRun("future_task", None, ("Lips",)),)
    environment = _environment()
    broken = TSEnvironment(environment.python, "2.18.0", environment.home_dir, environment.weights_dir, {},
                           environment.tasks, unknown_tasks=("future_task",), config_error="config.json: bad")
    report = _preflight(phantom_ct, broken, runs)
    assert sorted(_codes(report)) == ["TS_CONFIG_INVALID", "TS_TASK_UNKNOWN"]
    assert "does not know task 'future_task'" in report.findings[-1].message


def test_memory_estimate_is_monotonic_and_plausible() -> None:
    total = [TSTaskRun("total", None, ("Liver",))]
    spacing = (2.5, 0.98, 0.98)
    sizes = [estimate_memory_bytes((slices, 512, 512), spacing, total, False) for slices in (50, 150, 300, 600)]
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes)
    full, fast = sizes[2], estimate_memory_bytes((300, 512, 512), spacing, total, True)
    assert fast < full
    assert 6e9 < full < 14e9  # TotalSegmentator reports 7.4-11.8 GB for full-resolution total
    same_extent_thinner_slices = estimate_memory_bytes((600, 512, 512), (1.25, 0.98, 0.98), total, False)
    assert same_extent_thinner_slices > full
    glands = [TSTaskRun("head_glands_cavities", None, ("Parotid_L",))]
    small_head, big_body = (estimate_memory_bytes(shape, spacing, glands, False)
                            for shape in ((40, 256, 256), (600, 512, 512)))
    assert small_head <= big_body < 20e9  # the crop box keeps the 0.75 mm grid bounded
    assert estimate_memory_bytes((300, 512, 512), spacing, [], False) == 0
    assert estimate_memory_bytes((300, 512, 512), spacing, total + glands, False) == max(
        estimate_memory_bytes((300, 512, 512), spacing, runs, False) for runs in (total, glands))


def test_available_memory() -> None:
    available = available_memory_bytes()
    assert available is None or 0 < available < 2**50


def test_default_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PYTHON_VARIABLE, raising=False)
    assert default_python() == sys.executable
    monkeypatch.setenv(PYTHON_VARIABLE, "/opt/ts/bin/python")
    assert default_python() == "/opt/ts/bin/python"


@pytest.mark.skipif(importlib.util.find_spec("totalsegmentator") is not None,
                    reason="the test interpreter has TotalSegmentator; this test needs one without it")
def test_probe_without_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOTALSEG_WEIGHTS_PATH", raising=False)
    (tmp_path / "config.json").write_text('{"send_usage_stats": false, "license_number": "x"}')
    environment = probe_environment(sys.executable, HN_RUNS, env={"TOTALSEG_HOME_DIR": str(tmp_path)})
    assert not environment.installed and environment.tasks == {}
    assert environment.home_dir == tmp_path and environment.weights_dir == tmp_path / "nnunet" / "results"
    assert environment.config == {"send_usage_stats": False, "license_number": "x"}
    assert not environment.usage_stats_enabled and environment.config_error is None
    weights = tmp_path / "weights"
    assert probe_environment(sys.executable, env={"TOTALSEG_HOME_DIR": str(tmp_path),
                                                  "TOTALSEG_WEIGHTS_PATH": str(weights)}).weights_dir == weights


def test_probe_home_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOTALSEG_HOME_DIR", raising=False)
    monkeypatch.delenv("TOTALSEG_WEIGHTS_PATH", raising=False)
    assert probe_environment(sys.executable, env={"HOME": str(tmp_path)}).home_dir == tmp_path / ".totalsegmentator"
    # TotalSegmentator maps a home of "/" (docker) to /tmp.
    assert probe_environment(sys.executable, env={"HOME": "/"}).home_dir == Path("/tmp/.totalsegmentator")
    (tmp_path / ".totalsegmentator").mkdir()
    (tmp_path / ".totalsegmentator" / "config.json").write_text("{broken")
    broken = probe_environment(sys.executable, env={"HOME": str(tmp_path)})
    assert broken.config == {} and "config.json" in (broken.config_error or "")


def test_probe_errors(tmp_path: Path) -> None:
    missing = tmp_path / "no-python"
    with pytest.raises(InputError, match=f"Cannot start the TotalSegmentator Python '{missing}'") as error:
        probe_environment(str(missing))
    assert "OARCONTOUR_TS_PYTHON" in error.value.hint and "--ts-python" in error.value.hint
    with pytest.raises(InputError, match="failed \\(exit code 1\\)"):
        probe_environment("/bin/false")
    with pytest.raises(InputError, match="did not answer within"):
        probe_environment(sys.executable, timeout_s=0.001)


def test_disable_usage_statistics_creates_config(tmp_path: Path) -> None:
    home = tmp_path / "home" / ".totalsegmentator"
    assert disable_usage_statistics(home) is True
    config = json.loads((home / "config.json").read_text())
    assert config["send_usage_stats"] is False and config["prediction_counter"] == 0
    assert re.fullmatch(r"totalseg_[A-Z0-9]{8}", config["totalseg_id"])
    assert disable_usage_statistics(home) is False
    assert json.loads((home / "config.json").read_text()) == config
    assert [p.name for p in home.iterdir()] == ["config.json"]  # no temporary files left


def test_disable_usage_statistics_patches_and_keeps_keys(tmp_path: Path) -> None:
    original = {"totalseg_id": "totalseg_ABCD1234", "send_usage_stats": True, "prediction_counter": 7,
                "license_number": "aca_ABCDEFGHIJKLMN", "statistics_disclaimer_shown": True}
    (tmp_path / "config.json").write_text(json.dumps(original))
    assert disable_usage_statistics(tmp_path) is True
    assert json.loads((tmp_path / "config.json").read_text()) == {**original, "send_usage_stats": False}
    assert disable_usage_statistics(tmp_path) is False


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_disable_usage_statistics_refuses_invalid_config(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(text)
    before = path.stat().st_mtime_ns
    with pytest.raises(InputError, match=re.escape(str(path))) as error:
        disable_usage_statistics(tmp_path)
    assert "delete" in error.value.hint
    assert path.read_text() == text and path.stat().st_mtime_ns == before
