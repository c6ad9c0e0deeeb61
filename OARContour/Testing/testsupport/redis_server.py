"""A real Redis (Debian's ``redis-server``) on a free loopback port with a temporary folder, for the queue tests.

``persistent=True`` keeps an append-only file with an fsync per write, so a broker stopped and
started again on the same folder still holds its queue (what a site should run; see README).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from testsupport.orthanc import free_port


def redis_executable() -> str:
    found = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else "")
    if not found:
        raise RuntimeError("redis-server is not installed: apt-get install redis-server (.ci/run does it)")
    return found


@dataclass
class RedisServer:
    """``redis-server`` in the foreground of the test; :meth:`start` again after :meth:`stop` on the same port."""

    folder: Path
    persistent: bool = False
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen([redis_executable(), "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--dir", str(self.folder), "--save", "", *persistence],
                                        stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {(self.folder / 'redis.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not answer within 20 s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
