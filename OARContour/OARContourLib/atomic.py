"""Nothing half-written: files and folders are built under a temporary name, then renamed into place."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import InputError


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
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        temporary.chmod(0o666 & ~umask)
        write(temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_json(target: Path, data: Any) -> None:
    """Write ``data`` as indented JSON (UTF-8), atomically; values JSON cannot hold become strings."""
    text = json.dumps(data, indent=2, default=str)

    def write(temporary: Path) -> None:
        temporary.write_text(text, encoding="utf-8")

    write_file(target, write)
