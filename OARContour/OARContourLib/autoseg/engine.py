"""One entry point for every auto-segmentation engine: the Slicer Logic and the CLI both call it.

:func:`run_autoseg` looks the engine up in the registry (:mod:`.engines`), which picks the
structures (a site template, an explicit list, or everything the engine offers), runs and returns
an :class:`~.result.AutosegResult` whose structures carry TG-263 names, table colours, RT ROI
types, AUTOMATIC generation and provenance.

Registered engines:

- ``classical``: thresholds and morphology, no weights (:mod:`.classical_engine`).
- ``totalsegmentator``: TotalSegmentator in a child process (:mod:`.ts_engine`), after a preflight
  that lists everything missing (package, weights, licence, memory); existing outputs are imported
  with :func:`~.totalsegmentator_outputs.import_totalsegmentator_output`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..ct.model import CTVolume
from ..progress import ProgressCallback
from .engines import engine_for, engine_names
from .request import DEVICES, AutosegRequest
from .result import AutosegResult
from .selection import CLASSICAL, TOTALSEGMENTATOR, select_structures

if TYPE_CHECKING:
    from .ts_engine import TSRequest
    from .ts_model import PreflightReport, TSPlan

__all__ = ["CLASSICAL", "DEVICES", "ENGINES", "TOTALSEGMENTATOR", "AutosegRequest", "preflight_totalsegmentator",
           "run_autoseg", "run_request", "select_structures", "totalsegmentator_request"]

#: Names of the registered engines (the registry is the one list; this is its snapshot for choices).
ENGINES = engine_names()


def run_autoseg(ct: CTVolume, engine: str = CLASSICAL, template: str | None = None,
                structures: Sequence[str] | None = None,
                progress: ProgressCallback | None = None, *, device: str = "auto", fast: bool = False,
                ts_python: str | None = None) -> AutosegResult:
    """Auto-segment ``ct`` with ``engine`` (keyword form of :func:`run_request`).

    Parameters
    ----------
    ct
        The loaded CT (HU on its native grid).
    engine
        A registered engine name (``"classical"``, ``"totalsegmentator"``).
    template, structures
        A site template id, or TG-263 names; default: all the engine offers (see :class:`AutosegRequest`).
    progress
        ``progress(fraction, message) -> cancel``; returning True raises CancelledError.
    device, fast, ts_python
        Engine options (TotalSegmentator: device, 3 mm models, its Python).

    Raises
    ------
    InputError
        Unknown engine, device, template or structure (the message lists the valid ones); the
        engine's preflight failed (the message lists each problem and its fix).
    EngineError
        The engine crashed or was killed (probably out of memory).
    CancelledError
        When ``progress`` asks to stop.
    """
    request = AutosegRequest.of(template, structures, device=device, fast=fast, python=ts_python)
    return run_request(ct, engine, request, progress)


def run_request(ct: CTVolume, engine: str, request: AutosegRequest,
                progress: ProgressCallback | None = None) -> AutosegResult:
    """Run the registered ``engine`` for ``request`` (errors as :func:`run_autoseg`)."""
    return engine_for(engine).segment(ct, request, progress)


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


def totalsegmentator_request(template: str | None, structures: Sequence[str] | None, device: str = "auto",
                             fast: bool = False, python: str | None = None) -> TSRequest:
    """The TotalSegmentator request for a template or list (the Slicer extension adapter uses it).

    Raises
    ------
    InputError
        Unknown device, template, or a listed name no TotalSegmentator task provides.
    """
    from .ts_engine import ts_request

    return ts_request(AutosegRequest.of(template, structures, device=device, fast=fast, python=python))
