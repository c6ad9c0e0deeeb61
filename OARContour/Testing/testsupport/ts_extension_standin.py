"""A stand-in for the SlicerTotalSegmentator extension's logic, for tests outside the Slicer application.

The extension needs the application, PyTorch and model weights, and is not installable here. This
class has the parts OARContour uses, as at lassoan/SlicerTotalSegmentator 6a82370
(``TotalSegmentator/TotalSegmentator.py``):

- ``logCallback = None`` set in ``__init__`` (:437) and ``log(text)`` forwarding to it only when
  set (:689-692);
- ``process(inputVolume, outputSegmentation, quality=None, cpu=False, task=None, subset=None,
  interactive=False, sequenceBrowserNode=None)`` (:1039), which logs every line its child process
  prints while it runs (``logProcessOutput``, :955-985) and adds one segment per class, the segment
  ID being the class name (:1291);
- ``InstallError(message, restartRequired=False)`` (:402-409).

The segments are the boxes of :func:`fake_totalsegmentator.box_kji`, so tests know where each lands.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import slicer
import slicer.util

from . import fake_totalsegmentator

#: Lines the stand-in "child process" prints during one task, as TotalSegmentator does.
CHILD_OUTPUT = ("Resampling...", "Predicting part 1 of 1 ...", "Saving segmentations...")


class InstallError(Exception):
    """The extension's error for a failed or cancelled package setup."""

    def __init__(self, message: str, restartRequired: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.restartRequired = restartRequired


class TotalSegmentatorLogic:
    """The extension's logic class, reduced to ``logCallback``, ``log`` and ``process``."""

    def __init__(self) -> None:
        self.logCallback = None
        self.calls: list[dict[str, Any]] = []
        #: (message, logCallback was set) for every line logged, in order.
        self.logged: list[tuple[str, bool]] = []

    def log(self, text: str) -> None:
        self.logged.append((text, self.logCallback is not None))
        if self.logCallback:
            self.logCallback(text)

    def process(self, inputVolume: Any, outputSegmentation: Any, quality: Any = None, cpu: bool = False,
                task: str | None = None, subset: list[str] | None = None, interactive: bool = False,
                sequenceBrowserNode: Any = None) -> None:
        if not inputVolume or not outputSegmentation:
            raise ValueError("Input or output volume is invalid")
        self.calls.append(dict(quality=quality, cpu=cpu, task=task, subset=subset, interactive=interactive))
        self.log("Processing started")
        for line in CHILD_OUTPUT:
            self.log(line)
        _draw(inputVolume, outputSegmentation, task or "total", subset)
        self.log("Processing completed")


def _draw(ct_node: Any, output: Any, task: str, subset: list[str] | None) -> None:
    output.CreateDefaultDisplayNodes()
    output.SetReferenceImageGeometryParameterFromVolumeNode(ct_node)
    shape = slicer.util.arrayFromVolume(ct_node).shape
    for index, name in enumerate(subset or fake_totalsegmentator.DEFAULT_CLASSES[task]):
        mask = np.zeros(shape, dtype=np.uint8)
        mask[fake_totalsegmentator.box_kji(index, shape)] = 1
        output.GetSegmentation().AddEmptySegment(name, name, (1.0, 0.0, 0.0))
        slicer.util.updateSegmentBinaryLabelmapFromArray(mask, output, name, ct_node)
