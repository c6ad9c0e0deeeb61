"""The Edit section's presets come from ``Resources/Editor/*.csv``, checked row by row when read."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from OARContourLib.errors import OARContourError
from OARContourLib.logic.editor_presets import (
    EFFECT_FILE,
    INTENSITY_FILE,
    effect_presets,
    intensity_presets,
)
from OARContourLib.resources import resource_path


def data_rows(relative: str) -> list[dict[str, str]]:
    """The packaged table read with the csv module alone (comment lines dropped)."""
    lines = resource_path(relative).read_text(encoding="utf-8").splitlines()
    return list(csv.DictReader(line for line in lines if not line.startswith("#")))


def edited_copy(tmp_path: Path, relative: str, preset_id: str, column: str, value: str) -> tuple[Path, int]:
    """A copy of the packaged table with one cell changed; returns the copy and the edited line's number."""
    lines = resource_path(relative).read_text(encoding="utf-8").splitlines()
    header_index = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    header = next(csv.reader([lines[header_index]]))
    for index in range(header_index + 1, len(lines)):
        cells = next(csv.reader([lines[index]]))
        if cells[0] == preset_id:
            cells[header.index(column)] = value
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="").writerow(cells)
            lines[index] = buffer.getvalue()
            target = tmp_path / Path(relative).name
            target.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return target, index + 1
    raise AssertionError(f"no row {preset_id} in {relative}")


def test_intensity_presets_are_the_rows_of_the_table_and_plausible() -> None:
    rows = data_rows(INTENSITY_FILE)
    presets = intensity_presets()
    assert [p.id for p in presets] == [row["id"] for row in rows]
    assert len({p.id for p in presets}) == len(presets) >= 3
    for preset in presets:
        assert preset.label and preset.window_hu > 0, preset
        assert -1024 <= preset.threshold_min_hu < preset.threshold_max_hu <= 3071, preset
        # A threshold range a person can see in the window it comes with.
        assert preset.level_hu - preset.window_hu / 2 <= preset.threshold_max_hu, preset
        assert preset.threshold_min_hu <= preset.level_hu + preset.window_hu / 2, preset


def test_effect_presets_are_the_rows_of_the_table() -> None:
    rows = data_rows(EFFECT_FILE)
    presets = effect_presets()
    assert [(p.id, p.effect_name) for p in presets] == [(row["id"], row["effect_name"]) for row in rows]
    for preset, row in zip(presets, rows):
        assert preset.parameters and ";".join(f"{k}={v}" for k, v in preset.parameters) == row["parameters"]
        assert preset.needs_preview is (row["needs_preview"] == "yes")
        assert preset.to_dict()["parameters"] == dict(preset.parameters)


@pytest.mark.parametrize("relative, preset_id, column, value, problem", [
    (INTENSITY_FILE, "lung", "window_hu", "0", "column window_hu must be above 0, not '0'"),
    (INTENSITY_FILE, "lung", "window_hu", "wide", "column window_hu must be a number (HU), not 'wide'"),
    (INTENSITY_FILE, "bone", "level_hu", "nan", "column level_hu must be a number (HU), not 'nan'"),
    (INTENSITY_FILE, "bone", "threshold_min_hu", "3071", "column threshold_min_hu (3071) must be below threshold_max_hu"),
    (INTENSITY_FILE, "bone", "id", "lung", "column id 'lung' is used by an earlier row"),
    (INTENSITY_FILE, "soft_tissue", "id", "Soft tissue", "column id 'Soft tissue' must be lower-case"),
    (INTENSITY_FILE, "soft_tissue", "label", "", "column label is empty"),
    (EFFECT_FILE, "smoothing", "parameters", "SmoothingMethod MEDIAN", "column parameters: 'SmoothingMethod MEDIAN' is not Key=value"),
    (EFFECT_FILE, "smoothing", "parameters", "KernelSizeMm=3;KernelSizeMm=5", "column parameters: KernelSizeMm is set twice"),
    (EFFECT_FILE, "fill_between_slices", "needs_preview", "true", "needs_preview 'true' is not one of: yes, no"),
    (EFFECT_FILE, "remove_islands", "effect_name", "", "column effect_name is empty"),
])
def test_a_malformed_row_names_file_line_and_column(tmp_path: Path, relative: str, preset_id: str, column: str,
                                                    value: str, problem: str) -> None:
    copy, line = edited_copy(tmp_path, relative, preset_id, column, value)
    load = intensity_presets if relative == INTENSITY_FILE else effect_presets
    with pytest.raises(OARContourError, match=f"^{copy.name}, line {line}: ") as raised:
        load(str(copy))
    assert problem in raised.value.message and raised.value.code == "BAD_RESOURCE" and raised.value.hint


def test_a_table_without_a_column_or_rows_is_refused(tmp_path: Path) -> None:
    lines = resource_path(INTENSITY_FILE).read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    no_column = tmp_path / "no_column.csv"
    no_column.write_text("\n".join([*lines[:header], lines[header].replace("window_hu,", "")]) + "\n", encoding="utf-8")
    with pytest.raises(OARContourError, match=f"no_column.csv, line {header + 1}: header lacks column\\(s\\) window_hu"):
        intensity_presets(str(no_column))
    no_rows = tmp_path / "no_rows.csv"
    no_rows.write_text("\n".join(lines[:header + 1]) + "\n", encoding="utf-8")
    with pytest.raises(OARContourError, match="no_rows.csv: no presets"):
        intensity_presets(str(no_rows))
