"""The steps of ``oarcontour demo``: the Slicer workflow driven through ``OARContourLogic`` headless.

Each step calls the same Logic method the panel's button (or a user in Slicer's Python console)
calls, on a slicer-core scene, and leaves a file behind to look at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_json
from ..mask_block import MaskBlock
from ..metrics import block_dice

#: Derived structures the demo adds to the automatic ones (a 5 mm PRV of the spinal canal).
DEMO_RECIPES = ("SpinalCanal:5",)
#: Phantom truth structures added as if drawn by hand, under the names (and colours) a user picked.
HAND_DRAWN = {"Heart": ("heart", (230, 60, 60)), "Esophagus": ("Oesophagus", (240, 160, 40)),
              "SpinalCord": ("Spinal Cord", (255, 255, 0))}
TEMPLATE = "Thorax"


@dataclass
class DemoScene:
    """The Logic and the nodes the steps share."""

    logic: Any
    ct_node: Any
    seg_node: Any = None


def load_with_logic(ct_dir: Path, out: Path) -> tuple[DemoScene, Path, list[int]]:
    """``OARContourLogic.loadCT`` on a headless scene; the CT is also saved as NRRD to look at."""
    from .. import headless  # imports slicer: only here, so the other commands run without it

    headless.setup()
    from ..logic import OARContourLogic

    logic = OARContourLogic()
    node = logic.loadCT(ct_dir)
    target = out / "scene" / "CT.nrrd"
    target.parent.mkdir(parents=True, exist_ok=True)
    storage = node.CreateDefaultStorageNode()
    storage.SetFileName(str(target))
    if not storage.WriteData(node):
        raise OSError(f"Could not write {target}.")
    return DemoScene(logic, node), target, list(node.GetImageData().GetDimensions())


def autocontour(scene: DemoScene, truth_dir: Path, out: Path) -> tuple[list[str], dict[str, float]]:
    """``autoSegment`` with the classical engine on the Thorax template; Dice against the phantom's truth."""
    scene.seg_node = scene.logic.autoSegment(scene.ct_node, engine="classical", template=TEMPLATE)
    names = _segment_names(scene)
    blocks = _segment_blocks(scene)
    accuracy = {name: round(block_dice(blocks[name], MaskBlock.of(_truth(truth_dir, name))), 4)
                for name in names if (truth_dir / f"{name}.nii.gz").is_file()}
    provenance = json.loads(scene.seg_node.GetAttribute("OARContour.Provenance") or "{}")
    write_json(out / "autoseg.json", {"structures": names, "dice_vs_truth": accuracy, "provenance": provenance})
    return names, accuracy


def add_hand_drawn(scene: DemoScene, truth_dir: Path) -> list[str]:
    """Add phantom truth structures under informal names, as a user drawing them in Slicer would."""
    from ..logic import segmentation_nodes
    from ..rtstruct.model import GenerationAlgorithm, Structure

    for truth_name, (typed_name, color) in HAND_DRAWN.items():
        mask = _truth(truth_dir, truth_name)
        drawn = Structure(typed_name, mask, color=color, algorithm=GenerationAlgorithm.MANUAL)
        segmentation_nodes.add_segment(scene.seg_node, scene.ct_node, drawn, mask)
    return [typed_name for typed_name, _ in HAND_DRAWN.values()]


def name_structures(scene: DemoScene, out: Path) -> list[dict[str, Any]]:
    """``applyNaming``: TG-263 names for the hand-drawn segments; the decisions are saved."""
    decisions = [d.to_dict() for d in scene.logic.applyNaming(scene.seg_node)]
    write_json(out / "names.json", decisions)
    return decisions


def derive(scene: DemoScene, out: Path) -> list[str]:
    """``deriveStructures``: the PRVs of :data:`DEMO_RECIPES`."""
    new_ids = scene.logic.deriveStructures(scene.seg_node, scene.ct_node, list(DEMO_RECIPES))
    segmentation = scene.seg_node.GetSegmentation()
    names = [segmentation.GetSegment(segment_id).GetName() for segment_id in new_ids]
    write_json(out / "derived.json", {"recipes": list(DEMO_RECIPES), "structures": names})
    return names


def check(scene: DemoScene, out: Path) -> list[dict[str, Any]]:
    """``check``: QA findings on the Thorax template (manual structures the engine cannot draw included)."""
    findings = [f.to_dict() for f in scene.logic.check(scene.seg_node, scene.ct_node, template=TEMPLATE)]
    write_json(out / "check.json", findings)
    return findings


def export_and_verify(scene: DemoScene, out: Path) -> Any:
    """``exportRTSTRUCT`` (builtin engine): the RTSTRUCT referencing the phantom CT, verified."""
    return scene.logic.exportRTSTRUCT(scene.seg_node, scene.ct_node, out, structureSetLabel="OARContourDemo",
                                      overwrite=True)


def review_report(scene: DemoScene, rtstruct: Path, out: Path) -> Path:
    """``writeReport``: the self-contained HTML review page of the exported RTSTRUCT."""
    target = out / "report.html"
    scene.logic.writeReport(rtstruct, scene.ct_node, target, template=TEMPLATE)
    return target


def _segment_names(scene: DemoScene) -> list[str]:
    segmentation = scene.seg_node.GetSegmentation()
    return [segmentation.GetNthSegment(n).GetName() for n in range(segmentation.GetNumberOfSegments())]


def _segment_blocks(scene: DemoScene) -> dict[str, MaskBlock]:
    """Segment name → its block on the CT grid (each shared labelmap layer read once)."""
    from ..logic import segmentation_nodes

    segmentation = scene.seg_node.GetSegmentation()
    return {segmentation.GetSegment(segment_id).GetName(): found for segment_id, found
            in segmentation_nodes.segment_blocks(scene.seg_node, scene.ct_node).items()}


def _truth(truth_dir: Path, name: str) -> np.ndarray:
    import SimpleITK as sitk

    return np.asarray(sitk.GetArrayFromImage(sitk.ReadImage(str(truth_dir / f"{name}.nii.gz")))) > 0
