"""The classical engine: Body, lungs, trachea, spinal canal and bone without model weights.

Every step runs on the native grid; all but Body run inside the body's bounding box to save time.
Results are AUTOMATIC contours for review, labelled with the engine, version and settings used.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...ct.model import CTVolume, ImageGeometry
from ...errors import InputError
from ...progress import ProgressCallback, report
from .airway import Airway, segment_airway
from .body import segment_body
from .bones import segment_bone
from .lungs import segment_lungs
from .midline import estimate_midline
from .orientation import crop_geometry
from .settings import ClassicalSettings
from .spinal_canal import segment_spinal_canal

logger = logging.getLogger(__name__)

ENGINE_NAME = "classical"
#: Bump when a recipe changes its output.
ENGINE_VERSION = "1.2"
#: TG-263 names this engine can produce, in the order they are computed.
SUPPORTED_STRUCTURES: tuple[str, ...] = ("Body", "Trachea", "Lung_L", "Lung_R", "Lungs", "SpinalCanal", "Bone")
_LUNG_NAMES = frozenset({"Lung_L", "Lung_R", "Lungs"})
#: Why lungs are absent when no side has any: a scan of the head and neck, abdomen or pelvis.
NO_LUNG_REASON = "no lung in the field of view (no large air region enclosed by the body)"
#: Voxels of air kept around the body box so that per-slice hole filling sees the outside.
_BOX_MARGIN = 1


@dataclass(frozen=True)
class ClassicalResult:
    """Masks (TG-263 name → bool k j i on the CT grid), skipped names with reasons, and provenance."""

    masks: dict[str, np.ndarray]
    skipped: dict[str, str]
    seconds: float
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (voxel counts instead of arrays)."""
        return {"structures": {name: int(mask.sum()) for name, mask in self.masks.items()},
                "skipped": dict(self.skipped), "seconds": self.seconds, "provenance": self.provenance}


def segment_classical(ct: CTVolume, structures: Sequence[str] | None = None,
                      progress: ProgressCallback | None = None,
                      settings: ClassicalSettings | None = None) -> ClassicalResult:
    """Segment ``structures`` (default: all of :data:`SUPPORTED_STRUCTURES`) with classical recipes.

    Parameters
    ----------
    ct
        The CT in HU; padding values (-2000, -3024) count as air.
    structures
        TG-263 names; names without a classical recipe are reported in ``skipped``.
    progress
        ``progress(fraction, message) -> cancel``.
    settings
        Thresholds and sizes; defaults to :class:`ClassicalSettings`.

    Returns
    -------
    ClassicalResult

    Raises
    ------
    InputError
        When the CT is not a 3D array matching its geometry.
    CancelledError
        When ``progress`` asks to stop.
    """
    started = time.perf_counter()
    settings = settings or ClassicalSettings()
    _check_input(ct)
    wanted, skipped = _resolve_names(structures)
    masks = _run(ct.hu, ct.geometry, wanted, skipped, settings, progress)
    seconds = time.perf_counter() - started
    logger.info("Classical segmentation of %d structure(s) in %.2f s.", len(masks), seconds)
    provenance = {"engine": ENGINE_NAME, "version": ENGINE_VERSION, "settings": settings.to_dict()}
    return ClassicalResult(masks, skipped, seconds, provenance)


def _check_input(ct: CTVolume) -> None:
    if ct.hu.ndim != 3 or tuple(ct.hu.shape) != tuple(ct.geometry.shape):
        raise InputError(f"CT voxels have shape {ct.hu.shape} but the geometry says {ct.geometry.shape}.",
                         hint="Load the series with load_ct so voxels and geometry agree.")


def _resolve_names(structures: Sequence[str] | None) -> tuple[list[str], dict[str, str]]:
    if structures is None:
        return list(SUPPORTED_STRUCTURES), {}
    requested = list(dict.fromkeys(structures))
    skipped = {name: f"No classical recipe for {name}; supported: {', '.join(SUPPORTED_STRUCTURES)}."
               for name in requested if name not in SUPPORTED_STRUCTURES}
    return [name for name in SUPPORTED_STRUCTURES if name in requested], skipped


def _run(hu: np.ndarray, geometry: ImageGeometry, wanted: list[str], skipped: dict[str, str],
         settings: ClassicalSettings, progress: ProgressCallback | None) -> dict[str, np.ndarray]:
    report(progress, 0.0, "Body outline")
    body = segment_body(hu, geometry, settings)
    results: dict[str, np.ndarray] = {"Body": body} if "Body" in wanted else {}
    rest = [name for name in wanted if name != "Body"]
    if not rest:
        report(progress, 1.0, "Classical segmentation done")
        return results
    if not body.any():
        skipped.update({name: "No body found in the image." for name in rest})
        return results
    box = _body_box(body)
    crop_geometry_box = crop_geometry(geometry, box)
    # Padding (-2000, -3024) is air; clipping keeps it from biasing mean HU inside candidates.
    hu_box = np.maximum(hu[box], -1024)
    cropped = _run_inside_box(hu_box, body[box], crop_geometry_box, rest, skipped, settings, progress)
    for name, mask in cropped.items():
        full = np.zeros_like(body)
        full[box] = mask
        results[name] = full
    report(progress, 1.0, "Classical segmentation done")
    return {name: results[name] for name in wanted if name in results}


def _run_inside_box(hu: np.ndarray, body: np.ndarray, geometry: ImageGeometry, rest: list[str],
                    skipped: dict[str, str], settings: ClassicalSettings,
                    progress: ProgressCallback | None) -> dict[str, np.ndarray]:
    masks: dict[str, np.ndarray] = {}
    lungs_wanted = bool(_LUNG_NAMES & set(rest))
    canal = None
    if "SpinalCanal" in rest or lungs_wanted:
        # First: the canal is the landmark of the mid-sagittal plane that names the lungs' sides.
        report(progress, 0.2, "Spinal canal")
        canal = segment_spinal_canal(hu, body, geometry, settings)
        _skip_or_keep(masks, skipped, "SpinalCanal", canal, "No bone-enclosed lumen near the posterior midline.", rest)
    airway: Airway | None = None
    if "Trachea" in rest or lungs_wanted:
        report(progress, 0.35, "Trachea and main bronchi")
        airway = segment_airway(hu, body, geometry, settings)
        report(progress, 0.5, "Lungs")
        midline = estimate_midline(body, geometry, canal)
        lungs = segment_lungs(hu, body, None if airway is None else airway.airway, geometry, settings, midline)
        for name, mask in (("Lung_L", lungs.left), ("Lung_R", lungs.right), ("Lungs", lungs.both)):
            _skip_or_keep(masks, skipped, name, mask, lungs.missing.get(name, NO_LUNG_REASON), rest)
        _keep_trachea(masks, skipped, airway, bool(lungs.both.any()), rest)
    if "Bone" in rest:
        report(progress, 0.85, "Bone")
        bone = segment_bone(hu, body, geometry, settings)
        _skip_or_keep(masks, skipped, "Bone", bone, f"No bone above {settings.bone_threshold_hu} HU.", rest)
    return masks


def _keep_trachea(masks: dict[str, np.ndarray], skipped: dict[str, str], airway: Airway | None, lungs_found: bool,
                  wanted: list[str]) -> None:
    if airway is None:
        _skip_or_keep(masks, skipped, "Trachea", None, "No tracheal air seed on the top slices.", wanted)
    elif not lungs_found:
        # Air near the centre of the top slices of a scan without lungs is bowel or pharynx, not trachea.
        _skip_or_keep(masks, skipped, "Trachea", None, "No lungs in the field of view: the trachea is traced only "
                      "above lungs.", wanted)
    else:
        _skip_or_keep(masks, skipped, "Trachea", airway.trachea, "Airway found but no trachea above the carina.", wanted)


def _skip_or_keep(masks: dict[str, np.ndarray], skipped: dict[str, str], name: str, mask: np.ndarray | None,
                  reason: str, wanted: list[str]) -> None:
    if name not in wanted:
        return
    if mask is None or not mask.any():
        skipped[name] = reason
    else:
        masks[name] = mask


def _body_box(body: np.ndarray) -> tuple[slice, slice, slice]:
    box = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        present = np.flatnonzero(body.any(axis=other))
        low = 0 if axis == 0 else max(int(present[0]) - _BOX_MARGIN, 0)
        high = body.shape[axis] if axis == 0 else min(int(present[-1]) + 1 + _BOX_MARGIN, body.shape[axis])
        box.append(slice(low, high))
    return (box[0], box[1], box[2])
