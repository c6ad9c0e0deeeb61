"""Benchmark: the DICOM node's turnaround with a real Orthanc, 512×512×150 CT, classical engine.

From the last CT instance received by the node to the RTSTRUCT accepted by the destination (Orthanc's
C-STORE response), per step from the node's ledger. Goals (issue 15): whole turnaround < 30 s on 2
cores; the node's own share (everything but the engine and the configured quiet period) < 5 s.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # testsupport

from OARContourLib.phantom import write_phantom  # noqa: E402
from OARContourLib.service.ledger import Ledger  # noqa: E402
from testsupport.orthanc import free_port, start_orthanc  # noqa: E402

TOTAL_GOAL_S = 30.0
NODE_GOAL_S = 5.0
QUIET_SECONDS = 1.0
ENGINE_STEPS = ("autoseg",)


def run(cache: Path) -> dict[str, object]:
    case = cache / "thorax_512x512x150"
    if not (case / "phantom.json").is_file():
        write_phantom(case, slices=150, slice_spacing_mm=2.4, seed=5, overwrite=True)
    work = cache / "node_bench"
    subprocess.run(["rm", "-rf", str(work)], check=True)
    work.mkdir(parents=True)
    node_port, dicom_port = free_port(), free_port()
    config = _config(work, node_port, dicom_port)
    orthanc = start_orthanc(work / "orthanc", {"node": ("OARCONTOUR", "127.0.0.1", node_port)}, dicom_port=dicom_port)
    node = None
    try:
        series = orthanc.upload(case / "ct")
        node = _start_node(config, work / "node.log")
        started = time.perf_counter()
        orthanc.store_to("node", series, timeout=600)
        transfer_s = time.perf_counter() - started
        _wait_sent(work / "ledger.sqlite", timeout=300)
        return _figures(work / "ledger.sqlite", transfer_s)
    finally:
        if node is not None:
            node.send_signal(signal.SIGTERM)
            node.wait(timeout=60)
        orthanc.stop()


def _config(work: Path, node_port: int, dicom_port: int) -> Path:
    path = work / "node.toml"
    path.write_text(f'[node]\nport = {node_port}\nspool = "spool"\nledger = "ledger.sqlite"\n'
                    f'allowed_callers = ["ORTHANC"]\nquiet_seconds = {QUIET_SECONDS}\ndisk_reserve_mb = 100\n'
                    f'[pipeline]\nengine = "classical"\ntemplate = "Thorax"\nderive = ["SpinalCanal:5"]\n'
                    f'[destination]\nae_title = "ORTHANC"\nport = {dicom_port}\n', encoding="utf-8")
    return path


def _start_node(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parents[1]), env.get("PYTHONPATH", "")])
    with log.open("wb") as handle:
        process = subprocess.Popen([sys.executable, "-m", "OARContourLib.cli.main", "node", "--config", str(config)],
                                   stderr=handle, stdout=handle, env=env)
    time.sleep(3.0)  # imports and the listening socket; the measurement starts at the last instance received
    return process


def _wait_sent(ledger_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ledger_path.exists():
            ledger = Ledger(ledger_path)
            states = [job.state.value for job in ledger.jobs()]
            ledger.close()
            if states and states[0] in ("sent", "failed", "awaiting_review"):
                return
        time.sleep(0.2)
    raise RuntimeError("the node did not finish the job in time")


def _figures(ledger_path: Path, transfer_s: float) -> dict[str, object]:
    ledger = Ledger(ledger_path)
    job = ledger.jobs()[0]
    events = ledger.events(job.id)
    ledger.close()
    last_instance = max(e.detail["last_instance_at"] for e in events if e.kind == "instances_received")
    filed = max(e.at for e in events if e.kind == "instances_received")
    closed = next(e.at for e in events if e.kind == "series_closed")
    steps = {e.detail["step"]: float(e.detail["seconds"]) for e in events if e.kind == "step"}
    gated = next(e.at for e in events if e.kind == "state" and e.state in ("approved", "awaiting_review"))
    sent = next((e.at for e in events if e.kind == "state" and e.state == "sent"), None)
    attempt = next((float(e.detail["seconds"]) for e in events if e.kind == "send_attempt"), 0.0)
    total = (sent or gated) - last_instance
    quiet = closed - filed
    engine = sum(steps.get(s, 0.0) for s in ENGINE_STEPS)
    node_share = total - engine - quiet
    rows = {"release and filing": filed - last_instance, "quiet period (configured 1 s)": quiet, **steps,
            "gate, queue and C-STORE": (sent or gated) - gated + 0.0, "of which C-STORE": attempt}
    return {"benchmark": "node turnaround 512x512x150", "state": job.state.value, "slices": job["instances"],
            "transfer_s": round(transfer_s, 2), "total_s": round(total, 2), "engine_s": round(engine, 2),
            "node_share_s": round(node_share, 2), "steps": {k: round(v, 3) for k, v in rows.items()},
            "met": job.state.value == "sent" and total < TOTAL_GOAL_S and node_share < NODE_GOAL_S}


def print_table(row: dict[str, object]) -> None:
    print(f"\n{'DICOM node with Orthanc, 512x512x150':<40} {'seconds':>9} {'goal':>8}")
    print(f"{'Orthanc C-STORE of the CT (not counted)':<40} {row['transfer_s']:>9}")
    for name, seconds in dict(row["steps"]).items():  # type: ignore[call-overload]
        print(f"  {name:<38} {seconds:>9}")
    print(f"{'last instance -> RTSTRUCT accepted':<40} {row['total_s']:>9} {'< ' + str(TOTAL_GOAL_S):>8}")
    print(f"{'node share (all but engine and quiet)':<40} {row['node_share_s']:>9} {'< ' + str(NODE_GOAL_S):>8}  "
          f"{'met' if row['met'] else 'NOT met'} (job {row['state']}, {row['slices']} instances)")


if __name__ == "__main__":
    cache = HERE.parents[2] / "bench_output"
    cache.mkdir(exist_ok=True)
    print_table(run(cache))
