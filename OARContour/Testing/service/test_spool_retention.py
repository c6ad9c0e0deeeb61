"""Spool retention on a real ledger and file system, and in a running node: only old final jobs' spool folders go."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from OARContourLib.service.config import NodeConfig, parse_config
from OARContourLib.service.ledger import JobState, Ledger
from OARContourLib.service.retention import remove_finished
from service.conftest import oarcontour, wait_for
from testsupport.orthanc import free_port

DAY = 86400.0


def _config(tmp_path: Path, keep_days: float = 7, gateway: bool = False) -> NodeConfig:
    data: dict = {"node": {"spool": str(tmp_path / "spool"), "ledger": str(tmp_path / "ledger.sqlite"),
                           "keep_finished_days": keep_days}}
    if gateway:
        data["gateway"] = {"map": str(tmp_path / "map.sqlite")}
    return parse_config(data)


def _job(ledger: Ledger, config: NodeConfig, uid: str, state: JobState, age_days: float,
         files: tuple[str, ...] = ("ct/1.dcm", "out/RS.dcm")) -> int:
    job, _ = ledger.add_job(uid, source="dicom:TEST")
    if state is not JobState.RECEIVED:
        ledger.transition(job.id, state, [JobState.RECEIVED])
    for name in files:
        path = config.node.spool / "jobs" / str(job.id) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 100)
    _age(config.node.ledger, job.id, age_days)
    return job.id


def _age(ledger_path: Path, job_id: int, days: float) -> None:
    """The job's last state change ``days`` ago (the only way to make a finished job old in a test)."""
    with sqlite3.connect(ledger_path) as db:
        db.execute("UPDATE jobs SET state_at = ? WHERE id = ?", (time.time() - days * DAY, job_id))


def _kinds(ledger: Ledger, job_id: int) -> list[str]:
    return [e.kind for e in ledger.events(job_id)]


def test_only_old_final_jobs_leave_the_spool_and_nothing_outside_it(tmp_path: Path):
    config = _config(tmp_path)
    ledger = Ledger(config.node.ledger)
    old_sent = _job(ledger, config, "1.1", JobState.FAILED, 10)
    recent = _job(ledger, config, "1.2", JobState.REJECTED, 1)
    waiting = _job(ledger, config, "1.3", JobState.AWAITING_REVIEW, 30)
    linked = _job(ledger, config, "1.4", JobState.FAILED, 10, files=())
    outside = tmp_path / "elsewhere"
    (outside / "ct").mkdir(parents=True)
    (outside / "ct" / "keep.dcm").write_bytes(b"keep")
    (config.node.spool / "jobs" / str(linked)).symlink_to(outside, target_is_directory=True)
    files_job, _ = ledger.add_job("1.5", source=f"files:{outside / 'ct'}", ct_dir=str(outside / "ct"),
                                  out_dir=str(outside))  # a `run` job: input and output outside the spool
    ledger.transition(files_job.id, JobState.FAILED, [JobState.RECEIVED])
    _age(config.node.ledger, files_job.id, 10)
    (config.node.spool / "incoming" / "a").mkdir(parents=True)
    (config.node.spool / "incoming" / "a" / "x.dcm").write_bytes(b"x")

    removals = remove_finished(ledger, config)

    assert [r.job_id for r in removals] == [old_sent]
    assert removals[0].files == 2 and removals[0].bytes == 200 and removals[0].ended_days_ago > 9.9
    assert not (config.node.spool / "jobs" / str(old_sent)).exists()
    for kept in (recent, waiting):
        assert (config.node.spool / "jobs" / str(kept) / "ct" / "1.dcm").is_file()
    assert (outside / "ct" / "keep.dcm").read_bytes() == b"keep"
    assert (config.node.spool / "jobs" / str(linked)).is_symlink()
    assert (config.node.spool / "incoming" / "a" / "x.dcm").is_file()
    event = ledger.events(old_sent)[-1]
    assert event.kind == "spool_removed" and event.detail["files"] == 2 and event.detail["keep_finished_days"] == 7
    assert all("spool_removed" not in _kinds(ledger, j) for j in (recent, waiting, linked, files_job.id))
    assert ledger.job(old_sent).state is JobState.FAILED  # the ledger keeps the job and its history

    assert remove_finished(ledger, config) == []  # nothing twice
    assert _kinds(ledger, old_sent).count("spool_removed") == 1
    ledger.close()


def test_zero_keeps_everything(tmp_path: Path):
    config = _config(tmp_path, keep_days=0)
    ledger = Ledger(config.node.ledger)
    job = _job(ledger, config, "2.1", JobState.SENT, 3000)
    assert remove_finished(ledger, config) == []
    assert (config.node.spool / "jobs" / str(job) / "out" / "RS.dcm").is_file()
    ledger.close()


def test_gateway_keeps_an_original_ct_while_its_returned_set_is_open(tmp_path: Path):
    config = _config(tmp_path, keep_days=2, gateway=True)
    ledger = Ledger(config.node.ledger)
    files = ("ct/1.dcm", "out/deid/1.dcm")
    original = _job(ledger, config, "3.1", JobState.SENT, 5, files)
    unreturned = _job(ledger, config, "3.2", JobState.SENT, 5, files)
    returned = _job(ledger, config, "3.3", JobState.AWAITING_REVIEW, 0, ("ct/RS.dcm", "out/RS_re.dcm"))
    ledger.record(returned, "step", step="reidentify", seconds=1.0, original_job=original)

    assert [r.job_id for r in remove_finished(ledger, config)] == [unreturned]
    assert (config.node.spool / "jobs" / str(original) / "out" / "deid" / "1.dcm").is_file()

    ledger.transition(returned, JobState.REJECTED, [JobState.AWAITING_REVIEW])
    assert [r.job_id for r in remove_finished(ledger, config)] == [original]  # the returned one ended just now
    assert (config.node.spool / "jobs" / str(returned)).is_dir()
    ledger.close()


def test_running_node_removes_old_finished_folders_at_start(node_factory):
    node = node_factory(destination_port=free_port())
    config = parse_config({"node": {"spool": str(node.spool), "ledger": str(node.ledger_path)}})
    ledger = Ledger(node.ledger_path)
    old = _job(ledger, config, "4.1", JobState.SENT, 8)  # the default keeps finished jobs 7 days
    held = _job(ledger, config, "4.2", JobState.AWAITING_REVIEW, 8)
    ledger.close()

    node.start()
    wait_for(lambda: not (node.spool / "jobs" / str(old)).exists(), 30, "the node's retention sweep")
    shown = oarcontour("jobs", "show", str(old), "--config", str(node.config))
    assert shown.returncode == 0 and "spool_removed" in shown.stdout and "files=2" in shown.stdout
    assert (node.spool / "jobs" / str(held) / "ct" / "1.dcm").is_file()
    assert node.stop() == 0
