"""What every QA rule looks at: the structures, the CT grid, and measurements computed once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..autoseg.classical.midline import Midline, MidlineSource, estimate_midline, voxel_x_mm
from ..ct.model import ImageGeometry
from ..naming.tables import NamingTables, load_tables
from ..rtstruct.model import RoiType, Structure, full_mask

#: RT ROI types that may legitimately extend outside the patient outline.
MAY_LEAVE_BODY = frozenset({RoiType.EXTERNAL, RoiType.SUPPORT, RoiType.FIXATION, RoiType.BOLUS})
SIDES = {"_L": 1.0, "_R": -1.0}  # +x in LPS is the patient's left
#: Structures that mark the mid-sagittal plane when contoured.
MIDLINE_LANDMARKS = frozenset({"SpinalCanal", "SpinalCord"})


@dataclass
class QAContext:
    """Structures on one CT grid, plus the template and TPS to check against."""

    structures: Sequence[Structure]
    geometry: ImageGeometry
    template: str | None = None
    tps: str = "generic"
    tables: NamingTables = field(default_factory=load_tables)

    @property
    def voxel_cc(self) -> float:
        return float(np.prod(self.geometry.spacing_mm)) / 1000.0

    def voxels(self, structure: Structure) -> int:
        return int(np.count_nonzero(structure.mask))

    def volume_cc(self, structure: Structure) -> float:
        return self.voxels(structure) * self.voxel_cc

    def slices(self, structure: Structure) -> np.ndarray:
        """Slice indices (k) on which the structure has voxels, ascending."""
        if structure.mask.size == 0:
            return np.empty(0, dtype=int)
        present = structure.mask.reshape(structure.mask.shape[0], -1).any(axis=1)
        return np.flatnonzero(present) + structure.offset_kji[0]

    def centroid_lps(self, structure: Structure) -> np.ndarray | None:
        """Centroid in LPS mm through the grid geometry; None for an empty structure."""
        mask = np.asarray(structure.mask, dtype=bool)
        total = int(np.count_nonzero(mask))
        if total == 0:
            return None
        # Exact integer sums of the indices per axis (the same mean as argwhere().mean(), without the list).
        sums = [int(np.dot(np.arange(mask.shape[axis]), mask.sum(axis=tuple(a for a in range(3) if a != axis))))
                for axis in range(3)]
        mean_ijk = (np.array(sums, dtype=float) / total + np.asarray(structure.offset_kji))[::-1]
        return (self.geometry.ijk_to_lps() @ np.append(mean_ijk, 1.0))[:3]

    @cached_property
    def external(self) -> Structure | None:
        """The first non-empty EXTERNAL structure (Body/External), if any."""
        return next((s for s in self.structures if s.roi_type is RoiType.EXTERNAL and self.voxels(s)), None)

    @cached_property
    def midline_x_mm(self) -> float:
        """LPS x of the body midline: the EXTERNAL centroid, else the centre of the CT grid."""
        if self.external is not None:
            centroid = self.centroid_lps(self.external)
            if centroid is not None:
                return float(centroid[0])
        centre_ijk = (np.asarray(self.geometry.shape[::-1], dtype=float) - 1.0) / 2.0
        return float((self.geometry.ijk_to_lps() @ np.append(centre_ijk, 1.0))[0])

    @cached_property
    def external_mask(self) -> np.ndarray | None:
        return None if self.external is None else full_mask(self.external, self.geometry.shape)

    @cached_property
    def midline(self) -> Midline:
        """The mid-sagittal plane per slice: the spinal canal/cord when contoured, else the body centre."""
        landmarks = [full_mask(s, self.geometry.shape) for s in self.structures
                     if s.name in MIDLINE_LANDMARKS and self.voxels(s)]
        canal = np.logical_or.reduce(landmarks) if landmarks else None
        if self.external_mask is not None:
            return estimate_midline(self.external_mask, self.geometry, canal)
        if canal is not None:
            return estimate_midline(canal, self.geometry, canal)
        return Midline(np.full(self.geometry.shape[0], self.midline_x_mm), MidlineSource.BODY_CENTRE, frozenset())

    def lateral_offsets_mm(self, structure: Structure) -> np.ndarray:
        """Signed distance (mm, + toward patient left) of each voxel from the mid-sagittal plane."""
        k, j, i = np.nonzero(structure.mask)
        ok, oj, oi = structure.offset_kji
        k, j, i = k + ok, j + oj, i + oi
        return voxel_x_mm(self.geometry, k, j, i) - self.midline.x_mm[k]

    def side(self, structure: Structure) -> float | None:
        """+1.0 when most of the structure lies on the patient's left, -1.0 on the right.

        None when empty, or when the plane is unreliable (the centre of a body the image border
        cuts, with no canal or cord contoured): a side is then not judged rather than misjudged.
        """
        offsets = self.lateral_offsets_mm(structure)
        if offsets.size == 0 or not self.midline.reliable:
            return None
        return 1.0 if np.count_nonzero(offsets > 0) * 2 >= offsets.size else -1.0

    def side_is_wrong(self, structure: Structure) -> bool:
        """True when most of a ``*_L``/``*_R`` structure lies on the other side of the midline."""
        sign = SIDES.get(structure.name[-2:])
        side = self.side(structure) if sign is not None else None
        return side is not None and side != sign


