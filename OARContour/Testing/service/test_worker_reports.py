"""Leases in the broker and the workers' reports to the node, with a real ``redis-server`` and a real ledger.

A worker never opens the ledger: these tests run the worker's half (:class:`JobReporter`, the lease
scripts) and the node's half (:func:`apply_reports`) against one Redis, and check what the ledger
ends up with: each change once, only from the worker that holds the job, in order, across a broker
outage.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pydicom
import pytest
from OARContourLib.service import broker_leases
from OARContourLib.service.broker_leases import BrokerKeys, Claim
from OARContourLib.service.config import parse_config
from OARContourLib.service.ledger import JobState, Ledger
from OARContourLib.service.pipeline import STEPS, process_job
from OARContourLib.service.worker_reports import JobReporter, ReportKind, apply_reports, job_from_task, task_job
from testsupport.redis_server import RedisServer

KEYS = BrokerKeys("oarcontour:TEST:")
LEASE = 30.0


@pytest.fixture()
def redis_server(tmp_path: Path):
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture()
def client(redis_server):
    import redis

    connection = redis.Redis.from_url(redis_server.url, socket_connect_timeout=1, socket_timeout=1)
    yield connection
    connection.close()


@pytest.fixture()
def ledger(tmp_path: Path):
    opened = Ledger(tmp_path / "ledger.sqlite")
    yield opened
    opened.close()


def _queue(ledger: Ledger, client, series: str = "1.2.3", ticket: str = "t1", **values) -> int:
    """What the node does when it queues a job: ledger first, then the broker's delivery record."""
    job, _ = ledger.add_job(series, source="test", **values)
    assert ledger.change_dispatch(job.id, "queued", [""], queued_at=1.0, ticket=ticket)
    broker_leases.offer(client, KEYS, job.id, ticket, 0)
    return job.id


def _reporter(ledger: Ledger, client, job_id: int, ticket: str = "t1", owner: str = "hostB:7") -> JobReporter:
    """The worker's side: built from the task's fields only, as on another host."""
    return JobReporter(client, KEYS, job_from_task(task_job(ledger.job(job_id))), ticket, owner)


def _start(reporter: JobReporter, client) -> int:
    claim, run = broker_leases.take(client, KEYS, reporter.current.id, reporter.ticket, reporter.owner, LEASE, 3)
    assert claim is Claim.TAKEN
    reporter.send(ReportKind.STARTED, run=int(run), detail={"run": int(run)})
    return int(run)


# -- the lease scripts ------------------------------------------------------------------------------
def test_one_delivery_takes_the_job_and_a_replaced_one_never_starts(ledger, client):
    job_id = _queue(ledger, client)
    assert broker_leases.take(client, KEYS, job_id, "t0", "hostA:1", LEASE, 3) == (Claim.STALE, "")
    assert broker_leases.take(client, KEYS, job_id, "t1", "hostA:1", LEASE, 3) == (Claim.TAKEN, "1")
    assert broker_leases.take(client, KEYS, job_id, "t1", "hostB:2", LEASE, 3) == (Claim.HELD, "hostA:1")
    assert broker_leases.holders(client, KEYS, [job_id]) == {job_id: "hostA:1"}
    assert broker_leases.renew(client, KEYS, job_id, "t1", "hostA:1", LEASE, 1)
    assert not broker_leases.renew(client, KEYS, job_id, "t1", "hostB:2", LEASE, 1)
    broker_leases.offer(client, KEYS, job_id, "t2", 1)  # the node swept the job and queued it again
    assert not broker_leases.renew(client, KEYS, job_id, "t1", "hostA:1", LEASE, 1)  # the old run learns it


def test_a_dead_holder_is_taken_over_and_runs_stop_at_max_runs(ledger, client):
    job_id = _queue(ledger, client)
    assert broker_leases.take(client, KEYS, job_id, "t1", "host:111", LEASE, 3) == (Claim.TAKEN, "1")
    assert broker_leases.take(client, KEYS, job_id, "t1", "host:222", LEASE, 3, dead="host:111") == (Claim.TAKEN, "2")
    assert broker_leases.take(client, KEYS, job_id, "t1", "host:333", LEASE, 3, dead="host:222") == (Claim.TAKEN, "3")
    assert broker_leases.take(client, KEYS, job_id, "t1", "host:444", LEASE, 3, dead="host:333") == (Claim.EXHAUSTED,
                                                                                                      "3")
    assert broker_leases.holder(client, KEYS, job_id) == "host:333"  # the exhausted delivery took nothing


def test_a_lease_expires_without_heartbeat(ledger, client):
    import time

    job_id = _queue(ledger, client)
    assert broker_leases.take(client, KEYS, job_id, "t1", "hostA:1", 0.3, 3)[0] is Claim.TAKEN
    time.sleep(0.5)
    assert broker_leases.holder(client, KEYS, job_id) == ""  # what the node's sweep looks for


def test_a_finished_job_turns_every_late_delivery_stale(ledger, client):
    job_id = _queue(ledger, client)
    assert broker_leases.take(client, KEYS, job_id, "t1", "hostA:1", LEASE, 3)[0] is Claim.TAKEN
    broker_leases.release(client, KEYS, job_id, "hostA:1", finished=True)
    assert broker_leases.take(client, KEYS, job_id, "t1", "hostB:2", LEASE, 3) == (Claim.STALE, "")


def test_a_broker_restarted_without_its_data_gets_the_lease_back_from_the_worker(ledger, client):
    job_id = _queue(ledger, client)
    assert broker_leases.take(client, KEYS, job_id, "t1", "hostA:1", LEASE, 3)[0] is Claim.TAKEN
    client.flushall()
    assert broker_leases.renew(client, KEYS, job_id, "t1", "hostA:1", LEASE, 1)
    assert broker_leases.holder(client, KEYS, job_id) == "hostA:1"
    assert client.hget(KEYS.job(job_id), "ticket") == b"t1"


# -- reports --------------------------------------------------------------------------------------
def test_reports_reach_the_ledger_once_and_in_order(ledger, client):
    job_id = _queue(ledger, client)
    reporter = _reporter(ledger, client, job_id)
    assert "patient_id" not in reporter.current.row  # the task carries no patient data
    run = _start(reporter, client)
    assert reporter.transition(job_id, JobState.CHECKED, [JobState.RECEIVED])
    assert not reporter.transition(job_id, JobState.CHECKED, [JobState.RECEIVED])  # already checked
    reporter.update(job_id, study_uid="1.2.9", engine_version="2.0")
    reporter.record(job_id, "step", step="inspect", seconds=0.5)
    entries = client.xrange(KEYS.reports)
    applied = apply_reports(ledger, client, KEYS, LEASE)
    assert applied == [] and client.xlen(KEYS.reports) == 0  # applied, then deleted from the stream
    for _entry, fields in entries:  # the same reports again (a node that died before deleting them)
        client.xadd(KEYS.reports, fields)
    apply_reports(ledger, client, KEYS, LEASE)
    job = ledger.job(job_id)
    assert job.state is JobState.CHECKED and job["worker"] == "hostB:7" and job["runs"] == run == 1
    assert job["study_uid"] == "1.2.9" and job["engine_version"] == "2.0" and job["dispatch"] == "running"
    kinds = [(e.kind, e.state) for e in ledger.events(job_id)]
    assert kinds == [("state", "received"), ("started", None), ("state", "checked"), ("step", None)]


def test_a_worker_may_not_set_the_destination_or_leave_the_pipeline_states(ledger, client):
    job_id = _queue(ledger, client)
    reporter = _reporter(ledger, client, job_id)
    _start(reporter, client)
    reporter.send(ReportKind.UPDATE, values={"destination": "EVIL@10.0.0.1:104", "engine": "classical"})
    reporter.send(ReportKind.TRANSITION, to="sent", from_states=["received"], values={}, detail={})
    apply_reports(ledger, client, KEYS, LEASE)
    job = ledger.job(job_id)
    assert job["destination"] == "" and job["engine"] == "classical" and job.state is JobState.RECEIVED


def test_reports_of_a_swept_run_are_void(ledger, client):
    job_id = _queue(ledger, client)
    old = _reporter(ledger, client, job_id, owner="hostA:1")
    _start(old, client)
    apply_reports(ledger, client, KEYS, LEASE)
    ledger.update(job_id, lease_until=0.0)
    assert ledger.sweep_lease(job_id, "hostA:1")  # what the node does when the lease is gone
    assert ledger.change_dispatch(job_id, "queued", ["pending"], ticket="t2")
    broker_leases.offer(client, KEYS, job_id, "t2", 1)
    old.transition(job_id, JobState.CHECKED, [JobState.RECEIVED])  # the old run goes on for a while
    old.record(job_id, "step", step="inspect")
    new = _reporter(ledger, client, job_id, ticket="t2", owner="hostB:2")
    claim, run = broker_leases.take(client, KEYS, job_id, "t2", "hostB:2", LEASE, 3)
    assert (claim, run) == (Claim.TAKEN, "2")
    new.send(ReportKind.STARTED, run=2, detail={})
    apply_reports(ledger, client, KEYS, LEASE)
    job = ledger.job(job_id)
    assert job.state is JobState.RECEIVED and job["worker"] == "hostB:2" and job["runs"] == 2
    assert not [e for e in ledger.events(job_id) if e.kind == "step"]


def test_an_exhausted_job_fails_with_the_reason(ledger, client):
    job_id = _queue(ledger, client)
    reporter = _reporter(ledger, client, job_id)
    reporter.send(ReportKind.EXHAUSTED, runs=3)
    (ended,) = apply_reports(ledger, client, KEYS, LEASE)
    assert ended.finished and ended.job_id == job_id
    job = ledger.job(job_id)
    assert job.state is JobState.FAILED and "started 3 times" in job["reason"] and job["dispatch"] == ""


def test_reports_wait_out_a_broker_outage_in_order(tmp_path: Path, ledger):
    import redis

    server = RedisServer(tmp_path / "persistent", persistent=True).start()
    client = redis.Redis.from_url(server.url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        job_id = _queue(ledger, client)
        reporter = _reporter(ledger, client, job_id)
        _start(reporter, client)
        server.stop(signal.SIGKILL)
        reporter.record(job_id, "step", step="inspect")
        assert reporter.transition(job_id, JobState.CHECKED, [JobState.RECEIVED])
        assert len(reporter.unsent) == 2 and not reporter.flush()
        server.start()
        assert reporter.flush() and not reporter.unsent
        apply_reports(ledger, client, KEYS, LEASE)
        events = [(e.kind, e.state) for e in ledger.events(job_id)]
        assert events[-3:] == [("started", None), ("step", None), ("state", "checked")]
    finally:
        client.close()
        server.stop()


def test_the_pipeline_runs_on_a_worker_through_reports_alone(small_phantom, ledger, client, tmp_path: Path):
    series = str(pydicom.dcmread(next(small_phantom.ct_dir.iterdir()), stop_before_pixels=True).SeriesInstanceUID)
    job_id = _queue(ledger, client, series, ct_dir=str(small_phantom.ct_dir), out_dir=str(tmp_path / "out"),
                    patient_id="PAT-1")
    reporter = _reporter(ledger, client, job_id)
    _start(reporter, client)
    local = process_job(reporter, reporter.current, parse_config({}))
    reporter.send(ReportKind.END, unfinished=False)
    (ended,) = apply_reports(ledger, client, KEYS, LEASE)
    assert ended.finished and ended.owner == "hostB:7"
    job = ledger.job(job_id)
    assert job.state is local.state is JobState.APPROVED
    assert job["dispatch"] == "" and job["worker"] == "" and Path(job["rtstruct_path"]).is_file()
    assert job["rtstruct_sop_uid"] and job.verification == json.loads(json.dumps(local.verification))
    steps = [e.detail["step"] for e in ledger.events(job_id) if e.kind == "step"]
    assert steps == [s for s in STEPS if s != "derive"]
    assert [e.state for e in ledger.events(job_id) if e.kind == "state"] == ["received", "checked", "contouring",
                                                                             "approved"]
