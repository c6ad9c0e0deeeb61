"""``oarcontour node --config node.toml``: run the DICOM node in the foreground until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from ..errors import InputError
from .exit_codes import EXIT_INTERRUPTED, EXIT_OK


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "node", help="run the DICOM node: receive CT, contour, hold for review, send RTSTRUCT",
        description="A DICOM Storage SCP/SCU: CT series received from the allowed callers are contoured by the "
                    "same pipeline as `oarcontour run`, gated for review and sent to the destination. Runs in the "
                    "foreground, logs to stderr (never patient names or IDs), stops cleanly on SIGTERM or Ctrl-C; "
                    "unfinished jobs resume on the next start. Needs the `service` extra (pynetdicom).")
    parser.add_argument("--config", required=True, metavar="NODE_TOML", help="node configuration (see README)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..service.config import load_config

    config = load_config(args.config)
    _require_pynetdicom()
    from ..service.node import Node

    if not args.quiet:
        logging.getLogger("OARContourLib").setLevel(logging.DEBUG if args.verbose or args.debug else logging.INFO)
    # pynetdicom's debug output describes every message; keep it to warnings unless --debug.
    logging.getLogger("pynetdicom").setLevel(logging.DEBUG if args.debug else logging.WARNING)
    node = Node(config)
    received: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        node.request_stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        node.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_INTERRUPTED if signal.SIGINT in received else EXIT_OK


def _require_pynetdicom() -> None:
    try:
        import pynetdicom  # noqa: F401
    except ImportError as exc:
        raise InputError("The DICOM node needs pynetdicom, which is not installed.",
                         hint=f'Install the service extra: {sys.executable} -m pip install "oarcontour[service]"') from exc
