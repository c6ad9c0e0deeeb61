"""``oarcontour jobs list|show|approve|reject``: the ledger from the operator's side."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from typing import Any

from ..errors import InputError
from .exit_codes import EXIT_OK
from .output import print_json

SCHEMA = "oarcontour.jobs/1"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("jobs", help="list, show, approve or reject the node's jobs",
                                   description="Read and review the node's job ledger (SQLite).")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (("list", "every job with its state"), ("show", "one job with its history"),
                       ("approve", "approve a job awaiting review; the node sends it"),
                       ("reject", "reject a job awaiting review; it is never sent")):
        action = actions.add_parser(name, help=text, description=text)
        if name != "list":
            action.add_argument("job", metavar="JOB", help="job number")
        if name in ("approve", "reject"):
            action.add_argument("--reviewer", metavar="NAME", help="who reviewed (default: the login name)")
            action.add_argument("--comment", default="", help="recorded with the decision")
        if name == "list":
            action.add_argument("--state", help="only jobs in this state")
        where = action.add_mutually_exclusive_group(required=True)
        where.add_argument("--ledger", metavar="PATH", help="the ledger file")
        where.add_argument("--config", metavar="NODE_TOML", help="the node configuration naming the ledger")
        action.add_argument("--json", action="store_true", help="print JSON to stdout")
        action.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..service.ledger import Ledger

    ledger = Ledger(_ledger_path(args), create=False)
    try:
        return {"list": _list, "show": _show, "approve": _decide, "reject": _decide}[args.action](args, ledger)
    finally:
        ledger.close()


def _ledger_path(args: argparse.Namespace) -> str:
    if args.ledger:
        return str(args.ledger)
    from ..service.config import load_config

    return str(load_config(args.config).node.ledger)


def _list(args: argparse.Namespace, ledger: Any) -> int:
    from ..service.ledger import JobState

    states = None
    if args.state:
        try:
            states = [JobState(args.state)]
        except ValueError:
            raise InputError(f"Unknown state {args.state!r}.",
                             hint=f"One of: {', '.join(s.value for s in JobState)}.") from None
    jobs = ledger.jobs(states)
    if args.json:
        # A bare list, as the issue promised scripts: each object has at least "id" and "state".
        json.dump([job.to_dict() for job in jobs], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    print(f"{'ID':>5}  {'STATE':<16} {'UPDATED (UTC)':<20} {'SLICES':>6}  {'PATIENT':<14} REASON")
    for job in jobs:
        updated = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(job["state_at"]))
        print(f"{job.id:>5}  {job.state.value:<16} {updated:<20} {job['instances']:>6}  "
              f"{str(job['patient_id'])[:14]:<14} {str(job['reason'])[:70]}")
    return EXIT_OK


def _show(args: argparse.Namespace, ledger: Any) -> int:
    job = ledger.job(args.job)
    events = ledger.events(job.id)
    if args.json:
        print_json({"schema": SCHEMA, "job": job.to_dict(), "history": [e.to_dict() for e in events]})
        return EXIT_OK
    data = job.to_dict()
    for key in ("id", "state", "series_uid", "study_uid", "patient_id", "source", "instances", "engine",
                "engine_version", "template", "tps", "rtstruct_path", "reason", "reviewer", "reviewed_at",
                "destination", "store_status", "attempts"):
        print(f"{key:<16} {data[key] if data[key] not in (None, '') else '-'}")
    print(f"{'verification':<16} {'errors' if data['verification'].get('has_errors') else 'passed'}"
          if data["verification"] else f"{'verification':<16} -")
    for finding in data["findings"]:
        print(f"  {finding['severity'].upper():<7} {finding['code']}: {finding['message']}")
    print("History:")
    for event in events:
        detail = ", ".join(f"{k}={v}" for k, v in event.detail.items())
        print(f"  {event.to_dict()['at']}  {event.state or event.kind:<22} {detail}")
    return EXIT_OK


def _decide(args: argparse.Namespace, ledger: Any) -> int:
    from ..service.review import approve, reject

    reviewer = args.reviewer or getpass.getuser()
    decide = approve if args.action == "approve" else reject
    job = decide(ledger, args.job, reviewer, comment=args.comment)
    if args.json:
        print_json({"schema": SCHEMA, "job": job.to_dict()})
    else:
        print(f"Job {job.id}: {job.state.value} by {reviewer}.")
    return EXIT_OK
