"""One entry point for every auto-segmentation engine: the Slicer Logic and the CLI both call it.

:func:`run_autoseg` picks the structures (a site template, an explicit list, or everything the
engine offers), runs the engine and returns an :class:`~.result.AutosegResult` whose structures
carry TG-263 names, table colours, RT ROI types, AUTOMATIC generation and provenance.

Engines:

- ``classical``: thresholds and morphology, no weights (:mod:`.classical`).
- ``totalsegmentator``: TotalSegmentator in a child process (:mod:`.ts_engine`), after a preflight
  that lists everything missing (package, weights, licence, memory); existing outputs are imported
  with :func:`~.totalsegmentator_outputs.import_totalsegmentator_output`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..ct.model import CTVolume
from ..errors import InputError
from ..naming.tables import load_tables
from ..progress import ProgressCallback
from .classical import ENGINE_VERSION, SUPPORTED_STRUCTURES, segment_classical
from .result import (
    REASON_MANUAL,
    REASON_NEEDS_CLASSICAL,
    REASON_NEEDS_TOTALSEGMENTATOR,
    AutosegResult,
    description_for,
    make_structure,
)

if TYPE_CHECKING:
    from .ts_engine import TSRequest
    from .ts_model import PreflightReport, TSPlan

logger = logging.getLogger(__name__)

CLASSICAL = "classical"
TOTALSEGMENTATOR = "totalsegmentator"
ENGINES = (CLASSICAL, TOTALSEGMENTATOR)
#: Devices a caller may ask for; ``auto`` takes the GPU when TotalSegmentator's torch sees one.
DEVICES = ("auto", "cpu", "gpu")


def run_autoseg(ct: CTVolume, engine: str = CLASSICAL, template: str | None = None,
                structures: Sequence[str] | None = None,
                progress: ProgressCallback | None = None, *, device: str = "auto", fast: bool = False,
                ts_python: str | None = None) -> AutosegResult:
    """Auto-segment ``ct`` with ``engine``.

    Parameters
    ----------
    ct
        The loaded CT (HU on its native grid).
    engine
        ``"classical"`` or ``"totalsegmentator"``.
    template
        A site template id (``"Thorax"``): its structures the engine can provide are produced, the
        others are reported in ``skipped`` ("manual", "needs TotalSegmentator", ...).
    structures
        TG-263 names to produce instead of a template; default: all the engine offers.
    progress
        ``progress(fraction, message) -> cancel``; returning True raises CancelledError.
    device, fast, ts_python
        TotalSegmentator only: ``"auto"``, ``"cpu"`` or ``"gpu"``; the 3 mm models; the Python
        that has TotalSegmentator (default ``$OARCONTOUR_TS_PYTHON``, else this one).

    Raises
    ------
    InputError
        Unknown engine, template or structure (the message lists the valid ones); the
        TotalSegmentator preflight failed (not installed, weights or licence missing, too little
        memory: the message lists each problem and its fix).
    EngineError
        TotalSegmentator crashed or was killed (probably out of memory).
    CancelledError
        When ``progress`` asks to stop.
    """
    if engine not in ENGINES:
        raise InputError(f"Unknown auto-segmentation engine '{engine}'.", hint=f"Use one of: {', '.join(ENGINES)}.")
    if engine == TOTALSEGMENTATOR:
        return _run_totalsegmentator(ct, template, structures, progress, device=device, fast=fast, python=ts_python)
    wanted, skipped = select_structures(engine, SUPPORTED_STRUCTURES, template, structures)
    return _run_classical(ct, wanted, skipped, template, progress)


def select_structures(engine: str, available: Sequence[str], template: str | None,
                      structures: Sequence[str] | None) -> tuple[list[str], dict[str, str]]:
    """The names to produce and the template names skipped with their reason.

    Raises
    ------
    InputError
        Both a template and a list given; unknown template; a listed name the engine cannot produce.
    """
    if template is not None and structures is not None:
        raise InputError("Pass either a template or a structure list, not both.", hint="Drop one of them.")
    if template is not None:
        return _from_template(engine, available, template)
    if structures is None:
        return list(available), {}
    unknown = [name for name in structures if name not in available]
    if unknown:
        raise InputError(f"The {engine} engine cannot produce: {', '.join(unknown)}.",
                         hint=f"Choose from: {', '.join(available)}.")
    return list(dict.fromkeys(structures)), {}


def _from_template(engine: str, available: Sequence[str], template: str) -> tuple[list[str], dict[str, str]]:
    entries = load_tables().require_template(template)
    wanted, skipped = [], {}
    for entry in entries:
        if entry.tg263_name in available:
            wanted.append(entry.tg263_name)
        elif entry.source == "manual":
            skipped[entry.tg263_name] = REASON_MANUAL
        elif entry.source == "totalsegmentator" and engine != TOTALSEGMENTATOR:
            skipped[entry.tg263_name] = REASON_NEEDS_TOTALSEGMENTATOR
        elif entry.source == "classical" and engine != CLASSICAL:
            skipped[entry.tg263_name] = REASON_NEEDS_CLASSICAL
        else:
            task = f" (task {entry.ts_task})" if entry.ts_task else ""
            skipped[entry.tg263_name] = f"not provided by this {engine} run{task}"
    return wanted, skipped


def _run_classical(ct: CTVolume, wanted: list[str], skipped: dict[str, str], template: str | None,
                   progress: ProgressCallback | None) -> AutosegResult:
    started = time.perf_counter()
    result = segment_classical(ct, wanted, progress) if wanted else None
    description = description_for(CLASSICAL, ENGINE_VERSION)
    made = []
    if result is not None:
        skipped.update(result.skipped)
        for name in wanted:
            mask = result.masks.get(name)
            if mask is None:
                skipped.setdefault(name, "not produced")
            elif not mask.any():
                skipped[name] = "empty: no voxels found"
            else:
                made.append(make_structure(name, mask, description))
    provenance = {"engine": CLASSICAL, "version": ENGINE_VERSION, "template": template,
                  "settings": result.provenance.get("settings", {}) if result else {},
                  "seconds": round(time.perf_counter() - started, 3)}
    return AutosegResult(tuple(made), skipped, provenance)


def preflight_totalsegmentator(ct: CTVolume, template: str | None = None, structures: Sequence[str] | None = None,
                               *, device: str = "auto", fast: bool = False,
                               ts_python: str | None = None) -> tuple[TSPlan, PreflightReport]:
    """The TotalSegmentator plan and preflight for this request, without running anything.

    Raises
    ------
    InputError
        Unknown device, template or structure (not a failed preflight: read ``report.ok``).
    """
    from .ts_engine import check

    return check(ct, totalsegmentator_request(template, structures, device, fast, ts_python))


def _run_totalsegmentator(ct: CTVolume, template: str | None, structures: Sequence[str] | None,
                          progress: ProgressCallback | None, *, device: str, fast: bool,
                          python: str | None) -> AutosegResult:
    from .ts_engine import segment_totalsegmentator

    request = totalsegmentator_request(template, structures, device, fast, python)
    return segment_totalsegmentator(ct, request, progress=progress)


def totalsegmentator_request(template: str | None, structures: Sequence[str] | None, device: str = "auto",
                             fast: bool = False, python: str | None = None) -> TSRequest:
    """The names TotalSegmentator should produce for a template or list, and the template names it skips.

    Raises
    ------
    InputError
        Unknown device, template, or a listed name no TotalSegmentator task provides.
    """
    # Imported here: the TotalSegmentator modules import this one (select_structures).
    from .ts_engine import TSRequest
    from .ts_plan import available_structures

    if device not in DEVICES:
        raise InputError(f"Unknown device '{device}'.", hint=f"Use one of: {', '.join(DEVICES)}.")
    wanted, skipped = select_structures(TOTALSEGMENTATOR, available_structures(), template, structures)
    return TSRequest(tuple(wanted), skipped, template, device, fast, python)
