"""Auto-segmentation test and evaluation cases: the phantom modified the way real scans differ from it,
the real CTs beside the repository with references drawn outside the team, and orientation variants.

A case is a CT (HU on its grid) with reference masks on the same grid. An orientation variant stores the
same anatomy differently (flipped array axes with negated direction cosines): its results, flipped back,
must agree with the original in patient space, and its sides must stay true.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from OARContourLib.ct.model import CTVolume, ImageGeometry, SeriesReference
from OARContourLib.mask_files import read_masks
from OARContourLib.phantom import build_phantom

#: Small phantom grid: fast enough for unit tests, the anatomy is in millimetres.
SMALL_GRID = dict(rows=160, columns=160, pixel_spacing_mm=3.0, slices=40, slice_spacing_mm=7.5)
#: (k, j, i) array axes flipped to store the same anatomy another way. Patient positions follow
#: PatientPosition.axis_signs: feet-first flips columns and slices, prone flips columns and rows.
ORIENTATIONS: dict[str, tuple[int, ...]] = {
    "HFS": (), "FFS": (0, 2), "HFP": (1, 2), "FFP": (0, 1),
    "negated row cosine": (2,), "negated column cosine": (1,), "reversed slices": (0,),
}
LATERAL = {"Lung_L": "L", "Lung_R": "R"}


@dataclass(frozen=True)
class Case:
    """A CT with reference masks (TG-263 name → bool k j i on the CT grid) and where they came from."""

    name: str
    ct: CTVolume
    references: Mapping[str, np.ndarray]
    source: str

    @property
    def geometry(self) -> ImageGeometry:
        return self.ct.geometry


def as_ct(hu: np.ndarray, geometry: ImageGeometry) -> CTVolume:
    return CTVolume(hu, geometry, (), SeriesReference("", "", "", "CT"))


def flipped_geometry(geometry: ImageGeometry, axes_kji: tuple[int, ...]) -> ImageGeometry:
    """The geometry of ``np.flip(array, axes_kji)``: same voxels in LPS, negated cosines on those axes."""
    direction = geometry.direction_matrix.copy()
    last = [0.0, 0.0, 0.0]
    for axis in axes_kji:
        ijk = 2 - axis
        last[ijk] = geometry.shape[axis] - 1
        direction[:, ijk] = -direction[:, ijk]
    origin = geometry.ijk_to_lps() @ np.array([*last, 1.0])
    return dataclasses.replace(geometry, origin_lps=tuple(float(v) for v in origin[:3]),  # type: ignore[arg-type]
                               direction=tuple(tuple(float(v) for v in row) for row in direction))  # type: ignore[arg-type]


def reoriented(case: Case, orientation: str) -> Case:
    """The same anatomy stored in ``orientation`` (a key of :data:`ORIENTATIONS`)."""
    axes = ORIENTATIONS[orientation]
    geometry = flipped_geometry(case.geometry, axes)
    hu = np.ascontiguousarray(np.flip(case.ct.hu, axes)) if axes else case.ct.hu
    references = {name: np.flip(mask, axes) if axes else mask for name, mask in case.references.items()}
    return Case(f"{case.name} {orientation}", as_ct(hu, geometry), references, case.source)


def back_to_original(mask: np.ndarray, orientation: str) -> np.ndarray:
    """A mask of a reoriented case on the original case's array (the flip is its own inverse)."""
    axes = ORIENTATIONS[orientation]
    return np.flip(mask, axes) if axes else mask


# --- the phantom, modified ----------------------------------------------------------------------

def phantom_case(name: str = "phantom", modify: Callable[[np.ndarray, dict[str, np.ndarray], ImageGeometry], None]
                 | None = None, variant: str = "thorax", **grid: object) -> Case:
    """The phantom on :data:`SMALL_GRID` (or ``grid``), optionally modified in place by ``modify(hu, masks, geometry)``."""
    volume = build_phantom(variant=variant, **{**SMALL_GRID, **grid})  # type: ignore[arg-type]
    hu = volume.hu.copy()
    masks = {n: volume.masks[n].copy() for n in ("Body", "Lung_L", "Lung_R", "SpinalCanal") if n in volume.masks}
    if modify is not None:
        modify(hu, masks, volume.geometry)
    return Case(name, as_ct(hu, volume.geometry), masks, f"OARContour phantom ({variant})")


def lps_grid(geometry: ImageGeometry) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LPS x, y, z of every voxel centre, each shaped like the (k, j, i) array."""
    k, j, i = np.meshgrid(*(np.arange(n, dtype=float) for n in geometry.shape), indexing="ij")
    matrix = geometry.ijk_to_lps()
    return tuple(matrix[r, 0] * i + matrix[r, 1] * j + matrix[r, 2] * k + matrix[r, 3] for r in range(3))  # type: ignore[return-value]


def centroid_lps(mask: np.ndarray, geometry: ImageGeometry) -> np.ndarray:
    k, j, i = (float(np.mean(v)) for v in np.nonzero(mask))
    return (geometry.ijk_to_lps() @ np.array([i, j, k, 1.0]))[:3]


def insert_sphere(hu: np.ndarray, masks: dict[str, np.ndarray], geometry: ImageGeometry, centre_lps: np.ndarray,
                  radius_mm: float, value_hu: float) -> np.ndarray:
    """Paint a sphere of ``value_hu``; it is removed from the lung references (it is not lung)."""
    x, y, z = lps_grid(geometry)
    sphere = (x - centre_lps[0]) ** 2 + (y - centre_lps[1]) ** 2 + (z - centre_lps[2]) ** 2 <= radius_mm ** 2
    sphere &= masks["Body"]
    hu[sphere] = value_hu
    for name in ("Lung_L", "Lung_R"):
        masks[name] &= ~sphere
    return sphere


def tumour_next_to_right_lung(hu: np.ndarray, masks: dict[str, np.ndarray], geometry: ImageGeometry) -> None:
    """A 35 mm-radius soft-tissue tumour (40 HU) at the medial edge of the right lung, splitting it."""
    lung = masks["Lung_R"]
    centre = centroid_lps(lung, geometry)
    centre[0] += 15.0  # toward the mediastinum (patient left is +x)
    insert_sphere(hu, masks, geometry, centre, 35.0, 40.0)


def effusion_in_left_lung(hu: np.ndarray, masks: dict[str, np.ndarray], geometry: ImageGeometry) -> None:
    """Fluid (15 HU) filling the posterior 40 % of the left lung, as a pleural effusion lies supine."""
    _, y, _ = lps_grid(geometry)
    lung = masks["Lung_L"]
    cut = np.quantile(y[lung], 0.6)
    fluid = lung & (y >= cut)
    hu[fluid] = 15
    masks["Lung_L"] = lung & ~fluid


def touching_lungs(hu: np.ndarray, masks: dict[str, np.ndarray], geometry: ImageGeometry) -> None:
    """Lung tissue (-820 HU) in front of the heart joining both lungs (an anterior junction line)."""
    x, y, _ = lps_grid(geometry)
    left, right = masks["Lung_L"], masks["Lung_R"]
    spine_x = centroid_lps(masks["SpinalCanal"], geometry)[0]
    both = left.any(axis=(1, 2)) & right.any(axis=(1, 2))
    middle = np.flatnonzero(both)[len(np.flatnonzero(both)) // 4: 3 * len(np.flatnonzero(both)) // 4]
    slices = np.zeros(len(both), dtype=bool)
    slices[middle] = True
    front = np.quantile(y[left | right], 0.12)  # anterior part of the lungs (anterior is -y)
    band = (y >= front) & (y <= front + 24.0) & (np.abs(x - spine_x) <= 90.0) & masks["Body"]
    band &= slices[:, None, None] & (hu < 150)
    hu[band & ~(left | right)] = -820
    masks["Lung_L"] = left | (band & (x > spine_x) & ~right)
    masks["Lung_R"] = right | (band & (x <= spine_x) & ~left)


def cropped_to_right_side(keep_spine: bool) -> Callable[[Case], Case]:
    """A crop around the right lung: the body is cut by the border; the spine kept or not."""
    def crop(case: Case) -> Case:
        geometry = case.geometry
        x, _, _ = lps_grid(dataclasses.replace(geometry, shape=(1, 1, geometry.shape[2])))
        spine = case.references.get("SpinalCanal", case.references.get("SpinalCord"))
        assert spine is not None, "the case needs a canal or cord reference to crop beside it"
        spine_x = centroid_lps(spine, geometry)[0]
        limit = spine_x + (15.0 if keep_spine else -20.0)
        columns = np.flatnonzero(x[0, 0] <= limit)  # patient right is -x, whichever way the columns run
        box = (slice(None), slice(None), slice(int(columns[0]), int(columns[-1]) + 1))
        return crop_case(case, box, f"{case.name} cropped to the right lung" + (" and spine" if keep_spine else ""))
    return crop


def crop_case(case: Case, box: tuple[slice, slice, slice], name: str) -> Case:
    from OARContourLib.autoseg.classical.orientation import crop_geometry

    geometry = crop_geometry(case.geometry, box)
    references = {n: np.ascontiguousarray(m[box]) for n, m in case.references.items() if m[box].any()}
    return Case(name, as_ct(np.ascontiguousarray(case.ct.hu[box]), geometry), references, case.source)


def child(case: Case, scale: float = 0.6) -> Case:
    """The same voxels on a grid ``scale`` times smaller: a child-sized trunk with the phantom's anatomy."""
    geometry = case.geometry
    spacing = tuple(s * scale for s in geometry.spacing_mm)
    origin = tuple(o * scale for o in geometry.origin_lps)
    shrunk = dataclasses.replace(geometry, spacing_mm=spacing, origin_lps=origin)  # type: ignore[arg-type]
    return Case(f"{case.name} child-sized", as_ct(case.ct.hu, shrunk), case.references, case.source)


def with_contrast(hu: np.ndarray, masks: dict[str, np.ndarray], geometry: ImageGeometry) -> None:
    """Iodinated contrast: heart and aorta at 300 HU, denser than the bone threshold."""
    volume = build_phantom(**SMALL_GRID)  # type: ignore[arg-type]
    for name in ("Heart", "A_Aorta"):
        hu[volume.masks[name]] = 300


# --- real CTs with references drawn outside the team ---------------------------------------------

TS_LUNG_L = ("lung_upper_lobe_left", "lung_lower_lobe_left")
TS_LUNG_R = ("lung_upper_lobe_right", "lung_middle_lobe_right", "lung_lower_lobe_right")
#: TotalSegmentator ``total`` classes that are bone (whole bones: cortex, cancellous bone and marrow).
TS_BONE_PREFIXES = ("vertebrae_", "rib_", "sternum", "humerus_", "scapula_", "clavicula_", "femur_", "hip_",
                    "sacrum", "skull")
#: Cartilage calcifies with age to bone density: neither bone nor soft tissue in a Bone score.
TS_CARTILAGE = ("costal_cartilages",)


def _ts_references(seg: Path, labels: Path, geometry: ImageGeometry) -> dict[str, np.ndarray]:
    masks, _ = read_masks(seg, geometry, labels)
    full: dict[str, np.ndarray] = {}
    for item in masks:
        block = np.zeros(geometry.shape, dtype=bool)
        k, j, i = item.offset_kji
        dk, dj, di = item.mask.shape
        block[k:k + dk, j:j + dj, i:i + di] = item.mask.astype(bool)
        full[item.name] = block
    references: dict[str, np.ndarray] = {}
    for name, classes in (("Lung_L", TS_LUNG_L), ("Lung_R", TS_LUNG_R)):
        present = [full[c] for c in classes if c in full and full[c].any()]
        if present:
            references[name] = np.logical_or.reduce(present)
    vertebrae = [m for n, m in full.items() if n.startswith("vertebrae_") and m.any()]
    if vertebrae:
        references["Vertebrae"] = np.logical_or.reduce(vertebrae)
    bones = [m for n, m in full.items() if n.startswith(TS_BONE_PREFIXES) and m.any()]
    if bones:
        references["Skeleton"] = np.logical_or.reduce(bones)
    soft = [m for n, m in full.items() if not n.startswith(TS_BONE_PREFIXES + TS_CARTILAGE) and m.any()]
    if soft:
        references["SoftTissue"] = np.logical_or.reduce(soft)  # organs, vessels, muscles, cord: never Bone
    if "spinal_cord" in full and full["spinal_cord"].any():
        references["SpinalCord"] = full["spinal_cord"]
    organs = [m for m in full.values() if m.any()]
    if organs:
        references["AllClasses"] = np.logical_or.reduce(organs)  # every class TotalSegmentator found: inside Body
    return references


def nifti_ct(path: Path) -> CTVolume:
    image = sitk.ReadImage(str(path))
    direction = np.array(image.GetDirection()).reshape(3, 3)
    geometry = ImageGeometry(tuple(int(s) for s in reversed(image.GetSize())),  # type: ignore[arg-type]
                             tuple(float(s) for s in image.GetSpacing()),  # type: ignore[arg-type]
                             tuple(float(o) for o in image.GetOrigin()),  # type: ignore[arg-type]
                             tuple(tuple(float(v) for v in row) for row in direction))  # type: ignore[arg-type]
    return as_ct(sitk.GetArrayFromImage(image).astype(np.int16), geometry)


def totalsegmentator_thorax_case(shared: Path) -> Case:
    """TotalSegmentator's small CT (3 mm, lower thorax, cropped field of view) and its own ``total`` output."""
    folder = shared / "totalsegmentator_example"
    ct = nifti_ct(folder / "example_ct_sm.nii.gz")
    references = _ts_references(folder / "example_seg.nii.gz", folder / "label_map_total.csv", ct.geometry)
    return Case("TotalSegmentator example_ct_sm", ct, references, "TotalSegmentator 2.x total (1.5 mm model)")


def totalsegmentator_abdomen_case(shared: Path) -> Case:
    """TotalSegmentator's 20-slice DICOM CT (upper abdomen) and its own fast output on that grid."""
    from OARContourLib.ct.load import load_ct

    folder = shared / "totalsegmentator_example"
    ct = load_ct(folder / "example_ct_dicom")
    references = _ts_references(folder / "example_seg_dicom.nii.gz", folder / "label_map_total.csv", ct.geometry)
    return Case("TotalSegmentator example_ct_dicom", ct, references, "TotalSegmentator 2.x total --fast")


def ibsi_case(shared: Path) -> Case:
    """The IBSI STS_002 CT (real, cropped 5 cm around a soft-tissue sarcoma) with its clinical GTV."""
    from OARContourLib.ct.load import load_ct

    folder = shared / "ibsi_sts002"
    ct = load_ct(folder / "dicom" / "image")
    masks, _ = read_masks(folder / "nifti" / "CT_mask.nii.gz", ct.geometry)
    gtv = np.zeros(ct.geometry.shape, dtype=bool)
    for item in masks:
        k, j, i = item.offset_kji
        dk, dj, di = item.mask.shape
        gtv[k:k + dk, j:j + dj, i:i + di] |= item.mask.astype(bool)
    return Case("IBSI STS_002", ct, {"GTV": gtv}, "IBSI / TCIA clinical GTV (MIM)")


def varian_case(shared: Path) -> Case:
    """The 4-slice Visible Human CT with its ARIA/Eclipse BODY and SpinalCord (clinical contours)."""
    from OARContourLib.ct.load import load_ct
    from OARContourLib.rtstruct.read import read_rtstruct

    folder = shared / "varian_aria_4slice" / "dicom"
    ct = load_ct(folder)
    contents = read_rtstruct(folder / "RS_Body_SpinalCord.dcm", ct)
    references = {"Body": contents.roi("BODY").mask.astype(bool),
                  "SpinalCord": contents.roi("SpinalCord").mask.astype(bool)}
    return Case("Varian ARIA 4-slice (Visible Human)", ct, references, "clinical contours (Eclipse/ARIA)")
