"""The ``[queue]`` section, the in-process default, lazy Celery imports and the ledger's record of worker runs."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from OARContourLib.service.config import ConfigError, parse_config
from OARContourLib.service.ledger import JobState, Ledger
from service.conftest import REPO_ROOT, _env, oarcontour, write_config

BROKER = "redis://127.0.0.1:6379/0"


def test_no_broker_means_in_process_jobs():
    from OARContourLib.service.execution import InProcessRunner, make_runner

    config = parse_config({})
    assert not config.queue.enabled
    assert isinstance(make_runner(config, lambda: False), InProcessRunner)


def test_broker_and_limits_parse():
    config = parse_config({"queue": {"broker": BROKER, "soft_time_limit_seconds": 600, "hard_time_limit_seconds": 700,
                                     "visibility_timeout_seconds": 900, "lease_seconds": 30}})
    queue = config.queue
    assert queue.enabled and queue.broker == BROKER
    assert queue.soft_time_limit_seconds < queue.hard_time_limit_seconds < queue.visibility_timeout_seconds
    assert config.to_dict()["queue"]["broker"] == BROKER


@pytest.mark.parametrize(("queue", "key"), [
    ({"broker": "amqp://127.0.0.1:5672//"}, "queue.broker"),
    ({"broker": "redis://127.0.0.1"}, "queue.broker"),
    ({"broker": "redis://127.0.0.1:6379/zero"}, "queue.broker"),
    ({"broker": 6379}, "queue.broker"),
    ({"lease_seconds": 0}, "queue.lease_seconds"),
    ({"max_runs": 0}, "queue.max_runs"),
    ({"soft_time_limit_seconds": 100, "hard_time_limit_seconds": 100}, "queue.hard_time_limit_seconds"),
    ({"hard_time_limit_seconds": 100, "soft_time_limit_seconds": 50, "visibility_timeout_seconds": 100},
     "queue.visibility_timeout_seconds"),
    ({"lease_seconds": 10, "heartbeat_seconds": 6}, "queue.heartbeat_seconds"),
    ({"brokers": BROKER}, "queue.brokers"),
])
def test_bad_queue_values_name_their_key(queue, key):
    with pytest.raises(ConfigError) as raised:
        parse_config({"queue": queue})
    assert str(raised.value).startswith(f"{key}:") or f"key {key}." in str(raised.value)


def test_bad_broker_in_file_exits_2_naming_the_key(tmp_path: Path):
    config = write_config(tmp_path / "node.toml", port=11112, destination_port=4242)
    with config.open("a") as handle:
        handle.write('\n[queue]\nbroker = "http://127.0.0.1:6379"\n')
    result = oarcontour("worker", "--config", str(config), timeout=60)
    assert result.returncode == 2 and "queue.broker" in result.stderr


def test_worker_without_broker_exits_2(tmp_path: Path):
    config = write_config(tmp_path / "node.toml", port=11112, destination_port=4242)
    result = oarcontour("worker", "--config", str(config), timeout=60)
    assert result.returncode == 2 and "queue.broker is not set" in result.stderr


def test_nothing_imports_celery_or_redis_unless_a_broker_is_set():
    code = ("import sys\n"
            "import OARContourLib.cli.main, OARContourLib.service.node, OARContourLib.service.execution\n"
            "from OARContourLib.service.config import parse_config\n"
            "from OARContourLib.service.execution import make_runner\n"
            "make_runner(parse_config({}), lambda: False)\n"
            "print(sorted(m for m in ('celery', 'redis', 'kombu') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), cwd=REPO_ROOT,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# -- leases in the ledger (real SQLite) ----------------------------------------------------------
@pytest.fixture()
def ledger(tmp_path: Path):
    opened = Ledger(tmp_path / "ledger.sqlite")
    yield opened
    opened.close()


def _queued(ledger: Ledger, ticket: str = "t1") -> int:
    job, _ = ledger.add_job("1.2.3", source="files:x")
    assert ledger.change_dispatch(job.id, "pending", [""])
    assert ledger.change_dispatch(job.id, "queued", ["pending"], queued_at=5.0, ticket=ticket)
    return job.id


def test_a_run_starts_only_for_the_queued_delivery_and_is_swept_after_its_lease(ledger):
    job_id = _queued(ledger)
    assert not ledger.start_run(job_id, "hostA:1", "old-ticket", 1, 0.3)  # a delivery the node replaced
    assert ledger.start_run(job_id, "hostA:1", "t1", 1, 0.3)
    assert ledger.renew_lease(job_id, "hostA:1", 0.3) and not ledger.renew_lease(job_id, "hostB:2", 0.3)
    assert not ledger.sweep_lease(job_id, "hostA:1")  # still live
    time.sleep(0.4)
    assert ledger.sweep_lease(job_id, "hostA:1")
    swept = ledger.job(job_id)
    assert swept["worker"] == "" and swept["dispatch"] == "pending" and swept["runs"] == 1
    assert not ledger.renew_lease(job_id, "hostA:1", 5)  # the old worker's claim is gone


def test_a_redelivery_started_again_keeps_the_run_count_of_the_broker(ledger):
    job_id = _queued(ledger)
    assert ledger.start_run(job_id, "host:111", "t1", 1, 60)
    assert ledger.start_run(job_id, "host:222", "t1", 2, 60)  # the broker counted the second start
    assert ledger.start_run(job_id, "host:222", "t1", 2, 60)  # the same report applied again: no change
    job = ledger.job(job_id)
    assert job["worker"] == "host:222" and job["runs"] == 2


def test_a_finished_job_is_never_started_again(ledger):
    job_id = _queued(ledger)
    assert ledger.transition(job_id, JobState.FAILED, [JobState.RECEIVED])
    assert not ledger.start_run(job_id, "host:1", "t1", 1, 60)


def test_an_older_ledger_gains_the_worker_columns(tmp_path: Path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, series_uid TEXT NOT NULL UNIQUE, "
               "state TEXT NOT NULL, state_at REAL NOT NULL, created_at REAL NOT NULL)")
    db.execute("INSERT INTO jobs (series_uid, state, state_at, created_at) VALUES ('9.9', 'received', 1, 1)")
    db.commit()
    db.close()
    ledger = Ledger(path)
    try:
        assert ledger.change_dispatch(1, "queued", [""], ticket="t")
        assert ledger.start_run(1, "host:1", "t", 1, 60)
        assert ledger.job(1)["dispatch"] == "running" and ledger.job(1)["report_seq"] == 0
    finally:
        ledger.close()


def test_dispatch_changes_only_from_the_expected_value(ledger):
    job_id = _queued(ledger)
    assert ledger.start_run(job_id, "host:1", "t1", 1, 60)
    assert not ledger.change_dispatch(job_id, "pending", ["queued"])  # a running job's claim is kept
    assert ledger.job(job_id)["dispatch"] == "running" and ledger.job(job_id)["queued_at"] == 5.0


def test_a_batch_keeps_all_its_changes_or_none(ledger):
    job_id = _queued(ledger)
    with pytest.raises(RuntimeError):
        with ledger.batch():
            ledger.update(job_id, engine="classical")
            ledger.record(job_id, "step", step="inspect")
            raise RuntimeError("the node died here")
    assert ledger.job(job_id)["engine"] == "" and not [e for e in ledger.events(job_id) if e.kind == "step"]
    with ledger.batch():
        ledger.update(job_id, engine="classical")
        ledger.record(job_id, "step", step="inspect")
    assert ledger.job(job_id)["engine"] == "classical" and [e for e in ledger.events(job_id) if e.kind == "step"]


def test_a_worker_refuses_a_spool_it_cannot_see(tmp_path: Path):
    from OARContourLib.service.celery_app import BrokerError, check_spool

    with pytest.raises(BrokerError, match="not on this host") as raised:
        check_spool(parse_config({"node": {"spool": "elsewhere/spool"}}, base=tmp_path))
    assert "Mount the node's spool at the same path" in raised.value.hint
    (tmp_path / "spool").mkdir()
    check_spool(parse_config({"node": {"spool": "spool"}}, base=tmp_path))


def test_a_broker_password_is_never_shown():
    from OARContourLib.service.config import shown_broker

    assert shown_broker("redis://:s3cret@10.0.0.5:6379/0") == "redis://:***@10.0.0.5:6379/0"
    assert shown_broker("rediss://svc:s3cret@broker.example:6380/2") == "rediss://svc:***@broker.example:6380/2"
    assert shown_broker("redis://10.0.0.5:6379/0") == "redis://10.0.0.5:6379/0"
    with pytest.raises(ConfigError) as raised:
        parse_config({"queue": {"broker": "redis://:s3cret@10.0.0.5/0"}})  # no port
    assert "s3cret" not in str(raised.value) and "***" in str(raised.value)


def test_each_node_has_its_own_celery_queues():
    from OARContourLib.service.celery_app import celery_queue

    first = parse_config({"node": {"ae_title": "NODE_A"}, "queue": {"broker": BROKER}})
    second = parse_config({"node": {"ae_title": "NODE_B"}, "queue": {"broker": BROKER}})
    assert celery_queue(first, "gpu") == "oarcontour.NODE_A.gpu" != celery_queue(second, "gpu")
