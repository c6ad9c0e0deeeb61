"""Generated RTSTRUCT benchmark cases: a 512×512 CT series plus N binary masks as ``<Name>.nii.gz``.

Each case is the anatomical phantom (its 18 realistic organs, CT written as DICOM with pixel
spacing 0.977 mm) plus generated structures that exercise every hard part of contour export:

* overlaps (PRV around the cord, a target across heart and lung, random organs overlapping);
* holes and rings (a ring around the heart, ellipsoid shells, a donut with an island in its hole,
  concentric rings, the phantom's Skin shell);
* islands (the phantom's Bone, scattered nodes, a fragmented noisy structure);
* 1–8-voxel specks (single voxel, diagonal-only neighbours, a column across slices, a speck on the
  image border, a 2×2×2 cube);
* structures on the first and last slice and a tube through every slice;
* left/right pairs (mirror images about the sagittal mid-plane);
* random irregular organs (``Organ_001``…) to reach the requested count.

Everything is seeded, so a case is identical on every machine. Cases are cached under the given
folder and rebuilt only when :data:`GENERATOR_VERSION` changes. Masks are uint8 NIfTI written by
SimpleITK with the CT's geometry (origin, spacing, direction), one file per structure, and the
same masks are kept cropped to their bounding box in ``truth.npz`` for quality checks.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from OARContourLib.phantom import write_phantom
from scipy import ndimage

GENERATOR_VERSION = 1
PIXEL_SPACING_MM = 0.977
MAX_NAME_LENGTH = 16


@dataclass(frozen=True)
class CaseSpec:
    name: str
    slices: int
    slice_spacing_mm: float
    structures: int
    seed: int


CASES = (
    CaseSpec("rs_512x512x120_60", slices=120, slice_spacing_mm=2.5, structures=60, seed=120),
    CaseSpec("rs_512x512x300_117", slices=300, slice_spacing_mm=1.0, structures=117, seed=300),
)

PAIR_NAMES = ("Parotid", "Submand", "Lens", "Eye", "OpticNrv", "Cochlea", "BrachialPlex", "Humerus",
              "Breast", "Femur", "Glnd_Lacrimal", "Kidney_Cyst", "Ovary", "Hippocampus")


@dataclass(frozen=True)
class Case:
    """A generated case on disk: CT folder, mask folder and the structure names in file order."""

    spec: CaseSpec
    root: Path
    ct_dir: Path
    seg_dir: Path
    truth_file: Path
    names: tuple[str, ...]
    shape_kji: tuple[int, int, int]

    def truth(self) -> dict[str, tuple[np.ndarray, tuple[int, int, int]]]:
        """name -> (bool block, offset (k, j, i)) of every input mask."""
        with np.load(self.truth_file) as data:
            return {name: (np.unpackbits(data[f"{name}.bits"], count=int(np.prod(data[f"{name}.shape"])))
                           .reshape(tuple(data[f"{name}.shape"])).astype(bool),
                           tuple(int(v) for v in data[f"{name}.offset"]))
                    for name in self.names}


def ensure_case(cache: Path, spec: CaseSpec) -> Case:
    """The case ``spec`` under ``cache``; generated once (tens of seconds) and reused afterwards."""
    root = cache / spec.name
    manifest = root / "case.json"
    if manifest.is_file():
        info = json.loads(manifest.read_text(encoding="utf-8"))
        if info.get("generator_version") == GENERATOR_VERSION:
            return _case(spec, root, info)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    info = _generate(spec, root)
    manifest.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return _case(spec, root, info)


def _case(spec: CaseSpec, root: Path, info: dict) -> Case:
    return Case(spec, root, root / "phantom" / "ct", root / "seg", root / "truth.npz", tuple(info["names"]),
                tuple(info["shape_kji"]))


# --------------------------------------------------------------------------------------------- generation

class _Builder:
    """Collects cropped masks (bool block + offset) on the CT grid."""

    def __init__(self, shape: tuple[int, int, int], spacing_kji: tuple[float, float, float], body: np.ndarray,
                 rng: np.random.Generator):
        self.shape = shape
        self.spacing = np.asarray(spacing_kji, dtype=float)
        self.body = body
        self.body_voxels = np.argwhere(body[:, ::8, ::8]) * np.array([1, 8, 8])
        self.rng = rng
        self.masks: dict[str, tuple[np.ndarray, tuple[int, int, int]]] = {}

    def add(self, name: str, block: np.ndarray, offset: tuple[int, int, int]) -> None:
        assert len(name) <= MAX_NAME_LENGTH and name.lower() not in {n.lower() for n in self.masks}, name
        block, offset = _crop(block, offset)
        assert block.any(), f"{name} is empty"
        self.masks[name] = (block, offset)

    def full(self, name: str) -> np.ndarray:
        block, offset = self.masks[name]
        out = np.zeros(self.shape, dtype=bool)
        out[tuple(slice(o, o + s) for o, s in zip(offset, block.shape))] = block
        return out

    # -- shapes

    def box(self, center_kji: np.ndarray, radii_mm: np.ndarray) -> tuple[tuple[slice, ...], np.ndarray]:
        """Slices of the grid around ``center`` within ``radii`` (clipped) and the voxel offset grid in mm."""
        half = np.ceil(np.asarray(radii_mm) / self.spacing).astype(int) + 1
        lo = np.maximum(np.round(center_kji).astype(int) - half, 0)
        hi = np.minimum(np.round(center_kji).astype(int) + half + 1, self.shape)
        axes = [(np.arange(lo[a], hi[a]) - center_kji[a]) * self.spacing[a] for a in range(3)]
        grids = np.meshgrid(*axes, indexing="ij", sparse=True)
        return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi)), grids

    def blob(self, center_kji: np.ndarray, radii_mm: np.ndarray, roughness: float = 0.15) -> tuple[np.ndarray, tuple]:
        """An irregular ellipsoid: normalised distance plus smoothed noise, thresholded at 1."""
        where, (z, y, x) = self.box(center_kji, np.asarray(radii_mm) * (1 + 2 * roughness))
        distance = np.sqrt((z / radii_mm[0]) ** 2 + (y / radii_mm[1]) ** 2 + (x / radii_mm[2]) ** 2)
        if roughness > 0:
            noise = self.rng.standard_normal(distance.shape)
            sigma = np.maximum(np.asarray(radii_mm) / self.spacing / 3.0, 0.7)
            noise = ndimage.gaussian_filter(noise, sigma)
            noise /= max(float(noise.std()), 1e-9)
            distance = distance + roughness * noise
        return distance < 1.0, tuple(s.start for s in where)

    def shell(self, center_kji: np.ndarray, radii_mm: np.ndarray, thickness_mm: float) -> tuple[np.ndarray, tuple]:
        where, (z, y, x) = self.box(center_kji, radii_mm)
        outer = (z / radii_mm[0]) ** 2 + (y / radii_mm[1]) ** 2 + (x / radii_mm[2]) ** 2 < 1
        inner_r = np.maximum(np.asarray(radii_mm) - thickness_mm, 1e-3)
        inner = (z / inner_r[0]) ** 2 + (y / inner_r[1]) ** 2 + (x / inner_r[2]) ** 2 < 1
        return outer & ~inner, tuple(s.start for s in where)

    def random_center(self, margin_mm: float = 0.0) -> np.ndarray:
        """A voxel inside the body, away from the first/last slice by ``margin_mm``."""
        margin = int(np.ceil(margin_mm / self.spacing[0]))
        for _ in range(1000):
            k, j, i = self.body_voxels[self.rng.integers(len(self.body_voxels))]
            if margin <= k < self.shape[0] - margin:
                return np.array([k, j, i], dtype=float)
        return np.array([self.shape[0] / 2, self.shape[1] / 2, self.shape[2] / 2])


def _crop(block: np.ndarray, offset: tuple[int, int, int]) -> tuple[np.ndarray, tuple[int, int, int]]:
    nonzero = [np.flatnonzero(block.any(axis=axes)) for axes in ((1, 2), (0, 2), (0, 1))]
    if any(len(n) == 0 for n in nonzero):
        return block, tuple(int(o) for o in offset)
    lo = [int(n[0]) for n in nonzero]
    hi = [int(n[-1]) + 1 for n in nonzero]
    cropped = np.ascontiguousarray(block[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]], dtype=bool)
    return cropped, tuple(int(o) + int(lo_) for o, lo_ in zip(offset, lo))


def _generate(spec: CaseSpec, root: Path) -> dict:
    phantom = write_phantom(root / "phantom", rows=512, columns=512, slices=spec.slices,
                            pixel_spacing_mm=PIXEL_SPACING_MM, slice_spacing_mm=spec.slice_spacing_mm,
                            seed=spec.seed, overwrite=True)
    reference = sitk.ReadImage(str(next(iter(phantom.truth_files.values()))))
    shape = tuple(reversed(reference.GetSize()))
    spacing_kji = tuple(reversed(reference.GetSpacing()))
    rng = np.random.default_rng(spec.seed)
    truth = {name: sitk.GetArrayFromImage(sitk.ReadImage(str(path))).astype(bool)
             for name, path in phantom.truth_files.items()}
    builder = _Builder(shape, spacing_kji, truth["Body"], rng)
    for name, mask in truth.items():
        builder.add(name, mask, (0, 0, 0))
    del truth
    _derived(builder)
    _specks(builder)
    _rings_islands_edges(builder)
    pairs = _pairs_count(spec.structures - len(builder.masks) - 1)
    _pairs(builder, pairs)
    _organs(builder, spec.structures - len(builder.masks))
    assert len(builder.masks) == spec.structures, (len(builder.masks), spec.structures)
    seg_dir = root / "seg"
    seg_dir.mkdir()
    _write_masks(builder, reference, seg_dir)
    _write_truth(builder, root / "truth.npz")
    return {"generator_version": GENERATOR_VERSION, "spec": spec.__dict__, "names": list(builder.masks),
            "shape_kji": list(shape), "spacing_kji_mm": list(spacing_kji),
            "voxels": {name: int(block.sum()) for name, (block, _) in builder.masks.items()}}


def _pairs_count(room: int) -> int:
    return max(2, min(len(PAIR_NAMES), room // 4))


def _derived(b: _Builder) -> None:
    """PRV (overlap with the cord, through the last slice), a ring around the heart, both lungs together."""
    cord = b.full("SpinalCord")
    distance = ndimage.distance_transform_edt(~cord, sampling=b.spacing)
    b.add("SpinalCord_PRV05", distance <= 5.0, (0, 0, 0))
    del cord, distance
    heart_block, heart_offset = b.masks["Heart"]
    pad = np.ceil(12.0 / b.spacing).astype(int)
    lo = np.maximum(np.array(heart_offset) - pad, 0)
    hi = np.minimum(np.array(heart_offset) + heart_block.shape + pad, b.shape)
    local = np.zeros(tuple(hi - lo), dtype=bool)
    inner = tuple(slice(o - low, o - low + s) for o, low, s in zip(heart_offset, lo, heart_block.shape))
    local[inner] = heart_block
    distance = ndimage.distance_transform_edt(~local, sampling=b.spacing)
    b.add("Heart_Ring10", (distance > 3.0) & (distance <= 10.0), tuple(int(v) for v in lo))
    b.add("Lungs", b.full("Lung_L") | b.full("Lung_R"), (0, 0, 0))


def _specks(b: _Builder) -> None:
    """Structures of exactly 1..8 voxels, in the shapes that trip tracers and rasterisers."""
    n_k = b.shape[0]
    shapes = {
        1: [(0, 0, 0)],                                                    # single voxel on the first slice
        2: [(0, 0, 0), (0, 1, 1)],                                         # diagonal-only neighbours
        3: [(0, 0, 0), (1, 0, 0), (2, 0, 0)],                              # one voxel on three slices
        4: [(0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1)],                   # 2×2 on the image border
        5: [(0, 1, 1), (0, 0, 1), (0, 2, 1), (0, 1, 0), (0, 1, 2)],        # plus sign
        6: [(0, 0, 0), (0, 0, 2), (0, 1, 1), (0, 2, 0), (0, 2, 2), (0, 1, 3)],  # checkerboard
        7: [(0, 0, 0), (0, 1, 0), (0, 2, 0), (0, 3, 0), (0, 3, 1), (0, 3, 2), (0, 3, 3)],  # L on the last slice
        8: [(k, j, i) for k in (0, 1) for j in (0, 1) for i in (0, 1)],    # 2×2×2 cube
    }
    for n, voxels in shapes.items():
        voxels_a = np.array(voxels)
        extent = voxels_a.max(axis=0) + 1
        block = np.zeros(tuple(extent), dtype=bool)
        block[tuple(voxels_a.T)] = True
        if n == 1:
            offset = (0, 250, 240)
        elif n == 4:
            offset = (n_k // 2, 0, 300)                                    # touches row 0 of the image
        elif n == 7:
            offset = (n_k - 1, 200, 260)
        else:
            center = b.random_center(margin_mm=10.0)
            offset = tuple(int(v) for v in center)
        b.add(f"Speck_{n}vox", block, offset)


def _rings_islands_edges(b: _Builder) -> None:
    r = b.rng
    n_k = b.shape[0]
    mid = np.array([n_k / 2, 256.0, 256.0])
    # 3D ellipsoid shell: annuli (a hole on every inner slice), closed caps.
    block, offset = b.shell(b.random_center(40.0), np.array([30.0, 25.0, 35.0]), thickness_mm=6.0)
    b.add("Ring_Shell", block, offset)
    # A donut with an island inside its hole, on 20 mm of slices.
    where, (z, y, x) = b.box(mid + [0, -40, 60], np.array([10.0, 30.0, 30.0]))
    radius = np.sqrt(y ** 2 + x ** 2) + 0 * z
    b.add("PTV_Donut", ((radius < 28) & (radius > 18)) | (radius < 8), tuple(s.start for s in where))
    # Three concentric rings (two levels of nesting).
    where, (z, y, x) = b.box(mid + [n_k / 6, 60, -70], np.array([15.0, 40.0, 40.0]))
    radius = np.sqrt(y ** 2 + x ** 2) + 0 * z
    rings = ((radius < 38) & (radius > 32)) | ((radius < 26) & (radius > 20)) | ((radius < 14) & (radius > 8))
    b.add("Ring_Concentric", rings, tuple(s.start for s in where))
    # Scattered nodes: many islands, several per slice.
    nodes = np.zeros(b.shape, dtype=bool)
    for _ in range(25):
        block, offset = b.blob(b.random_center(), r.uniform(3.0, 8.0, size=3), roughness=0.1)
        nodes[tuple(slice(o, o + s) for o, s in zip(offset, block.shape))] |= block
    b.add("LN_Islands", nodes, (0, 0, 0))
    del nodes
    # A fragmented structure: thresholded smoothed noise in a large region (holes, islands, jaggies).
    radii = np.array([40.0, 60.0, 80.0])
    where, (z, y, x) = b.box(mid + [-n_k / 8, 0, 0], radii)
    field = ndimage.gaussian_filter(r.standard_normal(tuple(s.stop - s.start for s in where)), (1.5, 3.0, 3.0))
    envelope = (z / radii[0]) ** 2 + (y / radii[1]) ** 2 + (x / radii[2]) ** 2 < 1
    b.add("GTV_Fragmented", (field > 0.6 * field.std()) & envelope & b.body[where], tuple(s.start for s in where))
    # Structures cut by the first and last slices, and a tube through every slice.
    for name, k in (("Edge_First", 0.0), ("Edge_Last", n_k - 1.0)):
        center = b.random_center()
        center[0] = k
        block, offset = b.blob(center, np.array([20.0, 25.0, 25.0]), roughness=0.1)
        b.add(name, block, offset)
    where, (_, y, x) = b.box(np.array([n_k / 2, 300.0, 200.0]), np.array([n_k * b.spacing[0], 6.0, 6.0]))
    tube = np.broadcast_to((y ** 2 + x ** 2) < 25.0, tuple(s.stop - s.start for s in where))
    b.add("Tube_AllSlices", np.array(tube), tuple(s.start for s in where))
    # A target overlapping the heart and the left lung.
    heart_block, heart_offset = b.masks["Heart"]
    center = np.array(heart_offset) + np.array(heart_block.shape) / 2 + [0, 0, 40]
    block, offset = b.blob(center, np.array([25.0, 30.0, 30.0]), roughness=0.2)
    b.add("PTV_Overlap", block, offset)


def _pairs(b: _Builder, count: int) -> None:
    """Left/right pairs: a blob on the patient's left (+x, higher column index here) and its mirror image."""
    columns = b.shape[2]
    for index in range(count):
        name = PAIR_NAMES[index % len(PAIR_NAMES)]
        for _ in range(100):
            center = b.random_center(20.0)
            if center[2] > columns / 2 + 15:
                break
        size = b.rng.uniform(2.0, 25.0) if name not in ("Lens", "Cochlea") else b.rng.uniform(1.5, 3.5)
        block, offset = b.blob(center, size * b.rng.uniform(0.7, 1.3, size=3), roughness=0.15)
        b.add(f"{name}_L", block, offset)
        mirrored = block[:, :, ::-1]
        mirrored_offset = (offset[0], offset[1], columns - offset[2] - block.shape[2])
        b.add(f"{name}_R", mirrored, mirrored_offset)


def _organs(b: _Builder, count: int) -> None:
    for index in range(1, count + 1):
        size = float(np.exp(b.rng.uniform(np.log(4.0), np.log(60.0))))
        radii = size * b.rng.uniform(0.5, 1.5, size=3)
        block, offset = b.blob(b.random_center(), radii, roughness=float(b.rng.uniform(0.05, 0.3)))
        if not block.any():
            block, offset = b.blob(b.random_center(), np.maximum(radii, 5.0), roughness=0.05)
        b.add(f"Organ_{index:03d}", block, offset)


def _write_masks(b: _Builder, reference: sitk.Image, folder: Path) -> None:
    def write(item: tuple[str, tuple[np.ndarray, tuple[int, int, int]]]) -> None:
        name, (block, offset) = item
        full = np.zeros(b.shape, dtype=np.uint8)
        full[tuple(slice(o, o + s) for o, s in zip(offset, block.shape))] = block
        image = sitk.GetImageFromArray(full)
        image.CopyInformation(reference)
        sitk.WriteImage(image, str(folder / f"{name}.nii.gz"), True)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(write, b.masks.items()))


def _write_truth(b: _Builder, path: Path) -> None:
    arrays = {}
    for name, (block, offset) in b.masks.items():
        arrays[f"{name}.bits"] = np.packbits(block.ravel())
        arrays[f"{name}.shape"] = np.array(block.shape)
        arrays[f"{name}.offset"] = np.array(offset)
    np.savez(path, **arrays)


__all__ = ["CASES", "Case", "CaseSpec", "ensure_case"]
