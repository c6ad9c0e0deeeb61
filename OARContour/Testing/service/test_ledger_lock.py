"""One process at a time on a ledger: a second node or a `run` exits 2 naming the holder; a killed holder never blocks."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from OARContourLib.service.ledger import Ledger
from OARContourLib.service.ledger_lock import LedgerInUseError, LedgerLock, lock_path
from service.conftest import REPO_ROOT, _env, oarcontour, wait_for, write_config
from testsupport.orthanc import free_port

_HOLD = ("import sys, time\n"
         "from pathlib import Path\n"
         "from OARContourLib.service.ledger_lock import LedgerLock\n"
         "LedgerLock(Path(sys.argv[1]), 'node').acquire()\n"
         "print('locked', flush=True)\n"
         "time.sleep(120)\n")


def test_a_live_holder_refuses_a_second_one_and_a_killed_holder_is_taken_over(tmp_path: Path):
    ledger = tmp_path / "ledger.sqlite"
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(ledger)], stdout=subprocess.PIPE, text=True,
                              env=_env(), cwd=REPO_ROOT)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(LedgerInUseError) as refused:
            LedgerLock(ledger, "run").acquire()
        assert str(ledger) in str(refused.value) and f"pid {holder.pid} " in str(refused.value)
        assert "oarcontour node" in str(refused.value)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()

    lock = LedgerLock(ledger, "run")
    left = lock.acquire()  # the kernel dropped the dead holder's lock; its text is reported
    assert left is not None and left.owner.endswith(f":{holder.pid}") and left.role == "node"
    assert json.loads(lock_path(ledger).read_text())["role"] == "run"
    lock.release()
    assert lock_path(ledger).read_text() == ""
    with LedgerLock(ledger, "node") as again:  # after a clean release nothing is reported
        assert again.path == lock_path(ledger)
    assert LedgerLock(ledger, "node").acquire() is None


def test_second_node_and_run_exit_2_while_review_commands_work_and_kill_9_never_blocks(
        node_factory, small_phantom, tmp_path: Path):
    node = node_factory(mode="hold", destination_port=free_port())
    folder = node.config.parent
    held = oarcontour("run", str(small_phantom.ct_dir), "--config", str(node.config), "--no-report")
    assert held.returncode == 1, held.stderr  # hold mode: the job waits for review
    node.start()
    second = write_config(folder / "second.toml", port=free_port(), destination_port=free_port())

    for refused in (oarcontour("node", "--config", str(second), timeout=60),
                    oarcontour("run", str(small_phantom.ct_dir), "--config", str(second), timeout=60)):
        assert refused.returncode == 2, refused.stderr
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and str(node.ledger_path) in lines[0], lines
        assert f"oarcontour node (pid {node.process.pid} " in lines[0]
    other_ledger = folder / "third.toml"  # its own ledger, but the running node's spool
    other_ledger.write_text(second.read_text().replace('ledger = "ledger.sqlite"', 'ledger = "other.sqlite"'))
    refused = oarcontour("node", "--config", str(other_ledger), timeout=60)
    assert refused.returncode == 2 and f"spool {node.spool} is in use by oarcontour node" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert oarcontour("jobs", "list", "--config", str(second)).returncode == 0
    shown = oarcontour("jobs", "show", "1", "--config", str(second), "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)["job"]["state"] == "awaiting_review"
    approved = oarcontour("jobs", "approve", "1", "--reviewer", "Dr Test", "--config", str(second))
    assert approved.returncode == 0, approved.stderr
    wait_for(lambda: node.job_state() == "sending", 60, "the running node to take the approved job")

    killed_pid = node.process.pid
    node.stop(signal.SIGKILL)
    node.start()  # the dead node's lock file is still there; it must not block
    ledger = Ledger(node.ledger_path, create=False)
    try:
        started = [e for e in ledger.events(None) if e.kind == "node_started"]
    finally:
        ledger.close()
    taken = started[-1].detail["lock_taken_over"]
    assert taken["owner"].endswith(f":{killed_pid}") and taken["role"] == "node"
    assert "lock_taken_over" not in started[0].detail
    assert node.stop() == 0
    assert lock_path(node.ledger_path).read_text() == ""  # released cleanly on SIGTERM
