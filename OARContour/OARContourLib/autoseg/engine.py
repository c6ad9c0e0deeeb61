"""One entry point for every auto-segmentation engine: the Slicer Logic and the CLI both call it.

:func:`run_autoseg` picks the structures (a site template, an explicit list, or everything the
engine offers), runs the engine and returns an :class:`~.result.AutosegResult` whose structures
carry TG-263 names, table colours, RT ROI types, AUTOMATIC generation and provenance.

Engines:

- ``classical``: thresholds and morphology, no weights (:mod:`.classical`).
- ``totalsegmentator``: not run from here yet. :func:`check_totalsegmentator` says what is missing
  (package, weights); outputs of a TotalSegmentator run are imported with
  :func:`~.totalsegmentator_outputs.import_totalsegmentator_output`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

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

logger = logging.getLogger(__name__)

CLASSICAL = "classical"
TOTALSEGMENTATOR = "totalsegmentator"
ENGINES = (CLASSICAL, TOTALSEGMENTATOR)
INSTALL_HINT = "pip install 'oarcontour[totalsegmentator]'"


def run_autoseg(ct: CTVolume, engine: str = CLASSICAL, template: str | None = None,
                structures: Sequence[str] | None = None,
                progress: ProgressCallback | None = None) -> AutosegResult:
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

    Raises
    ------
    InputError
        Unknown engine, template or structure (the message lists the valid ones); TotalSegmentator
        not installed or its weights missing.
    CancelledError
        When ``progress`` asks to stop.
    """
    if engine not in ENGINES:
        raise InputError(f"Unknown auto-segmentation engine '{engine}'.", hint=f"Use one of: {', '.join(ENGINES)}.")
    wanted, skipped = select_structures(engine, SUPPORTED_STRUCTURES if engine == CLASSICAL else (),
                                        template, structures)
    if engine == TOTALSEGMENTATOR:
        check_totalsegmentator()
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
    entries = load_tables().template(template)
    if not entries:
        raise InputError(f"Unknown site template '{template}'.",
                         hint=f"Use one of: {', '.join(load_tables().templates)}.")
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


def totalsegmentator_weights_dir() -> Path:
    """Where TotalSegmentator looks for weights: $TOTALSEG_WEIGHTS_PATH, else $TOTALSEG_HOME_DIR/nnunet/results."""
    explicit = os.environ.get("TOTALSEG_WEIGHTS_PATH")
    if explicit:
        return Path(explicit).expanduser()
    home = Path(os.environ.get("TOTALSEG_HOME_DIR") or Path.home() / ".totalsegmentator").expanduser()
    return home / "nnunet" / "results"


def check_totalsegmentator() -> None:
    """Raise an :class:`InputError` naming what TotalSegmentator still needs (never imports torch).

    Raises
    ------
    InputError
        Always for now: the package is missing, the weights are missing, or running it from
        OARContour is not available yet (import its output with ``--import-ts`` instead).
    """
    if importlib.util.find_spec("totalsegmentator") is None:
        raise InputError("TotalSegmentator is not installed.",
                         hint=f"{INSTALL_HINT}, or use --engine classical, or import an existing output "
                              "with --import-ts PATH.")
    weights = totalsegmentator_weights_dir()
    if not weights.is_dir() or not any(weights.iterdir()):
        raise InputError(f"No TotalSegmentator weights in {weights}.",
                         hint="Run 'totalseg_download_weights -t total' (or copy a populated "
                              "~/.totalsegmentator); set TOTALSEG_WEIGHTS_PATH or TOTALSEG_HOME_DIR "
                              "to use another folder.")
    raise InputError("Running TotalSegmentator from OARContour is not available yet.",
                     hint="Run TotalSegmentator on the CT yourself and import its output with --import-ts PATH.")
