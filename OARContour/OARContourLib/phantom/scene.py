"""Paint the anatomy's layers into a label volume and derive the ground-truth masks from it.

Layers are painted in order, each overwriting what lies beneath (the heart over the lung, the
cord over the canal's CSF). A structure's mask is the set of voxels whose *final* label belongs to
it, so masks and HU agree voxel for voxel, and nesting (SpinalCord inside SpinalCanal, Lens inside
Eye) holds by construction when a layer lists both names.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..progress import ProgressCallback, report
from .grid import Block, ScanGrid
from .shapes import Intersection, Shape

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Layer:
    """One tissue: a solid, its HU, and the truth structures its voxels count toward.

    ``in_body`` is False only for things outside the patient (the couch). ``gravity_hu_per_mm``
    makes the tissue denser toward the couch (dependent lung).
    """

    name: str
    shape: Shape
    hu: float
    structures: tuple[str, ...] = ()
    in_body: bool = True
    gravity_hu_per_mm: float = 0.0


@dataclass(frozen=True, eq=False)
class Anatomy:
    """All layers of a variant in painting order, the truth structures in output order, the body solid."""

    layers: tuple[Layer, ...]
    structures: tuple[str, ...]
    body: Shape


def clipped_to(body: Shape, layers: list[Layer]) -> list[Layer]:
    """The layers cut to ``body``: no organ or bone may poke through the skin, whatever the seed."""
    return [replace(layer, shape=Intersection((layer.shape, body))) for layer in layers]


@dataclass(frozen=True, eq=False)
class Painted:
    """Label volume (0 = outside air, n = ``layers[n - 1]``) and the block each label can occupy."""

    labels: np.ndarray
    layers: tuple[Layer, ...]
    blocks: tuple[Block | None, ...]


def paint(layers: tuple[Layer, ...], grid: ScanGrid, progress: ProgressCallback | None = None) -> Painted:
    """Voxelise every layer by testing voxel centres, piece by piece inside each piece's box."""
    labels = np.zeros(grid.shape, dtype=np.uint8 if len(layers) < 200 else np.uint16)
    return add_layers(Painted(labels, (), ()), layers, grid, progress)


def add_layers(painted: Painted, layers: tuple[Layer, ...], grid: ScanGrid,
               progress: ProgressCallback | None = None) -> Painted:
    """Paint ``layers`` on top of what is already painted."""
    labels, first = painted.labels, len(painted.layers) + 1
    if first + len(layers) > np.iinfo(labels.dtype).max:
        labels = labels.astype(np.uint16)
    blocks: list[Block | None] = []
    for index, layer in enumerate(layers, start=first):
        if index % 8 == 0:
            report(progress, (index - first) / len(layers), f"Voxelising {layer.name}")
        covered: Block | None = None
        for piece in layer.shape.pieces():
            block = grid.block(piece.bounds())
            if block is None:
                continue
            np.copyto(labels[block], labels.dtype.type(index), where=piece.contains(*grid.coords(block)))
            covered = block if covered is None else _merge(covered, block)
        blocks.append(covered)
    return Painted(labels, (*painted.layers, *layers), (*painted.blocks, *blocks))


def lowest_body_depth(painted: Painted, grid: ScanGrid) -> float | None:
    """Largest depth toward the couch (``down * y``, mm) of any body voxel; None without body voxels."""
    body = _labels_in(painted.labels, _lookup(painted.layers, lambda layer: layer.in_body))
    rows = np.flatnonzero(body.any(axis=(0, 2)))
    if rows.size == 0:
        return None
    depth = grid.down * grid.y_mm[rows]
    return float(depth.max()) + grid.geometry.spacing_mm[1] / 2.0


def _merge(a: Block, b: Block) -> Block:
    k, j, i = (slice(min(p.start, q.start), max(p.stop, q.stop)) for p, q in zip(a, b, strict=True))
    return k, j, i


def clear_outside_fov(painted: Painted, grid: ScanGrid) -> None:
    """Nothing exists outside the reconstruction circle; warn when that cuts the patient."""
    outside = ~grid.inside_fov()
    labels = painted.labels
    body = _lookup(painted.layers, lambda layer: layer.in_body)
    cut = int(np.count_nonzero(body[labels[:, outside]]))
    if cut:
        logger.warning("The field of view cuts %d body voxels; increase pixel_spacing_mm or rows/columns.", cut)
    labels[:, outside] = 0


def _lookup(layers: tuple[Layer, ...], keep: Callable[[Layer], bool]) -> np.ndarray:
    table = np.zeros(len(layers) + 1, dtype=bool)
    table[1:] = [bool(keep(layer)) for layer in layers]
    return table


def structure_mask(painted: Painted, name: str) -> np.ndarray:
    """Bool (k, j, i) mask of one structure, computed only inside the block its layers can occupy."""
    if name == "Body":
        return _labels_in(painted.labels, _lookup(painted.layers, lambda layer: layer.in_body))
    table = _lookup(painted.layers, lambda layer: name in layer.structures)
    mask = np.zeros(painted.labels.shape, dtype=bool)
    present = [block for index in np.flatnonzero(table) if (block := painted.blocks[index - 1]) is not None]
    if present:
        union = present[0]
        for block in present[1:]:
            union = _merge(union, block)
        mask[union] = _labels_in(painted.labels[union], table)
    return mask


def couch_mask(painted: Painted) -> np.ndarray:
    """Bool mask of everything painted outside the patient (the couch)."""
    return _labels_in(painted.labels, _lookup(painted.layers, lambda layer: not layer.in_body))


def _labels_in(labels: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``table[labels]``, but as comparisons, which are several times faster than a gather."""
    wanted = np.flatnonzero(table)
    if wanted.size == 0:
        return np.zeros(labels.shape, dtype=bool)
    if wanted[-1] - wanted[0] + 1 == wanted.size:  # one run of consecutive labels
        return (labels >= wanted[0]) & (labels <= wanted[-1])
    if wanted.size <= 4:
        result = labels == wanted[0]
        for value in wanted[1:]:
            result |= labels == value
        return result
    return table[labels]
