"""The ``[queue]`` section, the in-process default, lazy Celery imports and the ledger's worker leases."""

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


def test_a_lease_is_exclusive_until_it_expires(ledger):
    job, _ = ledger.add_job("1.2.3", source="files:x")
    assert ledger.take_lease(job.id, "hostA:1", 0.3)
    assert not ledger.take_lease(job.id, "hostB:2", 0.3)
    assert ledger.renew_lease(job.id, "hostA:1", 0.3) and not ledger.renew_lease(job.id, "hostB:2", 0.3)
    assert not ledger.sweep_lease(job.id, "hostA:1")  # still live
    time.sleep(0.4)
    assert ledger.sweep_lease(job.id, "hostA:1")
    swept = ledger.job(job.id)
    assert swept["worker"] == "" and swept["dispatch"] == "pending" and swept["runs"] == 1
    assert ledger.take_lease(job.id, "hostB:2", 5) and ledger.job(job.id)["runs"] == 2
    assert not ledger.renew_lease(job.id, "hostA:1", 5)  # the old worker learns it lost the job


def test_a_dead_holder_is_taken_over_at_once(ledger):
    job, _ = ledger.add_job("1.2.3", source="files:x")
    assert ledger.take_lease(job.id, "host:111", 60)
    assert not ledger.take_lease(job.id, "host:222", 60)
    assert ledger.take_lease(job.id, "host:222", 60, dead=["host:111"])
    assert ledger.job(job.id)["worker"] == "host:222"


def test_a_finished_job_is_never_leased_again(ledger):
    job, _ = ledger.add_job("1.2.3", source="files:x")
    assert ledger.transition(job.id, JobState.FAILED, [JobState.RECEIVED])
    assert not ledger.take_lease(job.id, "host:1", 60)


def test_an_older_ledger_gains_the_lease_columns(tmp_path: Path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, series_uid TEXT NOT NULL UNIQUE, "
               "state TEXT NOT NULL, state_at REAL NOT NULL, created_at REAL NOT NULL)")
    db.execute("INSERT INTO jobs (series_uid, state, state_at, created_at) VALUES ('9.9', 'received', 1, 1)")
    db.commit()
    db.close()
    ledger = Ledger(path)
    try:
        assert ledger.take_lease(1, "host:1", 60)
        assert ledger.job(1)["dispatch"] == "running"
    finally:
        ledger.close()


def test_dispatch_changes_only_from_the_expected_value(ledger):
    job, _ = ledger.add_job("1.2.3", source="files:x")
    assert ledger.change_dispatch(job.id, "pending", [""])
    assert ledger.change_dispatch(job.id, "queued", ["pending"], queued_at=5.0)
    assert ledger.take_lease(job.id, "host:1", 60)
    assert not ledger.change_dispatch(job.id, "pending", ["queued"])  # a running job's lease is kept
    assert ledger.job(job.id)["dispatch"] == "running" and ledger.job(job.id)["queued_at"] == 5.0


MOUNTS = """/dev/vda1 / ext4 rw 0 0
server:/export /mnt/spool nfs4 rw 0 0
server:/export/deep /mnt/spool/local ext4 rw 0 0
//nas/share /mnt/my\\040share cifs rw 0 0
"""


def test_network_filesystems_are_recognised_by_their_mount():
    from OARContourLib.service.celery_app import network_filesystem

    assert network_filesystem(Path("/mnt/spool/ledger.sqlite"), MOUNTS) == "nfs4"
    assert network_filesystem(Path("/mnt/spool/local/ledger.sqlite"), MOUNTS) is None  # the deeper mount wins
    assert network_filesystem(Path("/mnt/my share/x"), MOUNTS) == "cifs"
    assert network_filesystem(Path("/var/lib/oarcontour"), MOUNTS) is None
    assert network_filesystem(Path("/mnt/spoolish/x"), MOUNTS) is None


def test_this_machines_temp_ledger_is_local(tmp_path: Path):
    from OARContourLib.service.celery_app import check_ledger_is_local

    check_ledger_is_local(parse_config({"node": {"ledger": "ledger.sqlite"}}, base=tmp_path))
