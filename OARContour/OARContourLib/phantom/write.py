"""Write a phantom to disk atomically: ``<out>/ct`` (DICOM), ``<out>/truth`` (NIfTI), ``<out>/phantom.json``.

Everything is written into a hidden sibling folder first and renamed into place at the end, so an
error or a cancel never leaves a half-written phantom where a caller expects a complete one.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

from ..atomic import os_error_at, publish_folder, staging_folder
from ..errors import InputError
from ..progress import ProgressCallback, report, scaled
from .build import build_volume, make_request
from .dicom import write_series
from .model import PatientPosition, PhantomResult, PhantomVariant, PhantomVolume
from .truth import write_truth
from .uids import SeriesUIDs, series_uids

logger = logging.getLogger(__name__)

CT_FOLDER, TRUTH_FOLDER, MANIFEST = "ct", "truth", "phantom.json"


def write_phantom(
    out_dir: str | os.PathLike[str],
    *,
    variant: PhantomVariant | str = "thorax",
    rows: int = 512,
    columns: int = 512,
    slices: int | None = None,
    pixel_spacing_mm: float = 0.977,
    slice_spacing_mm: float | None = None,
    patient_position: PatientPosition | str = "HFS",
    seed: int = 0,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
) -> PhantomResult:
    """Build the phantom and write its CT series and ground-truth masks into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to create (its parents are created too). It must not exist or be empty unless
        ``overwrite`` is True, in which case it is replaced only after the new phantom is complete.
    variant, rows, columns, slices, pixel_spacing_mm, slice_spacing_mm, patient_position, seed
        As for :func:`build_phantom`.
    overwrite
        Replace a non-empty ``out_dir``.
    progress
        ``progress(fraction, message) -> cancel``; returning True stops the run and removes the
        partial output.

    Returns
    -------
    PhantomResult
        Paths (``ct_dir``, ``truth_dir``), structure names, geometry and the series UIDs.

    Raises
    ------
    InputError
        For invalid arguments, or when ``out_dir`` is a file or a non-empty folder without
        ``overwrite``. Nothing is written in that case.
    CancelledError
        When ``progress`` asks to stop; nothing is left behind.
    """
    started = time.perf_counter()
    target = Path(out_dir).expanduser().absolute()
    request = make_request(variant, rows, columns, slices, pixel_spacing_mm, slice_spacing_mm, patient_position, seed)
    _check_target(target, overwrite)
    volume = build_volume(request, scaled(progress, 0.0, 0.45))
    uids = series_uids(request.identity, request.slices)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_folder(target)
    try:
        (staging / CT_FOLDER).mkdir()
        (staging / TRUTH_FOLDER).mkdir()
        write_series(volume, uids, staging / CT_FOLDER, scaled(progress, 0.45, 0.85))
        truth = write_truth(volume, staging / TRUTH_FOLDER, scaled(progress, 0.85, 0.99))
        result = _result(target, volume, uids, {name: target / TRUTH_FOLDER / p.name for name, p in truth.items()})
        (staging / MANIFEST).write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
        publish_folder(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise os_error_at(exc, target) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report(progress, 1.0, "Phantom written")
    logger.info("Wrote %s phantom (%d slices, %d masks) to %s in %.2f s", request.variant.value, request.slices,
                len(truth), target.name, time.perf_counter() - started)
    return result


def _check_target(target: Path, overwrite: bool) -> None:
    """Refuse files, non-empty folders (unless ``overwrite``) and folders that must never be deleted."""
    if target.exists() and not target.is_dir():
        raise InputError(f"Output path {target} is a file, not a folder.", hint="Choose a folder path for the phantom.")
    if not target.is_dir() or not any(target.iterdir()):
        return
    if not overwrite:
        raise InputError(f"Output folder {target} is not empty.",
                         hint="Choose a new or empty folder, or pass overwrite=True to replace it.")
    protected = {Path(target.anchor), Path.home().absolute(), Path.cwd()}
    if target in protected or Path.cwd().is_relative_to(target):
        raise InputError(f"Refusing to replace {target}: it is a root, home or working folder.",
                         hint="Choose a dedicated output folder.")


def _result(target: Path, volume: PhantomVolume, uids: SeriesUIDs, truth: dict[str, Path]) -> PhantomResult:
    return PhantomResult(
        out_dir=target, ct_dir=target / CT_FOLDER, truth_dir=target / TRUTH_FOLDER, structures=volume.structures,
        geometry=volume.geometry, study_instance_uid=uids.study, series_instance_uid=uids.series,
        frame_of_reference_uid=uids.frame_of_reference, variant=volume.variant,
        patient_position=volume.patient_position, seed=volume.seed, truth_files=truth,
    )
