"""RTSTRUCT export through SlicerRT's exporter, corrected and re-referenced by the core afterwards.

SlicerRT's ``DicomRtImportExportPlugin`` reads what to export from the subject hierarchy: the CT
and the segmentation must be siblings under one study, and a script (unlike the export dialog) must
set the patient and study tags itself. It always writes a new CT series with a new Frame of
Reference, and leaves ROI types empty; :func:`OARContourLib.rtstruct.slicerrt_fixup.fix_slicerrt_rtstruct`
repairs both. The plugin exists only inside Slicer with SlicerRT installed; everything up to the
plugin call (:func:`prepare_for_export`) also runs headless.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydicom
import slicer
from pydicom.errors import InvalidDicomError

from ..atomic import publish_folder
from ..ct.load import load_ct
from ..ct.model import CTVolume
from ..errors import ExportError, InputError
from ..rtstruct.dataset import PATIENT_STUDY_KEYWORDS, RT_STRUCTURE_SET_STORAGE
from ..rtstruct.model import ExportEngine, Structure
from ..rtstruct.roi_metadata import metadata_of
from ..rtstruct.slicerrt_fixup import fix_slicerrt_rtstruct
from . import subject_hierarchy, workflow

logger = logging.getLogger(__name__)

PLUGIN_MODULE = "DicomRtImportExportPlugin"
SLICERRT_HINT = ("Install SlicerRT from the Extensions Manager and restart Slicer, or use engine='builtin' "
                 "(OARContour's own writer, which references the original CT directly).")
BINARY_LABELMAP = "Binary labelmap"
#: The exportables get the tags an RTSTRUCT copies from its CT: patient ones from the patient item, the rest from the study.
PATIENT_TAGS = tuple(k for k in PATIENT_STUDY_KEYWORDS if k.startswith("Patient"))
STUDY_TAGS = tuple(k for k in PATIENT_STUDY_KEYWORDS if k not in PATIENT_TAGS)


@dataclass(frozen=True)
class ExportItems:
    """Subject-hierarchy items of one SlicerRT export and the tags to give its exportables."""

    patient: int
    study: int
    ct: int
    segmentation: int
    tags: Mapping[str, str] = field(default_factory=dict)


def slicerrt_available() -> bool:
    """True inside Slicer with SlicerRT's DICOM-RT module and export plugin; False on ``slicer-core``."""
    modules = getattr(slicer, "modules", None)
    if modules is None or not hasattr(modules, "dicomrtimportexport"):
        return False
    try:
        return importlib.util.find_spec(PLUGIN_MODULE) is not None
    except (ImportError, ValueError):
        return False


def require_slicerrt() -> None:
    """Raise before anything is written when SlicerRT's exporter is missing."""
    if not slicerrt_available():
        raise InputError("SlicerRT is not installed, so engine='slicerrt' cannot export.", hint=SLICERRT_HINT,
                         code="SLICERRT_MISSING")


def prepare_for_export(scene: Any, seg_node: Any, ct_node: Any) -> ExportItems:
    """Make the segmentation a sibling of the CT under its study, with a binary-labelmap source.

    The labelmap source makes SlicerRT contour voxel edges on every CT slice; a closed-surface
    source would be cut by planes instead, which loses detail (see ../shared/docs/slicerrt-export.md).

    Raises
    ------
    InputError
        The CT is not under a study (not loaded from DICOM), or the segmentation cannot be turned
        into a binary labelmap.
    """
    sh = subject_hierarchy.subject_hierarchy_node(scene)
    ct_item = sh.GetItemByDataNode(ct_node)
    study = sh.GetItemAncestorAtLevel(ct_item, subject_hierarchy.LEVEL_STUDY) if ct_item else 0
    if not study:
        raise InputError(f"CT '{ct_node.GetName()}' is not under a patient and study in the subject hierarchy.",
                         hint="Load the CT with OARContourLogic().loadCT(folder) or Slicer's DICOM module.")
    patient = sh.GetItemAncestorAtLevel(study, subject_hierarchy.LEVEL_PATIENT)
    seg_item = sh.GetItemByDataNode(seg_node) or sh.CreateItem(study, seg_node)
    sh.SetItemParent(seg_item, study)
    _use_labelmap_source(seg_node)
    _fill_unprefixed_study_id(sh, study)
    tags = export_tags(sh, patient, study)
    return ExportItems(int(patient), int(study), int(ct_item), int(seg_item), tags)


def _use_labelmap_source(seg_node: Any) -> None:
    if not seg_node.GetSegmentation().CreateRepresentation(BINARY_LABELMAP):
        raise InputError(f"Segmentation '{seg_node.GetName()}' cannot be converted to a binary labelmap.",
                         hint="Convert it in the Segmentations module (Representations) and export again.")
    # Slicer 5.4 renamed "master" to "source" representation.
    setter = getattr(seg_node, "SetSourceRepresentationToBinaryLabelmap", None) or \
        seg_node.SetMasterRepresentationToBinaryLabelmap
    setter()


def _fill_unprefixed_study_id(sh: Any, study: int) -> None:
    """SlicerRT reads StudyID without the ``DICOM.`` prefix; Slicer's DICOM module sets only the prefixed one."""
    if not sh.GetItemAttribute(study, "StudyID"):
        sh.SetItemAttribute(study, "StudyID", sh.GetItemAttribute(study, subject_hierarchy.ATTRIBUTE_PREFIX + "StudyID"))


def export_tags(sh: Any, patient: int, study: int) -> dict[str, str]:
    """Patient and study tags for the exportables (only Slicer's export dialog sets them itself)."""
    tags = {tag: str(sh.GetItemAttribute(patient, subject_hierarchy.ATTRIBUTE_PREFIX + tag)) if patient else ""
            for tag in PATIENT_TAGS}
    tags.update({tag: str(sh.GetItemAttribute(study, subject_hierarchy.ATTRIBUTE_PREFIX + tag)) for tag in STUDY_TAGS})
    tags["StudyInstanceUID"] = str(sh.GetItemUID(study, subject_hierarchy.DICOM_UID_NAME))
    return tags


def run_slicerrt_export(items: ExportItems, directory: Path) -> None:
    """Call SlicerRT's exporter on the CT and segmentation items (inside Slicer only).

    Raises
    ------
    ExportError
        The plugin finds nothing to export for an item, or reports an error.
    """
    import DicomRtImportExportPlugin  # SlicerRT's scripted DICOM plugin; only importable inside Slicer

    plugin = DicomRtImportExportPlugin.DicomRtImportExportPluginClass()
    exportables = [e for item in (items.ct, items.segmentation) for e in plugin.examineForExport(item)]
    if len(exportables) != 2:  # one flat list: a nested one fails inside the plugin
        raise ExportError(f"SlicerRT offered {len(exportables)} exportables for the CT and segmentation (expected 2).",
                          hint="Check that the CT is a scalar volume and the segmentation has segments.")
    for exportable in exportables:
        exportable.directory = str(directory)
        for tag, value in items.tags.items():
            exportable.setTag(tag, value)
    error = plugin.export(exportables)
    if error:
        raise ExportError(f"SlicerRT export failed: {error}",
                          hint="See the Python console for details, or use engine='builtin'.")


def find_export_files(directory: Path) -> tuple[Path, list[Path]]:
    """The RTSTRUCT and the image files an export wrote into ``directory``.

    Raises
    ------
    ExportError
        No RTSTRUCT (e.g. every segment was empty) or no image was written.
    """
    rtstructs: list[Path] = []
    images: list[Path] = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        try:
            header = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID"])
        except (InvalidDicomError, OSError, EOFError, ValueError, TypeError):
            continue
        (rtstructs if str(header.get("SOPClassUID", "")) == RT_STRUCTURE_SET_STORAGE else images).append(path)
    if len(rtstructs) != 1 or not images:
        raise ExportError(f"SlicerRT wrote {len(rtstructs)} RTSTRUCT and {len(images)} image files (expected 1 and "
                          "at least 1).", hint="Make sure the segmentation has non-empty segments; see the log.")
    return rtstructs[0], images


def check_writable(folder: Path) -> None:
    """Plastimatch may exit() the whole process on a write error, so fail here first."""
    if not folder.is_dir():
        raise InputError(f"Output folder does not exist: {folder}", hint="Create it first.")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise InputError(f"Output folder {folder} is not writable ({exc.strerror}).",
                         hint="Choose a folder you can write to.") from exc


def export_with_slicerrt(scene: Any, seg_node: Any, ct_node: Any, ct: CTVolume, structures: Sequence[Structure],
                         target: Path, *, tps: str, structure_set_label: str, rereference: bool,
                         overwrite: bool) -> workflow.ExportResult:
    """Export through SlicerRT, correct the file into ``target``, verify it and save the report beside it.

    Raises
    ------
    InputError
        Output folder missing or not writable; ``target`` exists (without ``overwrite``); or as for
        :func:`prepare_for_export` and :func:`fix_slicerrt_rtstruct` (e.g. the grids differ).
    ExportError
        SlicerRT reported an error or wrote no RTSTRUCT.
    """
    check_writable(target.parent)
    if target.exists() and not overwrite:
        raise InputError(f"{target} exists.", hint="Pass overwrite=True or choose another name.")
    items = prepare_for_export(scene, seg_node, ct_node)
    staging = Path(tempfile.mkdtemp(prefix=".slicerrt-", dir=target.parent))
    try:
        run_slicerrt_export(items, staging)
        rtstruct_path, image_files = find_export_files(staging)
        duplicate = load_ct(staging)
        reference_ct = ct if rereference else duplicate
        export = fix_slicerrt_rtstruct(rtstruct_path, target, reference_ct, metadata_of(structures),
                                       structure_set_label=structure_set_label, rereference_to_ct=rereference,
                                       duplicate_ct=duplicate, overwrite=overwrite, tps=tps)
        ct_copy = None if rereference else copy_ct_series(image_files, target.parent / f"CT_{structure_set_label}",
                                                           overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return workflow.verified_export(target, export, reference_ct, structures, tps, engine=ExportEngine.SLICERRT.value,
                                    ct_copy_dir=ct_copy)


def copy_ct_series(files: Sequence[Path], folder: Path, overwrite: bool) -> Path:
    """Copy the CT SlicerRT wrote into ``folder`` (built beside it, then renamed into place)."""
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise InputError(f"Output folder {folder} is not empty.", hint="Pass overwrite=True or choose another label.")
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=folder.parent))
    try:
        os.chmod(staging, 0o755)
        for path in files:
            shutil.copy2(path, staging / path.name)
        publish_folder(staging, folder, overwrite=overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("Copied the %d CT files SlicerRT wrote to %s", len(files), folder.name)
    return folder
