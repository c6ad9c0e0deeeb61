"""Compare two structure sets on one CT: pair them by name, then measure every pair."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping

from ..ct.model import ImageGeometry
from ..errors import InputError
from ..metrics import compare_masks
from ..progress import ProgressCallback, report
from .blocks import disagreement_order, pair_grid
from .directional import axis_extensions
from .inputs import StructureSet
from .pairing import pair_names
from .result import ComparisonResult, PairResult

logger = logging.getLogger(__name__)


def compare_structure_sets(reference: StructureSet, test: StructureSet, geometry: ImageGeometry, *,
                           tolerance_mm: float = 2.0, mapping: Mapping[str, str] | None = None,
                           progress: ProgressCallback | None = None) -> ComparisonResult:
    """Pair ``reference`` and ``test`` structures by name and compare every pair on the CT grid.

    Parameters
    ----------
    reference, test
        Structure sets on the grid ``geometry`` (:func:`~.inputs.load_structure_set`).
    tolerance_mm
        Surface Dice and added path length tolerance, in mm (> 0).
    mapping
        Reference name → test name pairs that override the name matching (``--map A=B``).
    progress
        Optional ``progress(fraction, message) -> cancel`` callback.

    Raises
    ------
    InputError
        A tolerance that is not positive; ``mapping`` names an absent structure.
    CancelledError
        ``progress`` asked to stop.
    """
    if not tolerance_mm > 0:
        raise InputError(f"Tolerance {tolerance_mm} mm is not positive.", hint="Use e.g. --tolerance 2 (mm).")
    started = time.perf_counter()
    pairing = pair_names(reference.names, test.names, mapping)
    results = []
    for index, (reference_name, test_name) in enumerate(pairing.pairs):
        report(progress, index / max(len(pairing.pairs), 1), f"Comparing {reference_name}")
        grid = pair_grid(reference.structure(reference_name), test.structure(test_name), geometry)
        metrics = compare_masks(grid.reference, grid.test, grid.geometry, tolerance_mm)
        start_k = grid.start_kji[0]
        metrics = dataclasses.replace(metrics, slices_only_reference=tuple(k + start_k for k in metrics.slices_only_reference),
                                      slices_only_test=tuple(k + start_k for k in metrics.slices_only_test))
        worst = disagreement_order(grid.reference, grid.test)
        results.append(PairResult(reference_name, test_name, metrics, worst[0] + start_k if worst else None,
                                  axis_extensions(grid.reference, grid.test, grid.geometry)))
    report(progress, 1.0, f"Compared {len(results)} pairs")
    logger.info("Compared %d structure pairs in %.2f s", len(results), time.perf_counter() - started)
    return ComparisonResult(float(tolerance_mm), tuple(results), pairing.unpaired_reference, pairing.unpaired_test)
