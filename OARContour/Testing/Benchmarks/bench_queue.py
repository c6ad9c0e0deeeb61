"""Benchmark: contouring jobs on Celery workers with a real Redis (issue 17).

Throughput: four 512×512×120 CT series (classical engine) queued at once, with 1 and with 2
``oarcontour worker`` processes on this machine; jobs per minute from the first enqueue to the last
job finished (approved, as the ledger records it). Queue overhead: with one idle worker, five small
jobs queued one after the other; the time from enqueue to the worker's start (the ``started``
event's ``waited_seconds``), median and worst. Goal: under 0.5 s per job.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # testsupport

from OARContourLib.phantom import write_phantom  # noqa: E402
from OARContourLib.service.config import load_config  # noqa: E402
from OARContourLib.service.execution import CeleryRunner  # noqa: E402
from OARContourLib.service.ledger import PIPELINE_STATES, Ledger  # noqa: E402
from testsupport.redis_server import RedisServer  # noqa: E402

OVERHEAD_GOAL_S = 0.5
JOBS = 4
SMALL_JOBS = 5


def run(cache: Path) -> dict[str, Any]:
    big = [_phantom(cache / f"thorax_512x512x120_s{seed}", seed, 512, 120) for seed in range(10, 10 + JOBS)]
    small = [_phantom(cache / f"thorax_64x64x16_s{seed}", seed, 64, 16) for seed in range(20, 20 + SMALL_JOBS)]
    results: dict[str, Any] = {"jobs": JOBS, "ct": "512x512x120", "engine": "classical"}
    for workers in (1, 2):
        seconds, _ = _batch(cache / f"queue_bench_{workers}w", big, workers, sequential=False)
        results[f"workers_{workers}"] = {"seconds": round(seconds, 1), "jobs_per_minute": round(JOBS * 60 / seconds, 2)}
    _, waits = _batch(cache / "queue_bench_overhead", small, 1, sequential=True)
    results["overhead_median_s"] = round(statistics.median(waits), 3)
    results["overhead_max_s"] = round(max(waits), 3)
    results["overhead_goal_s"] = OVERHEAD_GOAL_S
    results["met"] = results["overhead_median_s"] < OVERHEAD_GOAL_S
    return results


def _phantom(folder: Path, seed: int, size: int, slices: int) -> Path:
    if not (folder / "phantom.json").is_file():
        spacing = 0.977 * 512 / size
        write_phantom(folder, rows=size, columns=size, slices=slices, pixel_spacing_mm=spacing,
                      slice_spacing_mm=300.0 / slices, seed=seed, overwrite=True)
    return folder / "ct"


def _batch(work: Path, cts: list[Path], workers: int, sequential: bool) -> tuple[float, list[float]]:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    redis = RedisServer(work / "redis").start()
    config_path = work / "node.toml"
    config_path.write_text(f'[node]\nspool = "spool"\nledger = "ledger.sqlite"\n'
                           f'[pipeline]\nengine = "classical"\ntemplate = "Thorax"\n'
                           f'[queue]\nbroker = "{redis.url}"\nlease_seconds = 30\nheartbeat_seconds = 5\n',
                           encoding="utf-8")
    config = load_config(config_path)
    config.node.spool.mkdir(parents=True, exist_ok=True)  # the shared spool workers check at start
    pool = [_start_worker(config_path, work / f"worker{i}.log") for i in range(workers)]
    ledger = Ledger(config.node.ledger)
    runner = CeleryRunner(config)
    try:
        ids = [_add(ledger, ct, work / f"out{i}") for i, ct in enumerate(cts)]
        started = time.perf_counter()
        for job_id in ids:
            runner.dispatch(ledger, job_id)
            if sequential:
                _wait(ledger, runner, [job_id])
        _wait(ledger, runner, ids)
        seconds = time.perf_counter() - started
        waits = [float(e.detail["waited_seconds"]) for i in ids for e in ledger.events(i) if e.kind == "started"]
        return seconds, waits
    finally:
        runner.close()
        ledger.close()
        for process in pool:
            _stop(process)
        redis.stop()


def _add(ledger: Ledger, ct: Path, out: Path) -> int:
    import pydicom

    first = next(p for p in sorted(ct.iterdir()) if p.suffix == ".dcm")
    series = str(pydicom.dcmread(first, stop_before_pixels=True).SeriesInstanceUID)
    job, _ = ledger.add_job(series, source=f"files:{ct}", ct_dir=str(ct), out_dir=str(out))
    return job.id


def _wait(ledger: Ledger, runner: CeleryRunner, ids: list[int], timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runner.maintain(ledger)
        if all(ledger.job(i).state not in PIPELINE_STATES for i in ids):
            return
        time.sleep(0.05)
    raise RuntimeError(f"jobs {ids} did not finish within {timeout} s")


def _start_worker(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parents[1]), env.get("PYTHONPATH", "")])
    with log.open("wb") as handle:
        process = subprocess.Popen([sys.executable, "-m", "OARContourLib.cli.main", "worker", "--config", str(config)],
                                   stderr=handle, stdout=handle, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while " ready." not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"worker did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def print_table(results: dict[str, Any]) -> None:
    print(f"\nJobs on Celery workers ({results['jobs']} × {results['ct']} CT, {results['engine']} engine, "
          "real redis-server)")
    print(f"{'workers':>8} {'seconds':>9} {'jobs/min':>9}")
    for workers in (1, 2):
        row = results[f"workers_{workers}"]
        print(f"{workers:>8} {row['seconds']:>9} {row['jobs_per_minute']:>9}")
    print(f"queue overhead (enqueue → start), idle worker: median {results['overhead_median_s']} s, "
          f"max {results['overhead_max_s']} s (goal < {results['overhead_goal_s']} s: "
          f"{'met' if results['met'] else 'NOT met'})", flush=True)


if __name__ == "__main__":
    import json

    out = HERE.parents[2] / "bench_output"
    out.mkdir(exist_ok=True)
    figures = run(out)
    print_table(figures)
    (out / "queue_results.json").write_text(json.dumps(figures, indent=2) + "\n")
