"""OARContour core library: CT loading, naming, RTSTRUCT, auto-segmentation and QA.

Everything below this package is free of Qt. Only :mod:`OARContourLib.logic` and
:mod:`OARContourLib.headless` import ``slicer`` (MRML); the Logic is imported lazily so that the core
and the CLI run where Slicer is not installed.
"""

from __future__ import annotations

import logging
from typing import Any

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["OARContourLogic", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy so that `import OARContourLib` never needs `slicer`; the Logic needs MRML.
    if name == "OARContourLogic":
        from .logic import OARContourLogic

        return OARContourLogic
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
