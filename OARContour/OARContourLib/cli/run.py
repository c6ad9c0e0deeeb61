"""``oarcontour run PATH --config node.toml [--out DIR]``: the node's pipeline and ledger on files, no network."""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from ..ct.scan import SeriesFiles, scan_folder
from ..errors import InputError
from ..output_paths import check_apart_from_inputs
from .exit_codes import EXIT_FINDINGS, EXIT_OK
from .output import print_json, terminal_progress

SCHEMA = "oarcontour.run/1"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="contour every CT series under PATH through the node's pipeline and ledger",
        description="Batch mode: every CT series found under PATH (or the one CT folder) goes through the node's "
                    "pipeline (inspect, autoseg, names, derive, check, export, verify, review gate) and ledger. "
                    "Resumable: series whose job already finished are skipped. Nothing is sent.")
    parser.add_argument("path", metavar="PATH", help="a CT folder, or a tree with many series")
    parser.add_argument("--config", required=True, metavar="NODE_TOML", help="node configuration (pipeline, ledger)")
    parser.add_argument("--out", metavar="DIR", help="where the RTSTRUCTs and review reports go "
                                                     "(default: the spool's job folders)")
    parser.add_argument("--no-report", action="store_true", help="skip the HTML review report per series")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..service.config import load_config
    from ..service.ledger_lock import LedgerLock

    config = load_config(args.config)
    root = Path(args.path).expanduser()
    if not root.is_dir():
        raise InputError(f"Not a folder: {root}", hint="Pass a CT folder or a folder tree of CT series.")
    # Never inside the CT tree (the next run would scan the RTSTRUCTs there) or around it.
    out = check_apart_from_inputs(args.out, [root, args.config]) if args.out else None
    # A node (or another run) on this ledger, or writing into this spool, would pick up the same jobs.
    with LedgerLock(config.node.ledger, "run"), ExitStack() as spool:
        if out is None:  # the RTSTRUCTs go to the spool's job folders
            spool.enter_context(LedgerLock.of_spool(config.node.spool, "run"))
        rows = _run_locked(args, config, root, out)
    _summary(rows, args.json)
    return EXIT_OK if all(r["state"] in ("approved", "sent") for r in rows) else EXIT_FINDINGS


def _run_locked(args: argparse.Namespace, config: Any, root: Path, out: Path | None) -> list[dict[str, Any]]:
    from ..service.ledger import Ledger

    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    series = [s for s in scan_folder(root).series if s.is_image_series and s.modality == "CT"]
    if not series:
        raise InputError(f"No CT series under {root}.", hint="Point PATH at the CT slices.")
    ledger = Ledger(config.node.ledger)
    try:
        return [_one(ledger, config, root, s, out, not args.no_report, number, len(series), args)
                for number, s in enumerate(series, 1)]
    finally:
        ledger.close()


def _one(ledger: Any, config: Any, root: Path, series: SeriesFiles, out: Path | None, report: bool,
         number: int, total: int, args: argparse.Namespace) -> dict[str, Any]:
    from ..service.ledger import PIPELINE_STATES
    from ..service.pipeline import process_job
    from ..service.spool import job_folders

    folders = {h.path.parent for h in series.headers}
    ct_dir = folders.pop() if len(folders) == 1 else root
    job, created = ledger.add_job(series.series_uid, source=f"files:{ct_dir}", ct_dir=str(ct_dir))
    started = time.perf_counter()
    skipped = job.state not in PIPELINE_STATES
    if not skipped:
        job_out = out if out is not None else job_folders(config, job.id)[1]
        ledger.update(job.id, out_dir=str(job_out), ct_dir=str(ct_dir), instances=len(series.image_headers))
        _progress(args, f"[{number}/{total}] job {job.id}: contouring {len(series.image_headers)} slices ...")
        job = process_job(ledger, ledger.job(job.id), config,
                          progress=terminal_progress(not args.json and not args.quiet))
        if report and job["rtstruct_path"]:
            _report(ledger, job, config)
    row = {"job": job.id, "series": series.series_uid, "slices": len(series.image_headers),
           "state": job.state.value, "skipped": skipped, "seconds": round(time.perf_counter() - started, 2),
           "rtstruct": job["rtstruct_path"], "reason": job["reason"]}
    _progress(args, f"[{number}/{total}] job {job.id}: {'already ' if skipped else ''}{job.state.value}")
    return row


def _report(ledger: Any, job: Any, config: Any) -> None:
    from ..report.build import build_report

    target = Path(job["rtstruct_path"]).with_suffix(".html")
    started = time.perf_counter()
    build_report(job["rtstruct_path"], job["ct_dir"], target, tps=config.pipeline.tps,
                 template=config.pipeline.template, overwrite=True)
    ledger.record(job.id, "step", step="report", seconds=round(time.perf_counter() - started, 3), path=str(target))


def _progress(args: argparse.Namespace, message: str) -> None:
    if not args.quiet and not args.json:
        print(message, file=sys.stderr, flush=True)


def _summary(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json({"schema": SCHEMA, "series": rows})
        return
    print(f"{'JOB':>5}  {'STATE':<16} {'SLICES':>6} {'SECONDS':>8}  RTSTRUCT / REASON")
    for row in rows:
        state = f"{row['state']}{' (skipped)' if row['skipped'] else ''}"
        print(f"{row['job']:>5}  {state:<16} {row['slices']:>6} {row['seconds']:>8.2f}  "
              f"{row['rtstruct'] or row['reason'][:80]}")
