"""Where a command may write: one check every command makes before it writes anything.

An output must never be, or lie inside, one of the command's inputs (compared as real paths, after
symlinks), must not be a folder when a file is written (or a file when a folder is), must fit the
file system's name length, and its folder must exist and be writable. Each refusal is an
:class:`~.errors.InputError` (exit 2), raised before any work is done.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable
from pathlib import Path

from .errors import InputError

#: Longest file name (one path component, in bytes) on the file systems we meet (ext4, XFS, APFS, NTFS).
NAME_MAX = 255


class OutputKind(str, enum.Enum):
    FILE = "file"
    FOLDER = "folder"


def check_output(out: str | os.PathLike[str] | None, inputs: Iterable[str | os.PathLike[str] | None] = (), *,
                 kind: OutputKind = OutputKind.FILE, overwrite: bool = False) -> Path:
    """The absolute output path, after refusing every output that could damage an input.

    Parameters
    ----------
    out
        The output the user named.
    inputs
        Every file or folder the command reads (None entries are ignored).
    kind
        Whether a file or a folder is written.
    overwrite
        Whether an existing file (or non-empty folder) may be replaced.

    Raises
    ------
    InputError
        The output is (or is inside, or for a folder contains) an input; is a folder for a file
        (or a file for a folder); exists without ``overwrite``; has a component longer than
        :data:`NAME_MAX` bytes; or its parent folder is missing or not writable.
    """
    if out is None or not str(out).strip():
        raise InputError("No output path was given.", hint="Pass --out.")
    path = Path(out).expanduser().absolute()
    _check_name_lengths(path)
    real = Path(os.path.realpath(path))
    for source in (Path(s).expanduser() for s in inputs if s is not None and str(s).strip()):
        _check_apart(path, real, source, kind)
    if kind is OutputKind.FILE:
        _check_file_target(path, real, overwrite)
    else:
        _check_folder_target(path, real, overwrite)
    return path


def _check_name_lengths(path: Path) -> None:
    for part in path.parts[1:]:
        if len(os.fsencode(part)) > NAME_MAX:
            raise InputError(f"Output name too long ({len(os.fsencode(part))} bytes, at most {NAME_MAX}): "
                             f"{part[:40]}...", hint="Choose a shorter output name.")


def _check_apart(path: Path, real: Path, source: Path, kind: OutputKind) -> None:
    source_real = Path(os.path.realpath(source))
    if real == source_real:
        raise InputError(f"Output {path} is the input file {source}: writing would overwrite the input.",
                         hint="Choose another output; inputs are never modified.")
    if real.is_relative_to(source_real) and source_real.is_dir():
        raise InputError(f"Output {path} is inside the input folder {source}.",
                         hint="Write outside the input folders; inputs are never modified.")
    if kind is OutputKind.FOLDER and source_real.is_relative_to(real):
        raise InputError(f"Output folder {path} holds the input {source}.",
                         hint="Choose an output folder apart from the inputs; they are never modified.")


def _check_file_target(path: Path, real: Path, overwrite: bool) -> None:
    if real.is_dir():
        raise InputError(f"Output {path} is a folder.", hint="Give the path of the file to write.")
    if real.exists() and not overwrite:
        raise InputError(f"Output {path} exists.", hint="Pass --overwrite to replace it, or choose another name.")
    if real.exists() and not real.is_file():
        raise InputError(f"Output {path} is not a regular file.", hint="Choose another output name.")
    _check_parent(path, real)


def check_apart_from_inputs(out: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str] | None],
                            kind: OutputKind = OutputKind.FOLDER) -> Path:
    """The absolute output path, refused only when it is, lies inside or holds an input (or its name is
    too long): for commands that add files to a folder they keep using (``run --out``), where the
    overwrite and working-folder rules of :func:`check_output` do not apply."""
    path = Path(out).expanduser().absolute()
    _check_name_lengths(path)
    real = Path(os.path.realpath(path))
    for source in (Path(s).expanduser() for s in inputs if s is not None and str(s).strip()):
        _check_apart(path, real, source, kind)
    return path


def _check_folder_target(path: Path, real: Path, overwrite: bool) -> None:
    if real.exists() and not real.is_dir():
        raise InputError(f"Output {path} is a file, not a folder.", hint="Choose a folder for --out.")
    if real.is_dir() and not overwrite and any(real.iterdir()):
        raise InputError(f"Output folder {path} is not empty.", hint="Choose a new or empty folder, or pass --overwrite.")
    if real.is_dir() and overwrite and (real == Path(real.anchor) or real == Path.home().resolve()
                                        or Path.cwd().resolve().is_relative_to(real)):
        raise InputError(f"Refusing to replace {path}: it is a root, home or working folder.",
                         hint="Choose a dedicated output folder.")
    # Folders are built beside the target (a staging folder in its parent), so the parent must be writable.
    existing = next((p for p in real.parents if p.exists()), Path(real.anchor))
    if not existing.is_dir():
        raise InputError(f"Cannot create {path}: {existing} is a file.", hint="Choose another output folder.")
    _check_writable(existing, path)


def _check_parent(path: Path, real: Path) -> None:
    parent = real.parent
    if not parent.is_dir():
        raise InputError(f"Output folder {path.parent} does not exist.", hint="Create it first.")
    _check_writable(parent, path)


def _check_writable(folder: Path, path: Path) -> None:
    # access(2) also reports a read-only file system (EROFS) as not writable.
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"Cannot write {path}: folder {folder} is not writable (permission denied or "
                         "read-only file system).", hint="Choose an output folder you may write to.")
