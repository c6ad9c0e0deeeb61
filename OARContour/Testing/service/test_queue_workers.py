"""Jobs on Celery workers with a real Redis: a worker killed mid-job, the broker down at start and lost mid-run.

Real processes throughout: Debian's redis-server, `oarcontour node` and two `oarcontour worker`
processes (each a Celery main process and its pool child), CT sent over DICOM associations, and a
pynetdicom Storage SCP as the destination that counts every C-STORE it receives.

The workers stand in for other hosts: their configuration is their own file, in their own folder,
naming the node's spool (the shared mount) and a ledger path that must never come to exist, since
only the node writes the ledger.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydicom
import pytest
from service.conftest import NODE_AET, REPO_ROOT, NodeProcess, _env, oarcontour, wait_for
from testsupport.orthanc import free_port
from testsupport.redis_server import RedisServer
from testsupport.series_factory import sorted_files

pytestmark = pytest.mark.slow

DESTINATION_AET = "TPS"
#: Short lease and heartbeat so a dead worker's job is swept in about 2 s.
QUEUE_SECTION = """
[queue]
broker = "{broker}"
soft_time_limit_seconds = {soft}
hard_time_limit_seconds = {hard}
visibility_timeout_seconds = 200
lease_seconds = {lease}
heartbeat_seconds = 0.5
connect_timeout_seconds = 1
"""
PIPELINE_STATES = ("received", "checked", "contouring")


@pytest.fixture(scope="module")
def six_series(tmp_path_factory) -> list[Path]:
    """Six small thorax CTs (256×256×40), each its own series; a job takes a second or two."""
    from OARContourLib.phantom import write_phantom

    root = tmp_path_factory.mktemp("six")
    return [write_phantom(root / f"ct{seed}", seed=seed, rows=256, columns=256, slices=40, pixel_spacing_mm=2.0,
                          slice_spacing_mm=7.0).ct_dir for seed in range(6)]


@dataclass
class Destination:
    """A Storage SCP for RTSTRUCT that records every C-STORE (a duplicate send shows up twice)."""

    port: int = field(default_factory=free_port)
    received: list[tuple[str, str]] = field(default_factory=list)
    server: Any = None

    def start(self) -> Destination:
        from pynetdicom import AE, evt
        from pynetdicom.sop_class import RTStructureSetStorage  # type: ignore[attr-defined]

        ae = AE(ae_title=DESTINATION_AET)
        ae.add_supported_context(RTStructureSetStorage)
        lock = threading.Lock()

        def on_store(event: Any) -> int:
            ds = event.dataset
            series = ds.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0] \
                .RTReferencedSeriesSequence[0].SeriesInstanceUID
            with lock:
                self.received.append((str(ds.SOPInstanceUID), str(series)))
            return 0x0000

        self.server = ae.start_server(("127.0.0.1", self.port), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)])
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()


@dataclass
class Worker:
    """``oarcontour worker`` in its own process group (main process and pool child die together)."""

    config: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None
    options: tuple[str, ...] = ("--queue", "cpu")

    def start(self) -> Worker:
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen([sys.executable, "-m", "OARContourLib.cli.main", "worker", "--config",
                                             str(self.config), *self.options], stdout=handle, stderr=handle,
                                            env=_env(), cwd=REPO_ROOT, start_new_session=True)
        wait_for(lambda: self._alive() and " ready." in self.log.read_text(), 60, "the worker to be ready")
        return self

    def _alive(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited {self.process.returncode}: {self.log.read_text()[-3000:]}")
        return True

    def owns(self, owner: str) -> bool:
        """Whether the ledger's lease owner ``host:pid`` is this worker's pool child (or itself)."""
        assert self.process is not None
        pid = int(owner.rpartition(":")[2])
        if pid == self.process.pid:
            return True
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        return int(stat.rpartition(")")[2].split()[1]) == self.process.pid

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # warm shutdown: finish the current job
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


@pytest.fixture()
def cluster(tmp_path: Path, node_factory) -> Iterator[Callable[..., Any]]:
    """Builds a destination, a Redis, a node with ``[queue]`` and workers; stops all of them."""
    started: list[Any] = []

    def make(workers: int, persistent: bool = False, lease: float = 2.0, soft: float = 120,
             hard: float = 150) -> tuple[Destination, RedisServer, NodeProcess, list[Worker]]:
        destination = Destination().start()
        started.append(destination)
        redis = RedisServer(tmp_path / "redis", persistent=persistent).start()
        started.append(redis)
        node = node_factory(destination_port=destination.port, destination_aet=DESTINATION_AET, quiet_seconds=0.5)
        with node.config.open("a", encoding="utf-8") as handle:
            handle.write(QUEUE_SECTION.format(broker=redis.url, lease=lease, soft=soft, hard=hard))
        node.spool.mkdir(parents=True, exist_ok=True)  # the shared mount exists before any worker starts
        worker_config = _worker_host_config(node)
        pool = [Worker(worker_config, worker_config.parent / f"worker{i}.log") for i in range(workers)]
        started.extend(pool)
        for worker in pool:
            worker.start()
        node.start()
        return destination, redis, node, pool

    yield make
    for thing in reversed(started):
        thing.stop()


def _worker_host_config(node: NodeProcess, host: str = "worker-host", ae_title: str = NODE_AET) -> Path:
    """The node's configuration as a worker host has it: the spool at the same path, its own ledger path."""
    folder = node.config.parent / host
    folder.mkdir(exist_ok=True)
    text = node.config.read_text(encoding="utf-8").replace('spool = "spool"', f'spool = "{node.spool}"')
    text = text.replace(f'ae_title = "{NODE_AET}"', f'ae_title = "{ae_title}"', 1)
    assert 'ledger = "ledger.sqlite"' in text and str(node.spool) in text
    config = folder / "node.toml"
    config.write_text(text, encoding="utf-8")
    return config


def _no_ledger_on_worker_hosts(workers: list[Worker]) -> None:
    for worker in workers:
        assert not list(worker.config.parent.glob("ledger.sqlite*")), "a worker opened a ledger"


def _send_series(port: int, folder: Path) -> None:
    from pynetdicom import AE

    ae = AE(ae_title="TESTSCU")
    ae.add_requested_context("1.2.840.10008.5.1.4.1.1.2", ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])
    assoc = ae.associate("127.0.0.1", port, ae_title=NODE_AET)
    assert assoc.is_established
    statuses = [int(assoc.send_c_store(path).Status) for path in sorted_files(folder)]
    assoc.release()
    assert set(statuses) == {0}


def _series_uid(folder: Path) -> str:
    return str(pydicom.dcmread(sorted_files(folder)[0], stop_before_pixels=True).SeriesInstanceUID)


def _events(node: NodeProcess, job_id: int) -> list[Any]:
    from OARContourLib.service.ledger import Ledger

    ledger = Ledger(node.ledger_path)
    try:
        return ledger.events(job_id)
    finally:
        ledger.close()


def _running(node: NodeProcess) -> dict[str, Any] | None:
    return next((job for job in node.jobs() if job["dispatch"] == "running" and job["state"] in PIPELINE_STATES), None)


def _all_sent(node: NodeProcess, count: int) -> bool:
    jobs = node.jobs()
    return len(jobs) == count and all(job["state"] == "sent" for job in jobs)


def test_killed_worker_job_reruns_and_every_rtstruct_arrives_once(six_series, cluster):
    destination, _redis, node, workers = cluster(workers=2)
    sender = threading.Thread(target=lambda: [_send_series(node.port, folder) for folder in six_series])
    sender.start()
    job = wait_for(lambda: _running(node), 60, "a job running on a worker")
    (victim,) = [w for w in workers if w.owns(job["worker"])]
    victim.kill()
    killed = next(j for j in node.jobs() if j["id"] == job["id"])
    assert killed["state"] in PIPELINE_STATES and killed["worker"] == job["worker"], "the kill came after the job"

    sender.join()
    wait_for(lambda: _all_sent(node, 6), 120, "all six jobs to be sent")
    sop_uids = [sop for sop, _ in destination.received]
    assert len(sop_uids) == 6 and len(set(sop_uids)) == 6  # six C-STOREs, no duplicate
    assert {series for _, series in destination.received} == {_series_uid(f) for f in six_series}
    jobs = node.jobs()
    assert not [j for j in jobs if j["state"] in PIPELINE_STATES or j["dispatch"] or j["worker"]]
    events = _events(node, job["id"])
    (retry,) = [e.detail for e in events if e.kind == "retry"]
    assert retry["previous_worker"] == job["worker"] and retry["run"] == 2
    starts = [e.detail for e in events if e.kind == "started"]
    assert len(starts) == 2 and starts[1]["worker"] != job["worker"]
    assert [e.state for e in events if e.kind == "state"].count("sent") == 1
    assert next(j for j in jobs if j["id"] == job["id"])["runs"] == 2
    shown = oarcontour("jobs", "show", str(job["id"]), "--config", str(node.config))
    assert shown.returncode == 0 and "retry" in shown.stdout and "no heartbeat" in shown.stdout
    _no_ledger_on_worker_hosts(workers)


def test_a_node_killed_mid_job_applies_the_workers_reports_when_it_returns(six_series, cluster):
    # The worker goes on while the node is down; its reports wait in the broker, the restarted
    # node applies them and sends the result, once, without running the job again.
    destination, _redis, node, workers = cluster(workers=1)
    _send_series(node.port, six_series[0])
    job = wait_for(lambda: _running(node), 60, "the job running")
    assert node.stop(signal.SIGKILL) == -signal.SIGKILL
    node.start()
    wait_for(lambda: _all_sent(node, 1), 120, "the job sent by the restarted node")
    assert len(destination.received) == 1
    kinds = [e.kind for e in _events(node, job["id"])]
    assert kinds.count("started") == 1 and "retry" not in kinds and kinds.count("step") >= 7
    _no_ledger_on_worker_hosts(workers)


def test_nodes_sharing_a_broker_never_take_each_others_jobs(six_series, cluster):
    # A worker of another node (another AE title) on the same Redis is idle: it listens on its own
    # node's queue, so this node's job waits for this node's worker and is not lost to the other.
    destination, _redis, node, _ = cluster(workers=0)
    other_config = _worker_host_config(node, "other-node-host", ae_title="OTHERNODE")
    other = Worker(other_config, other_config.parent / "worker.log").start()
    try:
        _send_series(node.port, six_series[0])
        wait_for(lambda: node.jobs() and node.jobs()[0]["dispatch"] == "queued", 60, "the job queued")
        own_config = _worker_host_config(node)
        own = Worker(own_config, own_config.parent / "own.log").start()
        try:
            wait_for(lambda: _all_sent(node, 1), 60, "the job run by this node's worker and sent")
        finally:
            own.stop()
    finally:
        other.stop()
    assert len(destination.received) == 1
    kinds = [e.kind for e in _events(node, 1)]
    assert "delivery_skipped" not in kinds and kinds.count("started") == 1
    assert "Celery queue oarcontour.OTHERNODE.cpu" in other.log.read_text()


def test_killed_pool_process_task_is_given_back_and_rerun_at_once(six_series, cluster):
    # A lease far longer than the test: a rerun can only come from Celery giving the task back
    # (task_reject_on_worker_lost) and the next run taking over the dead process's lease.
    destination, _redis, node, (worker,) = cluster(workers=1, lease=120.0)
    _send_series(node.port, six_series[0])
    job = wait_for(lambda: _running(node), 60, "the job running")
    child = int(job["worker"].rpartition(":")[2])
    assert child != worker.process.pid  # the pool process, not the worker's main process
    os.kill(child, signal.SIGKILL)
    wait_for(lambda: _all_sent(node, 1), 60, "the job rerun and sent")
    assert len(destination.received) == 1
    events = _events(node, job["id"])
    starts = [e.detail for e in events if e.kind == "started"]
    assert len(starts) == 2 and starts[1]["took_over_from"] == job["worker"]
    assert not [e for e in events if e.kind == "retry"]
    _no_ledger_on_worker_hosts([worker])


def test_a_job_whose_worker_dies_on_every_run_fails_after_max_runs(six_series, cluster):
    # As a job that runs out of memory or into the hard time limit would: the pool process dies on
    # each run, Celery gives the task back each time, and the fourth start is refused.
    destination, _redis, node, (worker,) = cluster(workers=1, lease=120.0)
    _send_series(node.port, six_series[0])
    for run in (1, 2, 3):
        job = wait_for(lambda run=run: (j := _running(node)) and j["runs"] == run and j, 60, f"run {run}")
        os.kill(int(job["worker"].rpartition(":")[2]), signal.SIGKILL)
    wait_for(lambda: node.job_state() == "failed", 60, "the job to fail after three runs")
    (job,) = node.jobs()
    assert "started 3 times" in job["reason"] and job["runs"] == 3 and not job["worker"] and not job["dispatch"]
    assert destination.received == []


def test_soft_time_limit_fails_the_job_once_with_the_reason(six_series, cluster):
    destination, _redis, node, _workers = cluster(workers=1, soft=0.2, hard=30)
    _send_series(node.port, six_series[0])
    wait_for(lambda: node.job_state() == "failed", 60, "the job to fail at the soft limit")
    wait_for(lambda: not node.jobs()[0]["dispatch"], 30, "the worker's end of the run to be applied")
    (job,) = node.jobs()
    assert "SoftTimeLimitExceeded" in job["reason"] and job["runs"] == 1 and not job["worker"]
    assert destination.received == []


def test_device_pins_the_worker_to_one_gpu_on_the_gpu_queue(tmp_path: Path):
    from service.conftest import write_config

    redis = RedisServer(tmp_path / "redis").start()
    config = write_config(tmp_path / "node.toml", port=free_port(), destination_port=free_port())
    with config.open("a", encoding="utf-8") as handle:
        handle.write(QUEUE_SECTION.format(broker=redis.url, lease=2, soft=120, hard=150))
    worker = Worker(config, tmp_path / "worker.log", options=("--device", "1"))
    try:
        unmounted = oarcontour("worker", "--config", str(config), timeout=60)
        assert unmounted.returncode == 2 and f"{tmp_path / 'spool'} (node.spool) is not on this host" in unmounted.stderr
        (tmp_path / "spool").mkdir()
        worker.start()
        log = worker.log.read_text()
        assert "Worker for queue gpu, CUDA_VISIBLE_DEVICES=1" in log and "oarcontour-gpu1-" in log
        assert "The node queues classical jobs on 'cpu'" in log  # a warning: this worker will get no jobs
    finally:
        worker.stop()
        redis.stop()


@pytest.mark.parametrize("command", ["worker", "node"])
def test_broker_down_at_start_exits_2_with_one_line(tmp_path: Path, command: str):
    from service.conftest import write_config

    config = write_config(tmp_path / "node.toml", port=free_port(), destination_port=free_port())
    broker = f"redis://:s3cret@127.0.0.1:{free_port()}/0"  # nothing listens there
    with config.open("a", encoding="utf-8") as handle:
        handle.write(QUEUE_SECTION.format(broker=broker, lease=2, soft=120, hard=150))
    result = oarcontour(command, "--config", str(config), timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and broker.replace("s3cret", "***") in lines[0] and "Cannot reach the broker" in lines[0]
    assert "s3cret" not in result.stderr + result.stdout


def test_broker_lost_mid_run_jobs_resume_when_it_returns(six_series, cluster):
    destination, redis, node, _workers = cluster(workers=1, persistent=True)
    _send_series(node.port, six_series[0])
    wait_for(lambda: _running(node), 60, "the first job running")
    redis.stop(signal.SIGKILL)  # the broker vanishes mid-job
    _send_series(node.port, six_series[1])  # closed while the broker is down
    failed = wait_for(lambda: [e for e in _events(node, 2) if e.kind == "enqueue_failed"], 30, "a failed enqueue")
    assert redis.url in failed[0].detail["broker"]
    assert next(j for j in node.jobs() if j["id"] == 2)["dispatch"] == "pending"
    redis.start()  # same port, same append-only file
    wait_for(lambda: _all_sent(node, 2), 120, "both jobs sent after the broker returned")
    assert len(destination.received) == 2 and len({sop for sop, _ in destination.received}) == 2
    kinds = [e.kind for e in _events(node, 2)]
    # queued, enqueue_failed (once per outage), queued again when the broker is back, then started
    assert kinds.count("enqueue_failed") == 1 and kinds.count("queued") >= 2
    assert kinds.index("enqueue_failed") < len(kinds) - 1 - kinds[::-1].index("queued") < kinds.index("started")
    listed = json.loads(oarcontour("jobs", "list", "--config", str(node.config), "--json").stdout)
    assert [j["state"] for j in listed] == ["sent", "sent"]
    # The job running through the outage kept its worker: its reports waited, its lease was renewed
    # when the broker returned, and the node did not sweep it meanwhile.
    first = [e.kind for e in _events(node, 1)]
    assert first.count("started") == 1 and "retry" not in first and first.count("step") >= 7
