"""A real Orthanc (Debian package) on free loopback ports with a temporary configuration, for the node tests.

Orthanc plays the hospital's PACS and planning system: CT is uploaded through its REST API, it
C-STOREs the series to the node, and the node's RTSTRUCT comes back to it. Only urllib is used.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ORTHANC_CANDIDATES = ("/usr/sbin/Orthanc", "/usr/bin/Orthanc")


def orthanc_executable() -> str:
    found = shutil.which("Orthanc") or next((p for p in ORTHANC_CANDIDATES if Path(p).exists()), None)
    if not found:
        raise RuntimeError("Orthanc is not installed: apt-get install orthanc (.ci/run does it)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Orthanc:
    """A running Orthanc; ``url`` is its REST API, ``dicom_port`` its DICOM port, AE title ``aet``."""

    process: subprocess.Popen[bytes]
    url: str
    dicom_port: int
    aet: str
    log: Path

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=60) as response:
            return json.loads(response.read())

    def post(self, path: str, body: bytes | dict[str, Any] | str, timeout: float = 120) -> Any:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method="POST")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read()
        return json.loads(text) if text.strip() else None

    def upload(self, folder: Path) -> list[str]:
        """POST every file of ``folder`` to /instances; returns the Orthanc series ids."""
        series = set()
        for path in sorted(folder.iterdir()):
            if path.is_file():
                series.add(self.post("/instances", path.read_bytes())["ParentSeries"])
        return sorted(series)

    def store_to(self, modality: str, resources: list[str], timeout: float = 120) -> Any:
        """C-STORE resources to a configured modality (synchronous job)."""
        return self.post(f"/modalities/{modality}/store", {"Resources": resources, "Synchronous": True}, timeout)

    def instances_of_modality(self, modality: str) -> list[dict[str, Any]]:
        found = self.post("/tools/find", {"Level": "Instance", "Query": {"Modality": modality}, "Expand": True})
        return list(found)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_orthanc(workdir: Path, modalities: dict[str, tuple[str, str, int]], aet: str = "ORTHANC",
                  dicom_port: int | None = None) -> Orthanc:
    """Start Orthanc in the foreground process group of the test; loopback HTTP, no authentication."""
    workdir = workdir.resolve()  # Orthanc runs in workdir: every path it reads must be absolute
    workdir.mkdir(parents=True, exist_ok=True)
    http_port, dicom_port = free_port(), dicom_port or free_port()
    config = {
        "Name": "OARContourTest", "DicomAet": aet, "DicomPort": dicom_port, "HttpPort": http_port,
        "StorageDirectory": str(workdir / "storage"), "IndexDirectory": str(workdir / "storage"),
        "RemoteAccessAllowed": False, "AuthenticationEnabled": False, "Plugins": [],
        "DicomModalities": {name: list(v) for name, v in modalities.items()},
        "DicomScuTimeout": 30, "StableAge": 60, "ConcurrentJobs": 1, "HttpTimeout": 120,
    }
    config_path = workdir / "orthanc.json"
    config_path.write_text(json.dumps(config, indent=2))
    log = workdir / "orthanc.log"
    with log.open("wb") as handle:
        process = subprocess.Popen([orthanc_executable(), str(config_path)], stdout=handle, stderr=subprocess.STDOUT,
                                   cwd=workdir)
    orthanc = Orthanc(process, f"http://127.0.0.1:{http_port}", dicom_port, aet, log)
    _wait_ready(orthanc)
    return orthanc


def _wait_ready(orthanc: Orthanc, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if orthanc.process.poll() is not None:
            raise RuntimeError(f"Orthanc exited: {orthanc.log.read_text(errors='replace')[-2000:]}")
        try:
            orthanc.get("/system")
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    orthanc.stop()
    raise RuntimeError(f"Orthanc did not answer within {timeout} s: {orthanc.log.read_text(errors='replace')[-2000:]}")
