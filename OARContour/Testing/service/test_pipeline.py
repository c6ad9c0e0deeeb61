"""The node's pipeline on files with a real ledger: steps recorded, progress reported, a stop resumed."""

from __future__ import annotations

from pathlib import Path

import pydicom
from OARContourLib.service.config import parse_config
from OARContourLib.service.ledger import JobState, Ledger
from OARContourLib.service.pipeline import STEPS, process_job


def _job(ledger: Ledger, ct_dir: Path, out: Path):
    series_uid = pydicom.dcmread(next(ct_dir.iterdir()), stop_before_pixels=True).SeriesInstanceUID
    job, _ = ledger.add_job(series_uid, source="test", ct_dir=str(ct_dir), out_dir=str(out))
    return job


def test_progress_covers_every_step_in_order(small_phantom, tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    seen: list[tuple[float, str]] = []
    job = process_job(ledger, _job(ledger, small_phantom.ct_dir, tmp_path / "out"),
                      parse_config({"pipeline": {"derive": ["SpinalCanal:5"]}}),
                      progress=lambda fraction, message: seen.append((fraction, message)) or False)
    assert job.state is JobState.APPROVED
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [m for _, m in seen if m in STEPS] == list(STEPS)
    recorded = [e.detail["step"] for e in ledger.events(job.id) if e.kind == "step"]
    assert recorded == list(STEPS)
    assert Path(job["rtstruct_path"]).is_file() and Path(job["rtstruct_path"] + ".verify.json").is_file()
    ledger.close()


def test_a_stop_leaves_the_job_to_resume_once(small_phantom, tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    config = parse_config({})
    stop_now = {"value": False}

    def progress(_fraction: float, message: str) -> bool:
        stop_now["value"] = stop_now["value"] or message == "names"
        return False

    job = process_job(ledger, _job(ledger, small_phantom.ct_dir, tmp_path / "out"), config,
                      stop=lambda: stop_now["value"], progress=progress)
    assert job.state is JobState.CONTOURING and job["rtstruct_path"] == ""
    job = process_job(ledger, job, config)
    assert job.state is JobState.APPROVED
    events = ledger.events(job.id)
    assert [e.state for e in events if e.kind == "state"] == ["received", "checked", "contouring", "approved"]
    assert [e.detail["state"] for e in events if e.kind == "resumed"] == ["contouring"]
    ledger.close()
