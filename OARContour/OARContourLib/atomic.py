"""Nothing half-written: outputs are built under a temporary name and moved into place at the end."""

from __future__ import annotations

import shutil
from pathlib import Path

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
