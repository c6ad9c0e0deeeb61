"""How much memory a TotalSegmentator run needs, and how much the machine has free.

The estimate follows where TotalSegmentator's memory goes. It resamples the CT (or the crop of it
that the task works on) to the model's spacing, and nnU-Net then holds one float32 probability map
per class of the model on that grid. So a run needs, for its largest model,

    resampled voxels × (classes + background) × 4 bytes
    + resampled voxels × 8 bytes (the resampled image and label map)
    + CT voxels × 8 bytes (the CT as float32 and the label map resampled back)
    + a fixed 1.5 GiB for Python, torch and the network weights.

The runs of a plan execute one after the other, so the plan needs the largest run. For full-resolution
``total`` (five models of about 24 classes at 1.5 mm) on a 512×512×300 CT of 0.98×0.98×2.5 mm this
gives about 8 GB; TotalSegmentator reports 7.4–11.8 GB for full-resolution ``total`` on big CTs. Tasks
that crop (the head-and-neck tasks crop to the skull or the neck) are sized for a generous crop box,
not the whole CT, because their sub-millimetre grids would otherwise be counted tens of times over.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..naming.tables import load_tables
from .ts_model import TSTaskRun

BYTES_PER_PROBABILITY = 4  # float32
BYTES_PER_IMAGE_VOXEL = 8  # a float32 image plus a label map (uint8, padded to 4 by the resamplers)
RUNTIME_OVERHEAD_BYTES = int(1.5 * 2**30)
CROP_PASS_TASK = "total"


@dataclass(frozen=True)
class ModelShape:
    """A TotalSegmentator 2.18 task's grid: spacing (x, y, z mm; None = the CT's own), models, crop box.

    ``crop_box_mm`` (x, y, z) bounds the region a cropping task works on (its crop organs plus
    TotalSegmentator's margin, rounded up); None for tasks that run on the whole CT.
    """

    spacing_mm_xyz: tuple[float, float, float] | None
    models: int = 1
    crop_box_mm: tuple[float, float, float] | None = None
    fast_spacing_mm_xyz: tuple[float, float, float] | None = None
    fast_models: int = 1


def _iso(mm: float) -> tuple[float, float, float]:
    return (mm, mm, mm)


HEAD = (230.0, 270.0, 270.0)  # skull plus 10-20 mm each side
NECK = (420.0, 300.0, 320.0)  # clavicles to C1 (and T4) plus 40 mm each side
#: Task → model shape, from TotalSegmentator 2.18 ``map_tasks_config.TASK_CONFIGS`` (the real-package test
#: checks spacings, model counts and which tasks crop against the installed package).
MODEL_SHAPES: dict[str, ModelShape] = {
    "total": ModelShape(_iso(1.5), 5, None, _iso(3.0)),
    "total_mr": ModelShape(_iso(1.5), 2, None, _iso(3.0)),
    "body": ModelShape(_iso(1.5), 1, None, _iso(6.0)),
    "abdominal_muscles": ModelShape((0.75, 0.75, 1.0), 1, None),  # crops to body_trunc: nearly the whole CT
    "appendicular_bones": ModelShape(_iso(1.5)),
    "brain_structures": ModelShape((0.5, 0.5, 1.0), 1, (200.0, 240.0, 200.0)),
    "breasts": ModelShape(_iso(1.5)),
    "craniofacial_structures": ModelShape(_iso(0.5), 1, HEAD),
    "head_glands_cavities": ModelShape((0.75, 0.75, 1.0), 1, HEAD),
    "head_muscles": ModelShape((0.75, 0.75, 1.0), 1, HEAD),
    "headneck_bones_vessels": ModelShape((0.75, 0.75, 1.0), 1, NECK),
    "headneck_muscles": ModelShape((0.75, 0.75, 1.0), 2, NECK),
    "heartchambers_highres": ModelShape(None, 1, (200.0, 200.0, 200.0)),
    "liver_segments": ModelShape((0.805, 0.805, 1.5), 1, (300.0, 300.0, 300.0)),
    "lung_vessels": ModelShape((0.703, 0.703, 1.0), 1, (400.0, 350.0, 400.0)),
    "oculomotor_muscles": ModelShape((0.473, 0.473, 0.85), 1, HEAD),
    "tissue_types": ModelShape(_iso(1.5)),
    "trunk_cavities": ModelShape(_iso(1.5)),
    "vertebrae_body": ModelShape(_iso(1.5)),
}
#: The low-resolution ``total`` model that crops for the other tasks.
CROP_PASS_SHAPE = ModelShape(_iso(6.0))
UNKNOWN_TASK_SHAPE = ModelShape(_iso(1.5))


def estimate_memory_bytes(shape_kji: Sequence[int], spacing_mm_kji: Sequence[float],
                          runs: Sequence[TSTaskRun], fast: bool) -> int:
    """Peak memory of the plan's largest run on a CT of this grid (see the module docstring for the basis).

    Parameters
    ----------
    shape_kji, spacing_mm_kji
        The CT grid: (slices, rows, columns) and (slice, row, column) spacing in mm.
    runs
        The planned runs; a run's own ``fast`` or the ``fast`` argument selects the low-resolution model
        where the task has one.
    fast
        Fast mode for the whole plan.

    Returns
    -------
    int
        Bytes; 0 for an empty plan.
    """
    ct_voxels = math.prod(int(n) for n in shape_kji)
    extent_mm_xyz = tuple(float(n) * float(s) for n, s in zip(shape_kji[::-1], spacing_mm_kji[::-1]))
    ct_spacing_xyz = tuple(float(s) for s in spacing_mm_kji[::-1])
    peaks = [_run_bytes(run, fast or run.fast, extent_mm_xyz, ct_spacing_xyz) for run in runs]
    if not peaks:
        return 0
    return max(peaks) + ct_voxels * BYTES_PER_IMAGE_VOXEL + RUNTIME_OVERHEAD_BYTES


def _run_bytes(run: TSTaskRun, fast: bool, extent_mm_xyz: tuple[float, ...], ct_spacing_xyz: tuple[float, ...]) -> int:
    shape = MODEL_SHAPES.get(run.task, UNKNOWN_TASK_SHAPE)
    classes = max(_class_count(run.task), 1)
    use_fast = fast and shape.fast_spacing_mm_xyz is not None
    spacing = shape.fast_spacing_mm_xyz if use_fast else shape.spacing_mm_xyz
    models = shape.fast_models if use_fast else shape.models
    voxels = _grid_voxels(extent_mm_xyz, spacing or ct_spacing_xyz, shape.crop_box_mm)
    model_bytes = voxels * ((math.ceil(classes / models) + 1) * BYTES_PER_PROBABILITY + BYTES_PER_IMAGE_VOXEL)
    crop_pass = _grid_voxels(extent_mm_xyz, CROP_PASS_SHAPE.spacing_mm_xyz or ct_spacing_xyz, None) * (
        (_class_count(CROP_PASS_TASK) + 1) * BYTES_PER_PROBABILITY + BYTES_PER_IMAGE_VOXEL)
    return max(model_bytes, crop_pass)


def _grid_voxels(extent_mm_xyz: Sequence[float], spacing_xyz: Sequence[float],
                 crop_box_mm: Sequence[float] | None) -> int:
    sizes = extent_mm_xyz if crop_box_mm is None else [min(e, c) for e, c in zip(extent_mm_xyz, crop_box_mm)]
    return math.prod(max(1, math.ceil(size / step)) for size, step in zip(sizes, spacing_xyz))


@lru_cache(maxsize=64)
def _class_count(task: str) -> int:
    """Classes of a task: its rows in our naming table (the real-package test checks every class has one)."""
    return len({c for m in load_tables().ts_map if m.ts_task == task for c in m.components})


def available_memory_bytes() -> int | None:
    """Memory the system can give a new process now: Linux ``MemAvailable``, else free pages; None if unknown."""
    meminfo = Path("/proc/meminfo")
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


__all__ = ["MODEL_SHAPES", "ModelShape", "available_memory_bytes", "estimate_memory_bytes"]
