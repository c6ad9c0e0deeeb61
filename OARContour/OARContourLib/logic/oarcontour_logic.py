"""OARContourLogic: the MRML side of OARContour, without Qt.

It turns core results into nodes and nodes back into core inputs. It runs inside Slicer and, after
:func:`OARContourLib.headless.setup`, on the ``slicer-core`` wheel. It never opens a dialog: a
user's answer arrives as an argument.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import slicer

from ..ct.load import load_ct
from ..ct.model import CTVolume, SeriesReference
from ..ct.problems import Severity
from ..errors import InputError
from ..phantom import write_phantom
from ..progress import ProgressCallback
from . import subject_hierarchy, volume_nodes

logger = logging.getLogger(__name__)

#: ``log_callback(message)``: receives each line the Logic logs at INFO or above.
LogCallback = Callable[[str], None]


class OARContourLogic:
    """Load CT series into the scene and read back what an RTSTRUCT export must reference.

    Parameters
    ----------
    scene
        The MRML scene to work on; ``slicer.mrmlScene`` (read at each call) when None.
    log_callback
        Optional ``log_callback(message)`` that receives every line the Logic logs at INFO level
        or above, e.g. for a log panel in the module widget.
    """

    def __init__(self, *, scene: Any = None, log_callback: LogCallback | None = None) -> None:
        self._scene = scene
        self.log_callback = log_callback

    @property
    def scene(self) -> Any:
        """The scene given to the constructor, else ``slicer.mrmlScene``."""
        scene = self._scene if self._scene is not None else getattr(slicer, "mrmlScene", None)
        if scene is None:
            raise InputError(
                "There is no MRML scene to load into.",
                hint="Outside Slicer call OARContourLib.headless.setup() first, or pass scene=.",
            )
        return scene

    def loadCT(
        self,
        path: str | Path,
        seriesUID: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> Any:
        """Load a DICOM CT series as a scalar volume placed under its patient and study.

        Parameters
        ----------
        path
            Folder holding the CT slices (searched recursively).
        seriesUID
            Series Instance UID to load; by default the CT series with the most slices.
        progress
            Optional ``progress(fraction, message) -> cancel`` callback.

        Returns
        -------
        vtkMRMLScalarVolumeNode
            The volume in HU (voxel type of the files kept), IJKToRAS from the DICOM geometry,
            a soft-tissue window, the slices' SOP Instance UIDs in ``DICOM.instanceUIDs`` and its
            subject-hierarchy item under Patient → Study.

        Raises
        ------
        InputError
            Missing or empty folder, no DICOM files, unknown ``seriesUID``, no MRML scene.
        GeometryError
            The series does not form one regular voxel grid.
        CancelledError
            ``progress`` asked to stop; nothing was added to the scene.
        """
        scene = self.scene
        volume = load_ct(path, series_uid=seriesUID, progress=progress)
        return self.addCTVolume(volume, scene=scene)

    def loadSamplePhantom(
        self,
        variant: str = "thorax",
        outputDir: str | Path | None = None,
        progress: ProgressCallback | None = None,
    ) -> Any:
        """Write the embedded anatomical phantom (once) and load it like a hospital CT.

        Parameters
        ----------
        variant
            ``"thorax"`` or ``"headneck"``.
        outputDir
            Where the phantom's DICOM series and true masks go; by default a folder in the
            system's temporary directory, reused on later calls (the phantom is deterministic).
        progress
            Optional ``progress(fraction, message) -> cancel`` callback.

        Returns
        -------
        vtkMRMLScalarVolumeNode
            The phantom CT, placed under its Patient → Study like any loaded series.
        """
        target = Path(outputDir) if outputDir is not None else Path(tempfile.gettempdir()) / "OARContour" / f"phantom-{variant}"
        if not (target / "phantom.json").is_file():
            write_phantom(target, variant=variant, overwrite=True, progress=progress)
        return self.loadCT(target / "ct", progress=progress)

    def addCTVolume(self, volume: CTVolume, *, scene: Any = None) -> Any:
        """Add an already loaded :class:`CTVolume` to the scene, as :meth:`loadCT` does.

        Parameters
        ----------
        volume
            HU voxels, geometry and references, e.g. from ``OARContourLib.ct.load.load_ct``.
        scene
            Scene to add to; the Logic's scene when None.

        Returns
        -------
        vtkMRMLScalarVolumeNode
            The new volume node, placed under Patient → Study in the subject hierarchy.

        Raises
        ------
        InputError
            No MRML scene.
        """
        scene = scene if scene is not None else self.scene
        name = volume_nodes.volume_node_name(volume)
        node = volume_nodes.create_ct_volume_node(scene, volume, name)
        subject_hierarchy.place_series(scene, node, volume.reference, volume_nodes.instance_uids(node))
        for problem in volume.problems:
            level = logging.ERROR if problem.severity is Severity.ERROR else logging.WARNING
            self._log(level, "%s: %s", problem.code.value, problem.message)
        if not volume.reference.is_referenceable:
            self._log(
                logging.WARNING,
                "CT '%s' has no Study, Series or Frame of Reference UID: it was loaded, but an RTSTRUCT "
                "cannot reference it. Load the original (not anonymised) series to export structures.",
                name,
            )
        k, j, i = volume.hu.shape
        self._log(logging.INFO, "Loaded CT '%s': %d slices of %dx%d (%s)", name, k, j, i, volume.hu.dtype)
        return node

    def getCTReference(self, volumeNode: Any) -> SeriesReference:
        """Read back the UIDs and patient/study/series attributes of a loaded CT.

        Parameters
        ----------
        volumeNode
            A scalar volume loaded by :meth:`loadCT` or by Slicer's DICOM module.

        Returns
        -------
        SeriesReference
            What :meth:`loadCT` stored: Study, Series and Frame of Reference UIDs, modality and the
            attribute keywords of the core loader. ``is_referenceable`` is False for anonymised
            series (and for volumes Slicer loaded, which carry no Frame of Reference UID).

        Raises
        ------
        InputError
            ``volumeNode`` is not a scalar volume, or it was not loaded from DICOM.
        """
        self._check_volume_node(volumeNode)
        return subject_hierarchy.read_reference(
            volumeNode.GetScene(),
            volumeNode,
            keywords=volume_nodes.reference_keywords(volumeNode),
            frame_of_reference_uid=volumeNode.GetAttribute(volume_nodes.FRAME_OF_REFERENCE_UID_ATTRIBUTE) or "",
        )

    def _check_volume_node(self, volumeNode: Any) -> None:
        if (not hasattr(volumeNode, "IsA") or not volumeNode.IsA("vtkMRMLScalarVolumeNode")
                or volumeNode.GetScene() is None):
            raise InputError(
                f"{_describe(volumeNode)} is not a scalar volume in a scene.",
                hint="Pass the CT volume node returned by loadCT().",
            )
        sh = subject_hierarchy.subject_hierarchy_node(volumeNode.GetScene())
        loaded_by_oarcontour = volumeNode.GetAttribute(volume_nodes.REFERENCE_KEYWORDS_ATTRIBUTE) is not None
        item = sh.GetItemByDataNode(volumeNode)
        has_dicom_uid = bool(item and sh.GetItemUID(item, subject_hierarchy.DICOM_UID_NAME))
        if not (loaded_by_oarcontour or has_dicom_uid):
            raise InputError(
                f"Volume '{volumeNode.GetName()}' was not loaded from DICOM, so there is no series to reference.",
                hint="Load the CT with OARContourLogic().loadCT(folder) or Slicer's DICOM module.",
            )

    def _log(self, level: int, message: str, *args: Any) -> None:
        logger.log(level, message, *args)
        if self.log_callback is not None and level >= logging.INFO:
            self.log_callback(message % args if args else message)


def _describe(node: Any) -> str:
    if node is None:
        return "None"
    name = node.GetName() if hasattr(node, "GetName") else ""
    return f"{type(node).__name__} '{name}'"
