"""CT series loading (core, no Slicer): scan a folder, choose a series, stack it in HU."""

from ..findings import Severity
from .model import CTVolume, ImageGeometry, SeriesReference, SliceReference
from .problems import Problem, ProblemCode

__all__ = [
    "CTVolume",
    "ImageGeometry",
    "Problem",
    "ProblemCode",
    "SeriesReference",
    "Severity",
    "SliceReference",
]
