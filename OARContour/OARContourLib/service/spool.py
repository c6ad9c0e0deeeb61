"""The spool: received instances filed into one folder per job, and series closed after a quiet period.

Layout under ``node.spool``: ``incoming/<association>/`` (staging, written by :mod:`.intake`),
``jobs/<id>/ct/`` (the series, one file per SOP Instance UID) and ``jobs/<id>/out/`` (what the
pipeline writes). Only the node's main loop calls these functions, so the ledger has one writer
for intake. ``spool.lock`` says which process uses the spool (:mod:`.ledger_lock`); finished jobs'
folders leave it after ``node.keep_finished_days`` (:mod:`.retention`).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pydicom

from .config import NodeConfig
from .intake import AssociationEnded
from .ledger import JobState, Ledger

logger = logging.getLogger(__name__)

_HEADER_TAGS = ["SeriesInstanceUID", "StudyInstanceUID", "PatientID"]


def jobs_root(config: NodeConfig) -> Path:
    """The spool's folder of job folders (``<spool>/jobs/<id>/``; spool retention removes them)."""
    return config.node.spool / "jobs"


def job_folders(config: NodeConfig, job_id: int) -> tuple[Path, Path]:
    base = jobs_root(config) / str(job_id)
    return base / "ct", base / "out"


def file_association(ledger: Ledger, config: NodeConfig, ended: AssociationEnded) -> None:
    """File a released association's instances into their series' jobs; drop an aborted one's."""
    files = sorted(ended.staging.glob("*.dcm")) if ended.staging.is_dir() else []
    if not ended.released:
        shutil.rmtree(ended.staging, ignore_errors=True)
        ledger.record(None, "association_aborted", calling_ae=ended.calling_ae, instances_dropped=len(files))
        logger.warning("Association from %s aborted: %d instances dropped", ended.calling_ae, len(files))
        return
    by_series: dict[str, list[Path]] = defaultdict(list)
    for path in files:
        by_series[_series_uid(path)].append(path)
    for series_uid, paths in by_series.items():
        _file_series(ledger, config, series_uid, paths, ended.calling_ae)
    shutil.rmtree(ended.staging, ignore_errors=True)
    ledger.record(None, "association_released", calling_ae=ended.calling_ae, instances=len(files),
                  series=len(by_series))


def _series_uid(path: Path) -> str:
    try:
        header = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=_HEADER_TAGS)
        return str(header.get("SeriesInstanceUID", ""))
    except Exception:  # noqa: BLE001 - a broken file joins the empty-UID group; inspect reports it
        return ""


def _file_series(ledger: Ledger, config: NodeConfig, series_uid: str, paths: list[Path], calling_ae: str) -> None:
    job, created = ledger.add_job(series_uid or "(empty)", source=f"dicom:{calling_ae}")
    if job.state is not JobState.RECEIVED or job["dispatch"]:  # closed (queued for a worker) counts as started
        ledger.record(job.id, "late_instances_dropped", instances=len(paths), calling_ae=calling_ae,
                      state=job.state.value)
        logger.warning("Job %d: %d instances arrived after the series was closed; dropped", job.id, len(paths))
        return
    ct_dir, out_dir = job_folders(config, job.id)
    ct_dir.mkdir(parents=True, exist_ok=True)
    last = max(p.stat().st_mtime for p in paths)
    for path in paths:
        path.replace(ct_dir / path.name)
    count = sum(1 for _ in ct_dir.glob("*.dcm"))
    ledger.update(job.id, ct_dir=str(ct_dir), out_dir=str(out_dir), instances=count,
                  last_instance_at=max(last, float(job["last_instance_at"])))
    ledger.record(job.id, "instances_received", instances=len(paths), total=count, calling_ae=calling_ae,
                  last_instance_at=last)
    logger.info("Job %d: %d instances filed (%d in the series)%s", job.id, len(paths), count,
                " (new job)" if created else "")


def drop_unreleased(config: NodeConfig, ledger: Ledger) -> None:
    """At start-up: staging folders left by a stopped or killed node belong to no released association."""
    incoming = config.node.spool / "incoming"
    for staging in sorted(incoming.iterdir()) if incoming.is_dir() else []:
        count = sum(1 for _ in staging.glob("*.dcm"))
        shutil.rmtree(staging, ignore_errors=True)
        ledger.record(None, "association_unfinished_dropped", instances_dropped=count)
        logger.warning("Dropped %d instances of an association that never ended (node restart)", count)


def closable_jobs(ledger: Ledger, config: NodeConfig, open_staging: Iterable[Path]) -> list[int]:
    """Network jobs in ``received`` whose series has been quiet for ``quiet_seconds`` and is in no open association."""
    now = time.time()
    quiet = [job for job in ledger.jobs([JobState.RECEIVED]) if job["source"].startswith("dicom:")
             and job["instances"] > 0 and now - float(job["last_instance_at"]) >= config.node.quiet_seconds]
    if not quiet:
        return []
    busy = {_series_uid(path) for staging in open_staging for path in staging.glob("*.dcm")}
    return [job.id for job in quiet if job.series_uid not in busy]
