"""OARContourLogic: the MRML side of OARContour, without Qt.

It turns core results into nodes and nodes back into core inputs. It runs inside Slicer and, after
:func:`OARContourLib.headless.setup`, on the ``slicer-core`` wheel. It never opens a dialog: a
user's answer arrives as an argument.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import slicer

from ..autoseg import run_autoseg
from ..ct.load import load_ct
from ..ct.model import CTVolume, SeriesReference
from ..ct.problems import Severity
from ..derive import apply_recipes
from ..derive.recipes import Recipe
from ..errors import InputError
from ..findings import Finding
from ..naming.overrides import Overrides
from ..naming.resolve import AUTO_APPLY_CONFIDENCE
from ..phantom import write_phantom
from ..progress import ProgressCallback
from ..qa import check_structures
from ..rtstruct.model import ExportOptions
from ..rtstruct.write import write_rtstruct
from . import (
    editor_presets,
    navigation,
    panel_choices,
    segment_names,
    segmentation_nodes,
    slicerrt_export,
    subject_hierarchy,
    volume_nodes,
    workflow,
)
from .dicom_files import FileLookup
from .workflow import ExportResult, Rename

#: Node attribute holding the JSON provenance of an auto-segmentation (engine, versions, settings).
PROVENANCE_ATTRIBUTE = "OARContour.Provenance"

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
    dicom_file_lookup
        ``lookup(sop_instance_uid) -> path`` (``""`` when unknown) for CTs loaded through Slicer's
        DICOM browser, which keep only their instance UIDs; Slicer's DICOM database when None.
    """

    def __init__(self, *, scene: Any = None, log_callback: LogCallback | None = None,
                 dicom_file_lookup: FileLookup | None = None) -> None:
        self._scene = scene
        self.log_callback = log_callback
        self.dicom_file_lookup = dicom_file_lookup

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
            attribute keywords of the core loader (for a volume from Slicer's DICOM browser, its
            series item's UIDs and ``DICOM.*`` attributes). ``is_referenceable`` is False for
            anonymised series.

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

    def autoSegment(
        self,
        ctNode: Any,
        engine: str = "classical",
        template: str | None = None,
        structures: Sequence[str] | None = None,
        progress: ProgressCallback | None = None,
        *,
        device: str = "auto",
        fast: bool = False,
    ) -> Any:
        """Auto-segment a loaded CT into a new segmentation node beside it (same study).

        The CT is re-read from its DICOM files (see :func:`.workflow.ct_volume_of`), so the
        segmentation matches what an RTSTRUCT export will reference. Engine ``totalsegmentator``
        runs through Slicer's TotalSegmentator extension when it is installed, else as a child
        process of its own Python (``$OARCONTOUR_TS_PYTHON``).

        Parameters
        ----------
        ctNode
            A volume returned by :meth:`loadCT`.
        engine, template, structures, progress, device, fast
            As for :func:`OARContourLib.autoseg.run_autoseg`.

        Returns
        -------
        vtkMRMLSegmentationNode
            One segment per structure (name, colour, RTSTRUCT tags), on the CT's grid, with the
            run's provenance as JSON in the ``OARContour.Provenance`` attribute.

        Raises
        ------
        InputError
            Not a CT loaded by :meth:`loadCT`, its files are gone, the engine/template is unknown, or
            the TotalSegmentator preflight failed (the message lists what is missing).
        EngineError
            TotalSegmentator failed or was killed (probably out of memory).
        """
        from ..autoseg.engine import TOTALSEGMENTATOR, totalsegmentator_request
        from . import ts_extension

        volume = self._ct_volume(ctNode)
        if engine == TOTALSEGMENTATOR and ts_extension.extension_available():
            request = totalsegmentator_request(template, structures, device, fast)
            result = ts_extension.segment_with_extension(ctNode, request, progress=progress)
        else:
            result = run_autoseg(volume, engine=engine, template=template, structures=structures, progress=progress,
                                 device=device, fast=fast)
        node = segmentation_nodes.create_segmentation_node(
            ctNode.GetScene(), ctNode, result.structures, f"{ctNode.GetName()} OARs")
        node.SetAttribute(PROVENANCE_ATTRIBUTE, json.dumps(result.provenance, default=str))
        for name, reason in result.skipped.items():
            self._log(logging.INFO, "Skipped %s: %s", name, reason)
        for finding in result.findings:  # e.g. a TotalSegmentator release other than the tested one
            self._log(logging.WARNING, "%s: %s", finding.code, finding.message)
        self._log(logging.INFO, "Auto-segmented '%s' with %s: %d structures", ctNode.GetName(), engine,
                  len(result.structures))
        return node

    def exportRTSTRUCT(
        self,
        segNode: Any,
        ctNode: Any,
        outputDir: str | Path,
        tps: str = "generic",
        engine: str = "builtin",
        structureSetLabel: str = "OARContour",
        overwrite: bool = False,
        rereference: bool = True,
    ) -> ExportResult:
        """Write the segments as ``<outputDir>/RS_<structureSetLabel>.dcm`` and verify the file.

        ``engine="builtin"`` uses OARContour's writer, which references the CT's original DICOM
        files. ``engine="slicerrt"`` drives SlicerRT's exporter, then sets the ROI types and
        algorithms it cannot write and, with ``rereference`` (default), points the file at the
        original CT; without it the CT copy SlicerRT wrote goes to ``<outputDir>/CT_<label>/``
        and must be sent too. The verification (round trip against the segments' masks included)
        is saved beside the file as ``<file>.verify.json``.

        Returns
        -------
        ExportResult
            The file, the export report and the verification report.

        Raises
        ------
        InputError
            Unknown ``engine``; SlicerRT not installed (nothing written); the output exists
            (without ``overwrite``); the CT's files are gone; SlicerRT's CT copy does not lie on
            the original grid (re-referencing refused).
        ExportError, NamingError, GeometryError
            As for :func:`OARContourLib.rtstruct.write.write_rtstruct`; ExportError also when
            SlicerRT reports an error.
        """
        if engine not in ("builtin", "slicerrt"):
            raise InputError(f"Unknown RTSTRUCT export engine '{engine}'.", hint="Use engine='builtin' or 'slicerrt'.")
        if engine == "slicerrt":
            slicerrt_export.require_slicerrt()
        volume = self._ct_volume(ctNode)
        structures = segmentation_nodes.read_structures(segNode, ctNode)
        target = Path(outputDir) / f"RS_{structureSetLabel}.dcm"
        if engine == "slicerrt":
            result = slicerrt_export.export_with_slicerrt(
                ctNode.GetScene(), segNode, ctNode, volume, structures, target, tps=tps,
                structure_set_label=structureSetLabel, rereference=rereference, overwrite=overwrite)
        else:
            options = ExportOptions(tps=tps, structure_set_label=structureSetLabel, overwrite=overwrite)
            export = write_rtstruct(target, volume, structures, options)
            result = workflow.verified_export(target, export, volume, structures, tps)
        level = logging.ERROR if result.verification.has_errors else logging.INFO
        self._log(level, "Exported %d structures to %s with %s (verification: %d findings)", len(structures),
                  target.name, engine, len(result.verification.findings))
        return result

    def deriveStructures(self, segNode: Any, ctNode: Any, recipes: Sequence[Recipe | str]) -> list[str]:
        """Add PRVs, rings and subtractions (e.g. ``"SpinalCord:5"``) as new segments.

        Returns
        -------
        list of str
            IDs of the new segments, named, typed and coloured as
            :func:`OARContourLib.derive.apply_recipes` says.

        Raises
        ------
        InputError, NamingError, GeometryError
            As for :func:`OARContourLib.derive.apply_recipes`.
        """
        self._check_volume_node(ctNode)
        _, spacing = workflow.grid_of(ctNode)
        masks = {s.name: s.mask for s in segmentation_nodes.read_structures(segNode, ctNode, crop_masks=False)}
        result = apply_recipes(masks, spacing, recipes, ijk_to_lps=workflow.ijk_to_lps_of(ctNode))
        new_ids = [segmentation_nodes.add_segment(segNode, ctNode, structure, mask)
                   for structure, mask in workflow.derived_structures(result)]
        for finding in result.findings:
            self._log(logging.WARNING, "%s: %s", finding.code, finding.message)
        return new_ids

    def applyNaming(
        self,
        segNode: Any,
        overrides: Overrides | None = None,
        minConfidence: float = AUTO_APPLY_CONFIDENCE,
    ) -> list[Rename]:
        """Rename segments to TG-263 names when the resolver is at least ``minConfidence`` sure.

        Names like ``"Lt Lung"`` or TotalSegmentator classes like ``"kidney_left"`` are resolved
        with :func:`OARContourLib.naming.resolve.suggest` (which never changes a side); segment IDs
        stay as they are.

        Returns
        -------
        list of Rename
            One decision per segment, applied or not, with the reason.
        """
        segmentation = segNode.GetSegmentation()
        decisions = []
        for segment_id in segmentation_nodes.segment_ids(segNode):
            segment = segmentation.GetSegment(segment_id)
            decision = workflow.naming_decision(segment_id, segment.GetName(), overrides, minConfidence)
            if decision.applied:
                segment.SetName(decision.new_name)
                self._log(logging.INFO, "Renamed '%s' to '%s' (%.2f)", decision.old_name, decision.new_name,
                          decision.confidence)
            decisions.append(decision)
        return decisions

    def check(self, segNode: Any, ctNode: Any, template: str | None = None, tps: str = "generic") -> list[Finding]:
        """QA of a segmentation on its CT: laterality, volumes, gaps, Body, template and TPS names.

        Parameters
        ----------
        segNode, ctNode
            A segmentation and the CT loaded by :meth:`loadCT` that it was contoured on.
        template, tps
            As for :func:`OARContourLib.qa.check_structures`.

        Returns
        -------
        list of Finding
            See :data:`OARContourLib.qa.RULES`; error-level findings should block an export.

        Raises
        ------
        InputError
            Not a CT loaded by :meth:`loadCT`, its files are gone, or an unknown template or profile.
        """
        volume = self._ct_volume(ctNode)
        findings = check_structures(segmentation_nodes.read_structures(segNode, ctNode), volume,
                                    template=template, tps=tps)
        for finding in findings:
            self._log(logging.WARNING if finding.severity is Severity.ERROR else logging.INFO,
                      "%s %s: %s", finding.code, finding.roi_name or "", finding.message)
        return findings

    def jobsAwaitingReview(self, ledgerPath: str | Path | None = None) -> list[dict[str, Any]]:
        """The node's jobs waiting for a reviewer (id, series, patient ID, reason, findings ...), oldest first.

        ``ledgerPath`` defaults to ``$OARCONTOUR_LEDGER``; open one with :meth:`loadJob`.
        """
        from . import service_jobs

        return service_jobs.awaiting_review(ledgerPath)

    def loadJob(self, jobId: int | str, ledgerPath: str | Path | None = None) -> Any:
        """Load a node job's CT and structure set for review; returns the segmentation node.

        ``ledgerPath`` defaults to ``$OARCONTOUR_LEDGER``. Edit the segments, then :meth:`approveJob`.
        """
        from . import service_jobs

        return service_jobs.load_job(self, jobId, ledgerPath)

    def approveJob(self, jobId: int | str, segmentationNode: Any, reviewer: str,
                   ledgerPath: str | Path | None = None, configPath: str | Path | None = None) -> Any:
        """Export the edited structures, verify, record the approval by ``reviewer`` and send.

        With ``configPath`` (the node's TOML) the RTSTRUCT is sent at once (a failure is retried by the
        running node); without it the running node sends it. Raises ExportError, and approves nothing,
        when the export fails verification. Returns the ledger job.
        """
        from . import service_jobs

        return service_jobs.approve_job(self, jobId, segmentationNode, reviewer, ledgerPath, configPath)

    def _ct_volume(self, ctNode: Any) -> CTVolume:
        reference = self.getCTReference(ctNode)
        return workflow.ct_volume_of(ctNode, reference.series_instance_uid, self.dicom_file_lookup)

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

    # --- panel support: what the module panel lists, shows and edits (all Qt-free) -----------------

    def panelChoices(self) -> panel_choices.PanelChoices:
        """Engines, site templates, TPS profiles and export engines (SlicerRT marked when missing)."""
        return panel_choices.panel_choices()

    def structureChoices(self, engine: str = "classical",
                         template: str | None = None) -> list[panel_choices.StructureChoice]:
        """The structure checklist for an engine and site template (unavailable ones with the reason).

        Raises
        ------
        InputError
            Unknown template.
        """
        return panel_choices.structure_choices(engine, template or None)

    def autoSegmentChecked(
        self,
        ctNode: Any,
        engine: str,
        template: str | None,
        checked: Sequence[str],
        progress: ProgressCallback | None = None,
        **engineOptions: Any,
    ) -> Any:
        """:meth:`autoSegment` the checked structures of :meth:`structureChoices`.

        The template is passed on (and recorded in the provenance) when every structure it offers
        is checked; otherwise the checked names are. ``engineOptions`` go to :meth:`autoSegment`.

        Raises
        ------
        InputError
            Nothing checked; otherwise as for :meth:`autoSegment`.
        """
        choices = panel_choices.structure_choices(engine, template or None)
        chosen_template, structures = panel_choices.autoseg_selection(template or None, choices, checked)
        return self.autoSegment(ctNode, engine=engine, template=chosen_template, structures=structures,
                                progress=progress, **engineOptions)

    def suggestNames(
        self,
        segNode: Any,
        overrides: Overrides | None = None,
        minConfidence: float = AUTO_APPLY_CONFIDENCE,
    ) -> list[segment_names.NameRow]:
        """One row per segment: current name, best TG-263 suggestion, confidence, type, colour.

        Nothing is renamed; ``will_apply`` marks the rows :meth:`applyNaming` with the same
        arguments would rename.
        """
        return segment_names.name_rows(segNode, overrides, minConfidence)

    def sideChange(self, segNode: Any, segmentId: str, newName: str) -> str:
        """Why renaming the segment to ``newName`` would change its side; ``""`` when it would not.

        Raises
        ------
        InputError
            No such segment.
        """
        return segment_names.side_change(segment_names.find_segment(segNode, segmentId).GetName(), newName)

    def renameSegment(self, segNode: Any, segmentId: str, newName: str, sideChangeConfirmed: bool = False) -> Rename:
        """Rename one segment to a TG-263 name typed by a person; the segment ID stays.

        Raises
        ------
        InputError
            No such segment.
        NamingError
            Not a TG-263 name or compound, a duplicate ignoring case, or a side change (code
            ``NAME_SIDE_CHANGE``) without ``sideChangeConfirmed``; see :meth:`sideChange`.
        """
        return segment_names.rename_segment(segNode, segmentId, newName, side_change_confirmed=sideChangeConfirmed)

    def findingTarget(self, segNode: Any, ctNode: Any, roiName: str | None,
                      sliceIndex: int | None) -> navigation.JumpTarget | None:
        """Where to look for a finding: its segment on its slice (RAS mm); None when it names neither.

        Raises
        ------
        InputError
            ``sliceIndex`` is outside the CT.
        """
        self._check_volume_node(ctNode)
        return navigation.jump_target(segNode, ctNode, roiName, sliceIndex)

    def jumpToFinding(self, segNode: Any, ctNode: Any, roiName: str | None,
                      sliceIndex: int | None) -> navigation.JumpTarget | None:
        """Centre every slice view on :meth:`findingTarget`; returns it (None: nothing to show)."""
        target = self.findingTarget(segNode, ctNode, roiName, sliceIndex)
        if target is not None:
            navigation.jump_slices(ctNode.GetScene(), target.ras_mm)
        return target

    def segmentEditorNode(self, segNode: Any = None, ctNode: Any = None) -> Any:
        """The panel's Segment Editor node: overwrite mode none (RT structures overlap), CT as source."""
        return editor_presets.segment_editor_node(self.scene, segNode, ctNode)

    def applyWindowPreset(self, ctNode: Any, presetId: str) -> editor_presets.IntensityPreset:
        """Show the CT with a preset window ("soft_tissue" W400/L40, "lung" W1500/L-600, "bone" W1800/L400).

        Raises
        ------
        InputError
            Unknown preset, or ``ctNode`` is not a scalar volume in a scene.
        """
        preset = editor_presets.intensity_preset(presetId)
        if not hasattr(ctNode, "IsA") or not ctNode.IsA("vtkMRMLScalarVolumeNode"):
            raise InputError(f"{_describe(ctNode)} is not a CT volume.", hint="Select the CT in section 1 first.")
        editor_presets.apply_window(ctNode, preset)
        return preset

    def intensityPreset(self, presetId: str) -> editor_presets.IntensityPreset:
        """Window, level and threshold range of a preset (see :meth:`applyWindowPreset`)."""
        return editor_presets.intensity_preset(presetId)

    def effectPreset(self, presetId: str) -> editor_presets.EffectPreset:
        """A Segment Editor effect and its parameters: "remove_islands", "smoothing", "fill_between_slices"."""
        return editor_presets.effect_preset(presetId)

    def writeReport(
        self,
        rtstructPath: str | Path,
        ctNode: Any,
        outPath: str | Path,
        tps: str = "generic",
        template: str | None = None,
        overwrite: bool = False,
        progress: ProgressCallback | None = None,
    ) -> Any:
        """Write the HTML review page of an exported RTSTRUCT on the CT it references.

        Returns
        -------
        ReportResult
            As for :func:`OARContourLib.report.build_report`: path, structure and finding counts.

        Raises
        ------
        InputError
            The CT was not loaded by :meth:`loadCT` or its files are gone; otherwise as for
            :func:`OARContourLib.report.build_report` (output exists, RTSTRUCT of another CT, ...).
        """
        # Imported on first use: the page renderer is not needed to load, segment or export.
        from ..report import build_report

        result = build_report(Path(rtstructPath), self._ct_volume(ctNode), Path(outPath), tps=tps, template=template,
                              overwrite=overwrite, progress=progress)
        self._log(logging.INFO, "Wrote review report %s (%d structures, %d findings)", Path(result.path).name,
                  result.structure_count, result.findings_count)
        return result

def _describe(node: Any) -> str:
    if node is None:
        return "None"
    name = node.GetName() if hasattr(node, "GetName") else ""
    return f"{type(node).__name__} '{name}'"
