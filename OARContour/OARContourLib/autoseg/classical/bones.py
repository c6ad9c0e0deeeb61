"""Bone: cortical bone (denser than about 200 HU) inside the body, without small islands, plus the
cancellous bone it encloses or borders (:mod:`.cancellous`).

Calcified plaques, contrast and noise make small dense islands; dropping components below
``bone_min_volume_cc`` keeps the skeleton. On fine grids the minimum is ``bone_calcification_max_cc``:
isolated vessel calcifications (an aortic plaque, the splenic artery) are 0.6-1.1 cc there, and
cancellous growth would add a rim and a spill into the enhanced lumen to them. On coarse grids
(voxels above ``bone_fine_voxel_max_mm3``) partial volume breaks rib cortex into pieces of that size,
so only the smaller minimum applies; so it does to a piece cut by the in-plane edge of a cropped
image. On fine grids the cancellous growth also stays inside the closed cortex, so that calcified
cartilage and a calcified aortic wall on the spine are not rimmed. Bones are not split (a per-bone
split needs a model).
"""

from __future__ import annotations

import numpy as np

from ...ct.model import ImageGeometry
from .cancellous import add_cancellous_bone
from .morphology import remove_small_components
from .orientation import spacing_kji_mm
from .settings import ClassicalSettings


def segment_bone(hu: np.ndarray, body: np.ndarray, geometry: ImageGeometry, settings: ClassicalSettings) -> np.ndarray:
    """The ``Bone`` mask (bool, k j i)."""
    spacing = spacing_kji_mm(geometry)
    voxel_cc = float(np.prod(spacing)) / 1000.0
    dense = (hu > settings.bone_threshold_hu) & body
    fine = voxel_cc * 1000.0 <= settings.bone_fine_voxel_max_mm3
    inside_cc = settings.bone_calcification_max_cc if fine else 0.0
    cortical = remove_small_components(dense, _voxels(settings.bone_min_volume_cc, voxel_cc),
                                       min_voxels_inside=_voxels(inside_cc, voxel_cc))
    return add_cancellous_bone(cortical, hu, body, spacing, settings, enclosed_growth=fine)


def _voxels(volume_cc: float, voxel_cc: float) -> int:
    return max(1, int(np.ceil(volume_cc / voxel_cc)))
