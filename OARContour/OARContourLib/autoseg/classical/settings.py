"""Thresholds and sizes of the classical recipes, recorded in every result's provenance."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ClassicalSettings:
    """Tunable constants of :func:`segment_classical` (HU and millimetres)."""

    #: Voxels at or below this HU are padding (-2000, -3024) and count as air.
    padding_hu: float = -1500.0
    body_threshold_hu: float = -400.0
    #: In-plane opening that detaches the couch, mask and cables from the patient.
    body_opening_mm: float = 3.0
    #: Separate body parts (arms beside the trunk) are kept when this large, absolutely and
    #: relative to the largest part; smaller ones are cables, markers or noise.
    body_min_part_cc: float = 10.0
    body_min_part_fraction: float = 0.01
    lung_threshold_hu: float = -400.0
    #: Lung components smaller than this fraction of the largest one are gas elsewhere (bowel, stomach).
    lung_min_fraction: float = 0.2
    lung_min_volume_cc: float = 20.0
    #: Air seed on the top slices and the growing thresholds swept from strict to loose.
    airway_seed_hu: float = -900.0
    airway_sweep_hu: tuple[float, ...] = (-950.0, -925.0, -900.0, -875.0, -850.0)
    #: A sweep step whose volume grows by more than this factor has leaked into the lungs.
    airway_leak_factor: float = 3.0
    airway_max_volume_cc: float = 250.0
    airway_top_slices_mm: float = 30.0
    #: Tracheal and bronchial wall added around the grown lumen.
    airway_wall_mm: float = 2.0
    #: Enclosed holes in a lung slice up to this area are vessels and are filled; larger ones
    #: (the liver dome ringed by the lung base) are not lung.
    lung_max_hole_mm2: float = 300.0
    bone_threshold_hu: float = 200.0
    bone_min_volume_cc: float = 0.5
    #: Isolated dense components up to this size are vessel calcifications on fine grids (measured
    #: 0.65 cc aortic plaque and 1.08 cc splenic artery on TotalSegmentator's 1 mm abdomen; its rib
    #: segments are >= 2.6 cc over 40 mm of scan) ...
    bone_calcification_max_cc: float = 1.2
    #: ... where voxels are at most this large (1 x 1 x 3 mm is 3 mm³, 1.25 x 1.25 x 5 mm 7.8 mm³);
    #: coarser grids (3 mm isotropic, 27 mm³) break rib cortex into pieces of that size and the
    #: cortex of vertebral bodies too much to close it (see ``bone_enclosure_closing_mm``).
    bone_fine_voxel_max_mm3: float = 8.0
    #: Cancellous bone (100-300 HU) grown from cortical bone: above muscle (<= 60 HU) and above liver
    #: and spleen in portal-venous phase (90th percentile 112 HU on TotalSegmentator's DICOM example).
    bone_cancellous_hu: float = 120.0
    #: How far that growth may go from cortical bone, in-plane and across slices: enough to cross
    #: partial-volume cortex into the trabecular core, little enough to bound a spill into an
    #: enhanced vessel beside a bone (the aorta beside the vertebral body) to a thin rim.
    bone_cancellous_reach_mm: float = 3.0
    #: Soft tissue (muscle, unenhanced organs) is at most this: a voxel beside it lies on the blurred
    #: outer surface of a bone, not in its interior, and is not grown into.
    bone_soft_tissue_max_hu: float = 60.0
    #: On fine grids growth stays inside the cortex closed by this much (and filled): a vertebral
    #: body's shell closes, the arc of a calcified aortic wall or costal cartilage encloses no lumen.
    bone_enclosure_closing_mm: float = 8.0
    #: Closing that bridges gaps in thin cortex before enclosed marrow is looked for (as for the canal).
    bone_shell_closing_mm: float = 2.0
    #: Holes of the closed shell are marrow when their mean is at least this: denser than the spinal
    #: canal (CSF and cord 0-40 HU), which the vertebral ring encloses too, and than fatty tissue.
    bone_marrow_min_mean_hu: float = 100.0
    #: ... and when at most this large: the largest cancellous cross-sections (femoral head, tibial
    #: plateau, about 2000-2700 mm²) fit; organs ringed by ribs and cartilage on a slice do not.
    bone_marrow_max_area_mm2: float = 3000.0
    #: Thin cortical rings of real vertebrae need a lower threshold and a closing to be closed.
    canal_bone_threshold_hu: float = 150.0
    canal_bone_closings_mm: tuple[float, ...] = (2.0, 6.0)
    #: Lumen area range; the low end admits children's canals (about 70 mm² at a 0.6 adult scale).
    canal_area_mm2: tuple[float, float] = (40.0, 700.0)
    #: CSF and cord are 0-40 HU; marrow of the vertebral body, also ringed by bone, is denser.
    canal_max_mean_hu: float = 60.0
    #: Slices without a closed ring, between canal slices at most this far apart, copy the lumen.
    canal_max_gap_slices: int = 2
    #: ... or at most this far (mm), whichever is more slices: rings open at disc levels on coarse grids
    #: (shorter than one vertebra, so the lumen barely moves).
    canal_max_gap_mm: float = 24.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
