"""Read the CSV data files under Resources: a provenance header, then rows checked cell by cell.

The one reader of the naming tables (``Resources/Naming``) and the editor presets (``Resources/Editor``,
:mod:`OARContourLib.logic.editor_presets`). Every such file starts with ``#`` comment lines that name
the source and the licence (``# source: ...; licence: ...``), then a header row, then data rows. A
problem is reported as an :class:`~OARContourLib.errors.OARContourError` with code ``BAD_RESOURCE``
that names the file and the line a user opens in an editor, so a site that edits a table can find
its mistake.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import OARContourError

BAD_RESOURCE = "BAD_RESOURCE"
HINT = "Fix the row (see the column rules in the file's comment lines) or restore the file shipped with OARContour."


@dataclass(frozen=True)
class TableRow:
    """One data row: the file's name, the 1-based line number and the cells by column."""

    file: str
    line: int
    cells: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.cells[column]

    def error(self, problem: str) -> OARContourError:
        """An error that points at this row."""
        return OARContourError(f"{self.file}, line {self.line}: {problem}", hint=HINT, code=BAD_RESOURCE)


@dataclass(frozen=True)
class TableFile:
    """A parsed data file: its comment lines (provenance) and its rows."""

    name: str
    comments: tuple[str, ...]
    columns: tuple[str, ...]
    rows: tuple[TableRow, ...]


def file_error(file: str, problem: str, line: int | None = None) -> OARContourError:
    """An error about a whole file, or about one line of it that is not yet a row."""
    where = f"{file}, line {line}" if line is not None else file
    return OARContourError(f"{where}: {problem}", hint=HINT, code=BAD_RESOURCE)


def read_table(path: Path, columns: Sequence[str]) -> TableFile:
    """Read one CSV data file and check its provenance lines, header and cell layout.

    Parameters
    ----------
    path
        The CSV file.
    columns
        Columns the file must have (it may have more, e.g. a site's own notes).

    Returns
    -------
    TableFile
        Rows keep the physical line number for error messages.

    Raises
    ------
    OARContourError
        ``BAD_RESOURCE`` when the file is missing, not UTF-8, lacks the source/licence lines or a
        column, or a row has the wrong number of cells or cells with surrounding spaces.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise file_error(path.name, f"file not found in {path.parent}") from exc
    except UnicodeDecodeError as exc:
        raise file_error(path.name, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    comments = tuple(line[1:].strip() for line in _leading_comments(lines))
    _check_provenance(path.name, comments)
    first = len(comments)
    reader = csv.reader(lines[first:])
    header = tuple(next(reader, []))
    missing = [c for c in columns if c not in header]
    if missing:
        raise file_error(path.name, f"header lacks column(s) {', '.join(missing)}", first + 1)
    rows = tuple(_rows(path.name, header, reader, first))
    return TableFile(path.name, comments, header, rows)


def _leading_comments(lines: list[str]) -> Iterable[str]:
    for line in lines:
        if not line.startswith("#"):
            return
        yield line


def _check_provenance(file: str, comments: tuple[str, ...]) -> None:
    text = " ".join(comments).lower()
    if "source:" not in text or "licence:" not in text:
        raise file_error(file, "the leading '#' lines must name the source ('source: ...') and the licence ('licence: ...')")


def _rows(file: str, header: tuple[str, ...], reader: Iterable[list[str]], offset: int) -> Iterable[TableRow]:
    for index, cells in enumerate(reader, start=2):
        line = offset + index
        if not cells:
            continue
        if len(cells) != len(header):
            raise file_error(file, f"{len(cells)} cells, the header has {len(header)}", line)
        for column, value in zip(header, cells):
            if value != value.strip():
                raise file_error(file, f"column {column} has leading or trailing spaces ({value!r})", line)
        yield TableRow(file, line, dict(zip(header, cells)))


def parse_rgb(row: TableRow, columns: Sequence[str] = ("color_r", "color_g", "color_b")) -> tuple[int, int, int]:
    """Three integer cells 0-255 as an RGB tuple."""
    values = []
    for column in columns:
        text = row[column]
        if not text.isdigit() or int(text) > 255:
            raise row.error(f"{column} must be an integer 0-255, not {text!r}")
        values.append(int(text))
    return values[0], values[1], values[2]


def parse_choice(row: TableRow, column: str, allowed: Iterable[str]) -> str:
    """A cell from a closed vocabulary."""
    options = tuple(allowed)
    value = row[column]
    if value not in options:
        raise row.error(f"{column} {value!r} is not one of: {', '.join(options)}")
    return value
