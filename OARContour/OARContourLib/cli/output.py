"""Writing results: JSON documents to stdout, a terminal progress bar on stderr."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from ..progress import ProgressCallback


def print_json(document: dict[str, Any]) -> None:
    json.dump(document, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


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
