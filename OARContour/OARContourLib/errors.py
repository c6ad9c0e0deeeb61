"""Errors raised by the OARContour core.

Every error carries a stable ``code`` (for scripts and JSON output) and a ``hint`` that tells the
user what to do next. The CLI maps :class:`InputError` to exit code 2.
"""

from __future__ import annotations


class OARContourError(Exception):
    """Base class of every error the core raises on purpose."""

    code: str = "OARCONTOUR_ERROR"

    def __init__(self, message: str, *, hint: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(OARContourError):
    """The user's input (path, option, file) cannot be used; nothing was written."""

    code = "INPUT_ERROR"


class GeometryError(OARContourError):
    """Image or structure geometry cannot be represented or referenced safely."""

    code = "GEOMETRY_ERROR"


class NamingError(OARContourError):
    """A structure name breaks TG-263 or a planning-system profile."""

    code = "NAMING_ERROR"


class ExportError(OARContourError):
    """An RTSTRUCT or other output could not be written conformantly."""

    code = "EXPORT_ERROR"


class EngineError(OARContourError):
    """An external segmentation engine (TotalSegmentator) failed while running; nothing was written."""

    code = "ENGINE_ERROR"


class CancelledError(OARContourError):
    """The user cancelled a long operation through its progress callback."""

    code = "CANCELLED"
