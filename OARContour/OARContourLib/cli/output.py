"""Writing results: JSON documents to stdout, a terminal progress bar on stderr."""

from __future__ import annotations

import errno
import json
import re
import sys
import time
from typing import Any

from ..progress import ProgressCallback


def print_json(document: dict[str, Any]) -> None:
    json.dump(document, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")

#: What to do about each operating-system error a user can cause.
_OS_HINTS = {
    errno.ENOSPC: "the disk is full: free space or write elsewhere",
    errno.EFBIG: "the file is larger than allowed here: free space or write elsewhere",
    errno.EDQUOT: "the disk quota is used up: free space or write elsewhere",
    errno.EACCES: "check the permissions, or write elsewhere",
    errno.EPERM: "check the permissions, or write elsewhere",
    errno.EROFS: "the file system is read-only: write elsewhere",
    errno.ENAMETOOLONG: "choose a shorter name",
    errno.EISDIR: "give a file, not a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ENOENT: "check the path",
}


def one_line(text: str) -> str:
    """``text`` on one line: newlines and other control characters are shown escaped (``\\n``)."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def os_error_message(exc: OSError) -> str:
    """One line naming the file and the problem, e.g. ``/out/RS.dcm: No space left on device (the disk is full ...)``."""
    where = " -> ".join(str(name) for name in (exc.filename, exc.filename2) if name is not None)
    reason = exc.strerror or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    hint = _OS_HINTS.get(exc.errno or 0)
    return f"{where + ': ' if where else ''}{reason}{f' ({hint})' if hint else ''}"


def terminal_progress(enabled: bool) -> ProgressCallback | None:
    """A one-line progress bar on stderr when it is a terminal; None otherwise (no tqdm in the core)."""
    if not enabled or not sys.stderr.isatty():
        return None
    started = time.perf_counter()

    def show(fraction: float, message: str) -> bool:
        filled = int(fraction * 30)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%} {message[:60]:<60}")
        if fraction >= 1.0:
            sys.stderr.write(f"\r{' ' * 100}\r")
        sys.stderr.flush()
        return False

    show.started = started  # type: ignore[attr-defined]
    return show
