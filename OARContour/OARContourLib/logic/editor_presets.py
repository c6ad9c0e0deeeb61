"""Contouring presets of the Edit section: display windows, threshold ranges and Segment Editor effects.

The window/level values are the usual radiotherapy planning windows (soft tissue W400/L40, lung
W1500/L-600, bone W1800/L400). Threshold ranges are in HU and meant as a start for the Threshold
effect's preview, never applied without a person looking at them. Effect names and parameter keys
are those of Slicer's Segment Editor effects (``setActiveEffectByName`` / ``setParameter``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InputError


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

INTENSITY_PRESETS = (
    IntensityPreset("soft_tissue", "Soft tissue", 400.0, 40.0, -160.0, 240.0),
    # Aerated lung; the upper bound stops short of vessels and soft tissue.
    IntensityPreset("lung", "Lung", 1500.0, -600.0, -1000.0, -400.0),
    # Cortical and most cancellous bone; contrast-filled vessels can reach the lower bound.
    IntensityPreset("bone", "Bone", 1800.0, 400.0, 200.0, 3071.0),
)

EFFECT_PRESETS = (
    # 1000 voxels is about 1 cc on a 1 × 1 × 1 mm grid: stray voxels, not anatomy.
    EffectPreset("remove_islands", "Remove small islands", "Islands",
                 (("Operation", "REMOVE_SMALL_ISLANDS"), ("MinimumSize", "1000"))),
    # Median keeps volume better than opening/closing, which matters for dose-volume statistics.
    EffectPreset("smoothing", "Smooth (median 3 mm)", "Smoothing",
                 (("SmoothingMethod", "MEDIAN"), ("KernelSizeMm", "3"), ("ApplyToAllVisibleSegments", "0"))),
    EffectPreset("fill_between_slices", "Fill between slices", "Fill between slices", (("AutoUpdate", "0"),),
                 needs_preview=True),
)


def intensity_preset(preset_id: str) -> IntensityPreset:
    """The preset with this id.

    Raises
    ------
    InputError
        Unknown id (the message lists the known ones).
    """
    return _by_id(INTENSITY_PRESETS, preset_id, "intensity")


def effect_preset(preset_id: str) -> EffectPreset:
    """The effect preset with this id.

    Raises
    ------
    InputError
        Unknown id (the message lists the known ones).
    """
    return _by_id(EFFECT_PRESETS, preset_id, "effect")


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
