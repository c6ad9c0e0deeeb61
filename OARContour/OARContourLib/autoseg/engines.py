"""The engine plug-in interface and the registry every caller iterates over.

``run_autoseg``, the panel's engine list and the CLI's ``--engine`` choices all read
:data:`REGISTRY`. Adding an engine is one module implementing :class:`Engine` and one line here.
"""

from __future__ import annotations

from typing import Protocol

from ..ct.model import CTVolume
from ..errors import InputError
from ..progress import ProgressCallback
from .classical_engine import ClassicalEngine
from .request import AutosegRequest, EnginePreflight
from .result import AutosegResult
from .ts_engine import TotalSegmentatorEngine


class Engine(Protocol):
    """An auto-segmentation engine.

    ``name`` is the value scripts pass (``--engine``); ``label`` is shown in the panel;
    :meth:`structures` lists the TG-263 names it can produce; :meth:`segment` runs it;
    :meth:`preflight` returns ``None`` when the engine has nothing to check before a run.
    """

    name: str
    label: str

    def structures(self) -> tuple[str, ...]: ...

    def segment(self, ct: CTVolume, request: AutosegRequest,
                progress: ProgressCallback | None = None) -> AutosegResult: ...

    def preflight(self, ct: CTVolume, request: AutosegRequest) -> EnginePreflight | None: ...


#: Every engine, in the order the panel and ``--help`` list them; the first is the default.
REGISTRY: tuple[Engine, ...] = (ClassicalEngine(), TotalSegmentatorEngine())


def engine_names() -> tuple[str, ...]:
    return tuple(engine.name for engine in REGISTRY)


def engine_for(name: str) -> Engine:
    """The registered engine called ``name``.

    Raises
    ------
    InputError
        No engine has that name (the message lists them).
    """
    for engine in REGISTRY:
        if engine.name == name:
            return engine
    raise InputError(f"Unknown auto-segmentation engine '{name}'.", hint=f"Use one of: {', '.join(engine_names())}.")
