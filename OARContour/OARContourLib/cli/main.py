"""Entry point of the ``oarcontour`` command: parse, dispatch, map errors to exit codes."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import CancelledError, EngineError, OARContourError
from . import (
    autoseg,
    compare,
    convert,
    deidentify,
    demo,
    derive,
    export,
    inspect_ct,
    jobs,
    names,
    node,
    phantom,
    reidentify,
    report,
    rules,
    verify,
    worker,
)
from . import run as run_batch
from .exit_codes import EXIT_BAD_INPUT, EXIT_ENGINE, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK
from .output import one_line, os_error_message

logger = logging.getLogger(__name__)

SUBCOMMANDS = (inspect_ct, export, verify, names, convert, derive, phantom, demo, autoseg, report, compare, node, jobs,
               run_batch, worker, deidentify, reidentify, rules)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oarcontour",
        description="Organ-at-risk contouring for radiotherapy: inspect CT series, contour, name, export RTSTRUCT.",
    )
    parser.add_argument("--version", action="version", version=f"oarcontour {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    parser.add_argument("-q", "--quiet", action="store_true", help="log only errors; no progress bar")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see README: 0, 1, 2, 3, 4, 130)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 for --help
        return int(exc.code or 0)
    _configure_logging(args)
    _tolerate_undecodable_paths()
    if not args.command:
        parser.print_usage(sys.stderr)
        print("oarcontour: error: a command is required", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return int(args.run(args))
    except BrokenPipeError:
        # Output piped into e.g. `head`, which closed early: not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("oarcontour: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except CancelledError as exc:
        print(f"oarcontour: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except EngineError as exc:  # TotalSegmentator crashed or was killed: not bad input, not our bug
        return _fail(args, str(exc), EXIT_ENGINE)
    except OARContourError as exc:  # InputError and every refusal before anything is written
        return _fail(args, str(exc), EXIT_BAD_INPUT)
    except OSError as exc:  # permission, read-only or full disk, name too long, a folder for a file
        return _fail(args, os_error_message(exc), EXIT_BAD_INPUT)
    except MemoryError:
        return _fail(args, "not enough memory for this input (declared image sizes are checked first; "
                     "free memory or use a smaller input)", EXIT_BAD_INPUT)
    except Exception as exc:  # the last line of defence: no traceback unless --debug
        if args.debug:
            raise
        return _fail(args, f"internal error: {type(exc).__name__}: {exc} (run again with --debug and report it)",
                     EXIT_INTERNAL, prefix="oarcontour: ")


def _fail(args: argparse.Namespace, message: str, code: int, prefix: str = "oarcontour: error: ") -> int:
    if args.debug:
        logger.exception("error")
    print(one_line(f"{prefix}{message}"), file=sys.stderr)
    return code


def _tolerate_undecodable_paths() -> None:
    """Print paths with bytes that are not UTF-8 (``\\udcff`` in Python) escaped instead of failing."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a stream that cannot change its error handler
                pass


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.ERROR if args.quiet else logging.DEBUG if args.verbose or args.debug else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    # pydicom logs every vendor VR quirk it reads; our own findings report what matters.
    # Its decoders also log each failure with a traceback; we report the failure ourselves, in one line.
    logging.getLogger("pydicom").setLevel(logging.DEBUG if args.verbose or args.debug else logging.CRITICAL)


def entry_point() -> None:
    """Console-script wrapper: exit with :func:`main`'s code."""
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
