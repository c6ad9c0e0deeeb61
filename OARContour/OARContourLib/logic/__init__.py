"""The MRML Logic of OARContour: needs ``slicer`` (the Slicer application or the slicer-core wheel).

Outside Slicer, call :func:`OARContourLib.headless.setup` before using :class:`OARContourLogic`.
"""

from __future__ import annotations

try:
    import slicer  # noqa: F401  (checked here so the error names the fix)
except ImportError as exc:  # pragma: no cover - depends on the environment
    from ..errors import InputError
    from ..headless import INSTALL_HINT

    raise InputError("OARContourLogic needs MRML from slicer-core or the Slicer application.", hint=INSTALL_HINT) from exc

from .oarcontour_logic import LogCallback, OARContourLogic
from .workflow import ExportResult, Rename

__all__ = ["ExportResult", "LogCallback", "OARContourLogic", "Rename"]
