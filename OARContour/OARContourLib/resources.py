"""Locate the module's Resources folder (icons, UI, data tables) wherever the code runs.

Inside Slicer and in a source checkout, ``Resources/`` sits beside the ``OARContourLib`` package
(the scripted-module layout); in an installed wheel it is the subpackage ``OARContourLib.Resources``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .errors import OARContourError

#: A file every complete Resources folder has; guards against an unrelated ``Resources`` folder.
MARKER = Path("UI") / "OARContour.ui"


@lru_cache(maxsize=1)
def resources_dir() -> Path:
    """The Resources folder of this installation.

    Raises
    ------
    OARContourError
        When neither layout holds the resources (a broken install).
    """
    package = Path(__file__).resolve().parent
    for candidate in (package / "Resources", package.parent / "Resources"):
        if (candidate / MARKER).is_file():
            return candidate
    raise OARContourError(
        f"OARContour resources not found beside {package}.",
        hint="Reinstall OARContour (pip install --force-reinstall oarcontour) or the Slicer extension.",
        code="RESOURCES_MISSING",
    )


def resource_path(relative: str | Path) -> Path:
    """Path of one resource file, e.g. ``resource_path("UI/OARContour.ui")``."""
    return resources_dir() / relative
