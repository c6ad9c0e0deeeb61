"""Contouring presets of the Edit section: display windows, threshold ranges and Segment Editor effects.

The presets are tables under ``Resources/Editor/`` (house rule: tables are data files), read with the
naming tables' reader (:func:`~OARContourLib.naming.table_files.read_table`) and checked cell by cell
on first use:

* ``intensity_presets.csv``: the usual radiotherapy planning windows (soft tissue W400/L40, lung
  W1500/L-600, bone W1800/L400) and Threshold ranges in HU, meant as a start for the Threshold
  effect's preview, never applied without a person looking at them;
* ``effect_presets.csv``: Segment Editor effects with fixed parameters; effect names and parameter
  keys are those of Slicer's Segment Editor effects (``setActiveEffectByName`` / ``setParameter``).

A malformed row raises :class:`~OARContourLib.errors.OARContourError` (code ``BAD_RESOURCE``) naming
the file, the line and the column.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..naming.table_files import TableFile, TableRow, file_error, parse_choice, read_table
from ..resources import resource_path

INTENSITY_FILE = "Editor/intensity_presets.csv"
EFFECT_FILE = "Editor/effect_presets.csv"
INTENSITY_COLUMNS = ("id", "label", "window_hu", "level_hu", "threshold_min_hu", "threshold_max_hu")
EFFECT_COLUMNS = ("id", "label", "effect_name", "parameters", "needs_preview")
#: Preset ids: what the panel's button tables (``*_PRESET_BUTTONS`` in ``OARContour.py``) name.
_PRESET_ID = re.compile(r"[a-z][a-z0-9_]*")
#: Segment Editor parameter names are CamelCase identifiers (``MinimumSize``, ``KernelSizeMm``).
_PARAMETER_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]*")


@dataclass(frozen=True)
class IntensityPreset:
    """A display window and the matching threshold range for one tissue class."""

    id: str
    label: str
    window_hu: float
    level_hu: float
    threshold_min_hu: float
    threshold_max_hu: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "window_hu": self.window_hu, "level_hu": self.level_hu,
                "threshold_min_hu": self.threshold_min_hu, "threshold_max_hu": self.threshold_max_hu}


@dataclass(frozen=True)
class EffectPreset:
    """A Segment Editor effect with fixed parameters, applied to the selected segment in one click.

    ``needs_preview``: auto-complete effects (Fill between slices) compute a preview before Apply.
    """

    id: str
    label: str
    effect_name: str
    parameters: tuple[tuple[str, str], ...]
    needs_preview: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "effect_name": self.effect_name,
                "parameters": dict(self.parameters), "needs_preview": self.needs_preview}


EDITOR_NODE_TAG = "OARContour"
#: Set on the editor node once its RT defaults are applied (saved with the scene, dropped by a scene close).
RT_DEFAULTS_ATTRIBUTE = "OARContour.RTDefaults"
#: ``vtkMRMLSegmentationNode.EditAllowedEverywhere``.
PAINT_ALLOWED_EVERYWHERE = 0


@lru_cache(maxsize=4)
def intensity_presets(path: str | Path | None = None) -> tuple[IntensityPreset, ...]:
    """The intensity presets of ``intensity_presets.csv``, in file order.

    Parameters
    ----------
    path
        A CSV file with the columns of :data:`INTENSITY_COLUMNS`; default the packaged table.

    Raises
    ------
    OARContourError
        ``BAD_RESOURCE``: the file is missing or has no rows, or a row has an empty or repeated id, a
        cell that is not a number, ``window_hu <= 0`` or ``threshold_min_hu >= threshold_max_hu``.
    """
    table = read_table(Path(path) if path else resource_path(INTENSITY_FILE), INTENSITY_COLUMNS)
    return _unique(table, [_intensity_row(row) for row in table.rows])


@lru_cache(maxsize=4)
def effect_presets(path: str | Path | None = None) -> tuple[EffectPreset, ...]:
    """The effect presets of ``effect_presets.csv``, in file order.

    Parameters
    ----------
    path
        A CSV file with the columns of :data:`EFFECT_COLUMNS`; default the packaged table.

    Raises
    ------
    OARContourError
        ``BAD_RESOURCE``: the file is missing or has no rows, or a row has an empty or repeated id, no
        effect name, parameters that are not ``Key=value`` pairs, or ``needs_preview`` not yes/no.
    """
    table = read_table(Path(path) if path else resource_path(EFFECT_FILE), EFFECT_COLUMNS)
    return _unique(table, [_effect_row(row) for row in table.rows])


def intensity_preset(preset_id: str) -> IntensityPreset:
    """The preset with this id.

    Raises
    ------
    InputError
        Unknown id (the message lists the known ones).
    """
    return _by_id(intensity_presets(), preset_id, "intensity")


def effect_preset(preset_id: str) -> EffectPreset:
    """The effect preset with this id.

    Raises
    ------
    InputError
        Unknown id (the message lists the known ones).
    """
    return _by_id(effect_presets(), preset_id, "effect")


def apply_window(volume_node: Any, preset: IntensityPreset) -> None:
    """Show ``volume_node`` with the preset's window and level (automatic window/level off)."""
    display = volume_node.GetDisplayNode()
    if display is None:
        volume_node.CreateDefaultDisplayNodes()
        display = volume_node.GetDisplayNode()
    display.AutoWindowLevelOff()
    display.SetWindowLevel(preset.window_hu, preset.level_hu)


def segment_editor_node(scene: Any, segmentation_node: Any = None, ct_node: Any = None) -> Any:
    """The panel's Segment Editor node (a scene singleton), set up for RT structures once.

    Overwrite mode "none": RT structures overlap (a PRV contains its organ, Lungs contains Lung_L),
    and the editor's default would erase the overlap from the other segments; editing allowed
    everywhere. Both are set once per node, marked by :data:`RT_DEFAULTS_ATTRIBUTE`, so a mode the
    user picks later stays. Closing the scene resets the kept singleton to the editor's defaults and
    drops the mark, so they are set again then. The CT is the source volume so that thresholds read HU.
    """
    node = scene.GetSingletonNode(EDITOR_NODE_TAG, "vtkMRMLSegmentEditorNode")
    if node is None:
        node = scene.CreateNodeByClass("vtkMRMLSegmentEditorNode")
        node.UnRegister(None)  # CreateNodeByClass returns a reference Python already holds
        # Tagged before AddNode, as Slicer's Segment Editor does: AddNode then gives the singleton ID
        # and merges into an existing singleton instead of adding a second node.
        node.SetSingletonTag(EDITOR_NODE_TAG)
        node.SetName("OARContour Segment Editor")
        node = scene.AddNode(node)
    if node.GetAttribute(RT_DEFAULTS_ATTRIBUTE) is None:
        node.SetOverwriteMode(node.OverwriteNone)
        node.SetMaskMode(PAINT_ALLOWED_EVERYWHERE)
        node.SetAttribute(RT_DEFAULTS_ATTRIBUTE, "1")
    if segmentation_node is not None:
        node.SetAndObserveSegmentationNode(segmentation_node)
    if ct_node is not None:
        node.SetAndObserveSourceVolumeNode(ct_node)
    return node


def _by_id(presets: tuple[Any, ...], preset_id: str, kind: str) -> Any:
    for preset in presets:
        if preset.id == preset_id:
            return preset
    raise InputError(f"Unknown {kind} preset '{preset_id}'.",
                     hint=f"Use one of: {', '.join(p.id for p in presets)}.")


def _intensity_row(row: TableRow) -> IntensityPreset:
    window_hu, level_hu = _number(row, "window_hu"), _number(row, "level_hu")
    threshold_min_hu, threshold_max_hu = _number(row, "threshold_min_hu"), _number(row, "threshold_max_hu")
    if window_hu <= 0:
        raise row.error(f"column window_hu must be above 0, not {row['window_hu']!r}")
    if threshold_min_hu >= threshold_max_hu:
        raise row.error(f"column threshold_min_hu ({row['threshold_min_hu']}) must be below "
                        f"threshold_max_hu ({row['threshold_max_hu']})")
    return IntensityPreset(_preset_id(row), _filled(row, "label"), window_hu, level_hu, threshold_min_hu,
                           threshold_max_hu)


def _effect_row(row: TableRow) -> EffectPreset:
    needs_preview = parse_choice(row, "needs_preview", ("yes", "no")) == "yes"
    return EffectPreset(_preset_id(row), _filled(row, "label"), _filled(row, "effect_name"), _parameters(row),
                        needs_preview)


def _preset_id(row: TableRow) -> str:
    if not _PRESET_ID.fullmatch(row["id"]):
        raise row.error(f"column id {row['id']!r} must be lower-case letters, digits and _ (starting with a letter)")
    return row["id"]


def _filled(row: TableRow, column: str) -> str:
    if not row[column]:
        raise row.error(f"column {column} is empty")
    return row[column]


def _number(row: TableRow, column: str) -> float:
    try:
        value = float(row[column])
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise row.error(f"column {column} must be a number (HU), not {row[column]!r}")
    return value


def _parameters(row: TableRow) -> tuple[tuple[str, str], ...]:
    """``Key=value;Key=value`` → pairs in file order (the order ``setParameter`` is called in)."""
    pairs: list[tuple[str, str]] = []
    for item in row["parameters"].split(";") if row["parameters"] else ():
        key, separator, value = item.partition("=")
        if not separator or not _PARAMETER_KEY.fullmatch(key) or not value or value != value.strip():
            raise row.error(f"column parameters: {item!r} is not Key=value (pairs separated by ';')")
        if key in dict(pairs):
            raise row.error(f"column parameters: {key} is set twice")
        pairs.append((key, value))
    return tuple(pairs)


def _unique(table: TableFile, presets: list[Any]) -> tuple[Any, ...]:
    if not presets:
        raise file_error(table.name, "no presets (a header row and no data rows)")
    seen: set[str] = set()
    for row, preset in zip(table.rows, presets):
        if preset.id in seen:
            raise row.error(f"column id {preset.id!r} is used by an earlier row")
        seen.add(preset.id)
    return tuple(presets)
