"""Bone: cortical bone (denser than about 200 HU) inside the body, without small islands, plus the
cancellous bone it encloses or borders (:mod:`.cancellous`).

Calcified plaques, contrast and noise make small dense islands; dropping components below
``bone_min_volume_cc`` keeps the skeleton. Bones are not split (a per-bone split needs a model).
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
    cortical = remove_small_components(dense, max(1, int(np.ceil(settings.bone_min_volume_cc / voxel_cc))))
    return add_cancellous_bone(cortical, hu, body, spacing, settings)
