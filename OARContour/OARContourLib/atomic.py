"""Nothing half-written: files and folders are built under a temporary name, then renamed into place."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import InputError

logger = logging.getLogger(__name__)

#: When this process started: staging left by an earlier (killed) run is older than this.
PROCESS_STARTED = time.time()


def staging_folder(target: Path) -> Path:
    """A new empty staging folder beside ``target``, ``.<name>.<random>.partial``, with ordinary permissions.

    Staging folders and temporary files an earlier run left behind for the same target (killed
    before it could clean up) are removed first.
    """
    remove_stale_staging(target)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it owner-only; the result should be readable like any other
    return staging


def remove_stale_staging(target: Path) -> list[Path]:
    """Remove our own leftovers for ``target``: ``.<name>.*.partial``/``.old`` folders and ``.<name>.*.tmp``
    files (the names :func:`staging_folder` and :func:`write_file` make) older than this process.

    Returns the removed paths. Anything else, and anything a concurrent run is writing now, is kept.
    """
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}(\.partial|\.old|\.tmp|\.seg\.nrrd)")
    removed: list[Path] = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            if _last_change(entry) >= PROCESS_STARTED:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError as exc:
            logger.debug("Could not remove leftover %s: %s", entry, exc)
            continue
        logger.info("Removed %s, left behind by an earlier run that was stopped", entry.name)
        removed.append(entry)
    return removed


def os_error_at(exc: OSError, path: Path) -> OSError:
    """``exc`` as a plain OSError naming ``path``, with its errno even when a library wrapped it in text
    (pydicom re-raises write errors as ``OSError("With tag ... got exception: [Errno 28] ...\\nTraceback...")``)."""
    if exc.filename is not None and exc.errno is not None:
        return exc
    number, reason = exc.errno, exc.strerror
    found = re.search(r"\[Errno (\d+)\] ([^\n]*)", str(exc))
    if number is None and found:
        number, reason = int(found.group(1)), found.group(2).strip()
    if number is None:
        return exc
    return OSError(number, reason or os.strerror(number), str(path))


def _last_change(entry: Path) -> float:
    """Newest modification time of ``entry`` and, for a folder, of what it holds directly (a run still
    writing into ``staging/ct/`` touches ``ct`` but not the staging folder itself)."""
    times = [entry.lstat().st_mtime]
    if entry.is_dir() and not entry.is_symlink():
        times += [child.lstat().st_mtime for child in entry.iterdir()]
    return max(times)


def publish_folder(staging: Path, target: Path, overwrite: bool = True) -> None:
    """Move a finished staging folder to ``target``; an old ``target`` is removed only after the swap.

    Raises
    ------
    InputError
        ``target`` filled up meanwhile and ``overwrite`` is False.
    """
    if not target.exists():
        staging.rename(target)
        return
    if any(target.iterdir()) and not overwrite:  # checked by callers before; re-checked in case it filled
        raise InputError(f"Output folder {target} is not empty.", hint="Pass --overwrite to replace it.")
    retired = staging.with_name(staging.name.replace(".partial", "") + ".old")
    target.rename(retired)
    try:
        staging.rename(target)
    except OSError:
        retired.rename(target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def write_file(target: Path, write: Callable[[Path], None], suffix: str = ".tmp") -> None:
    """Call ``write(temporary_path)`` beside ``target``, then rename the result onto ``target``.

    The temporary file gets ordinary permissions (``mkstemp`` makes it owner-only), and is removed
    if writing fails, so ``target`` is either the old file or the complete new one.
    """
    remove_stale_staging(target)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        temporary.chmod(0o666 & ~umask)
        write(temporary)
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise os_error_at(exc, target) from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_json(target: Path, data: Any) -> None:
    """Write ``data`` as indented JSON (UTF-8), atomically; values JSON cannot hold become strings."""
    text = json.dumps(data, indent=2, default=str)

    def write(temporary: Path) -> None:
        temporary.write_text(text, encoding="utf-8")

    write_file(target, write)
