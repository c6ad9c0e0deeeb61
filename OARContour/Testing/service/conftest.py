"""Fixtures for the DICOM node tests: a real Orthanc, the node as a real `oarcontour node` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from testsupport.orthanc import Orthanc, free_port, start_orthanc

REPO_ROOT = Path(__file__).resolve().parents[3]
NODE_AET = "OARCONTOUR"


def wait_for(condition: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def oarcontour(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the CLI from this source tree in a subprocess."""
    return subprocess.run([sys.executable, "-m", "OARContourLib.cli.main", *args], capture_output=True, text=True,
                          env=_env(), timeout=timeout, cwd=REPO_ROOT)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT / "OARContour"), env.get("PYTHONPATH", "")])
    return env


def write_config(path: Path, *, port: int, destination_port: int, allowed: tuple[str, ...] = ("ORTHANC", "TESTSCU"),
                 quiet_seconds: float = 1.0, mode: str = "auto", disk_reserve_mb: int = 10,
                 retry_initial_seconds: float = 0.5, destination_aet: str = "ORTHANC") -> Path:
    callers = ", ".join(f'"{a}"' for a in allowed)
    path.write_text(f"""
[node]
ae_title = "{NODE_AET}"
host = "127.0.0.1"
port = {port}
spool = "spool"
ledger = "ledger.sqlite"
allowed_callers = [{callers}]
quiet_seconds = {quiet_seconds}
disk_reserve_mb = {disk_reserve_mb}

[pipeline]
engine = "classical"
template = "Thorax"
derive = ["SpinalCanal:5"]
tps = "generic"

[destination]
ae_title = "{destination_aet}"
host = "127.0.0.1"
port = {destination_port}
retry_initial_seconds = {retry_initial_seconds}
retry_max_seconds = 2

[review]
mode = "{mode}"
""", encoding="utf-8")
    return path


@dataclass
class NodeProcess:
    """``oarcontour node`` running in a subprocess; stderr goes to ``log``."""

    config: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    aet: str = NODE_AET  # the AE title it answers C-ECHO under

    @property
    def ledger_path(self) -> Path:
        return self.config.parent / "ledger.sqlite"

    @property
    def spool(self) -> Path:
        return self.config.parent / "spool"

    def start(self) -> NodeProcess:
        handle = self.log.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "OARContourLib.cli.main", "node", "--config",
                                         str(self.config)], stderr=handle, stdout=handle, env=_env(), cwd=REPO_ROOT)
        handle.close()
        wait_for(self._echo, 60, "the node to answer C-ECHO")
        return self

    def _echo(self) -> bool:
        from pynetdicom import AE

        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"node exited {self.process.returncode}: {self.log.read_text()[-3000:]}")
        ae = AE(ae_title="TESTSCU")
        ae.add_requested_context("1.2.840.10008.1.1")
        assoc = ae.associate("127.0.0.1", self.port, ae_title=self.aet)
        if not assoc.is_established:
            return False
        status = assoc.send_c_echo()
        assoc.release()
        return bool(status) and status.Status == 0

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return int(self.process.returncode)

    def jobs(self) -> list[dict[str, Any]]:
        from OARContourLib.service.ledger import Ledger

        if not self.ledger_path.exists():
            return []
        ledger = Ledger(self.ledger_path)
        try:
            return [job.to_dict() for job in ledger.jobs()]
        finally:
            ledger.close()

    def job_state(self, index: int = 0) -> str | None:
        jobs = self.jobs()
        return jobs[index]["state"] if len(jobs) > index else None


@pytest.fixture()
def orthanc_factory(tmp_path: Path) -> Iterator[Callable[..., Orthanc]]:
    started: list[Orthanc] = []

    def start(name: str, node_port: int, dicom_port: int | None = None) -> Orthanc:
        server = start_orthanc(tmp_path / name, {"node": (NODE_AET, "127.0.0.1", node_port)}, dicom_port=dicom_port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture()
def node_factory(tmp_path: Path) -> Iterator[Callable[..., NodeProcess]]:
    nodes: list[NodeProcess] = []

    def make(**options: Any) -> NodeProcess:
        folder = tmp_path / f"node{len(nodes)}"
        folder.mkdir()
        port = options.pop("port", None) or free_port()
        config = write_config(folder / "node.toml", port=port, **options)
        node = NodeProcess(config, port, folder / "node.log")
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        if node.process is not None:
            node.stop(signal.SIGKILL if node.process.poll() is None else signal.SIGTERM)
