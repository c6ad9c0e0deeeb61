"""OARContour Slicer module: the module description, its panel and its self-test.

Only Qt glue lives here. Each panel action is one call to :class:`OARContourLogic`, which is
Qt-free and lives in ``OARContourLib`` together with the core, so that scripts, the CLI and the
headless tests reuse it.
"""

import contextlib
import logging
import pathlib
import tempfile
import traceback
import types
from typing import Annotated

import qt
import vtk

import slicer
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.ScriptedLoadableModule import *
from slicer.util import VTKObservationMixin

# Nothing of OARContourLib is imported here. Slicer executes this file at start-up and drops the
# module, silently, if it raises; the core needs numpy, scipy, pydicom and SimpleITK of the right
# versions. The Logic and the panel choices are built when the panel is first shown (startLogic),
# and a problem then is shown in the panel with what to do.

__all__ = ["OARContour", "OARContourTest", "OARContourWidget", "parameterNodeClass", "startLogic"]

#: Panel fields remembered between sessions in qt.QSettings under "OARContour/<field>".
REMEMBERED_FIELDS = ("engine", "template", "tps", "exportFolder", "exportEngine", "structureSetLabel")
SETTINGS_PREFIX = "OARContour/"
#: Window / threshold preset buttons of the Edit section -> preset id in the Logic.
WINDOW_PRESET_BUTTONS = {"softTissueWindowButton": "soft_tissue", "lungWindowButton": "lung",
                         "boneWindowButton": "bone"}
THRESHOLD_PRESET_BUTTONS = {"softTissueThresholdButton": "soft_tissue", "lungThresholdButton": "lung",
                            "boneThresholdButton": "bone"}
EFFECT_PRESET_BUTTONS = {"removeIslandsButton": "remove_islands", "smoothingButton": "smoothing",
                         "fillBetweenSlicesButton": "fill_between_slices"}
#: Buttons that start work; all are disabled while long work runs, since its progress callback
#: processes events and a second click would start another job inside the first.
ACTION_BUTTONS = ("loadCTButton", "loadPhantomButton", "runButton", "deriveButton", "suggestNamesButton",
                  "acceptNamesButton", "checkButton", "exportButton", "reportButton",
                  "refreshJobsButton", "loadJobButton", "approveJobButton",
                  *WINDOW_PRESET_BUTTONS, *THRESHOLD_PRESET_BUTTONS, *EFFECT_PRESET_BUTTONS)


def startLogic(logCallback=None):
    """``(logic, panelChoices, None)``, or ``(None, None, problem)`` for the panel to show.

    Never raises. ``problem`` has ``message``, ``hint`` and ``detail`` (the traceback).
    """
    try:
        from OARContourLib import startup
    except Exception as error:  # the library itself is missing or broken
        logging.exception("OARContour: the OARContourLib package cannot be imported")
        return None, None, types.SimpleNamespace(
            message=_("OARContour cannot start: its library cannot be imported ({error}).").format(error=error),
            hint=_("Reinstall OARContour from the Extensions Manager and restart Slicer."),
            detail=traceback.format_exc())
    return startup.start(log_callback=logCallback)


def __getattr__(name):
    # `from OARContour import OARContourLogic` in the Python console, without importing it at start-up.
    if name == "OARContourLogic":
        try:
            from OARContourLib import OARContourLogic
        except Exception as error:  # hasattr() callers expect AttributeError; the cause stays chained
            raise AttributeError(f"OARContourLogic is not available: {error}") from error
        return OARContourLogic
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_parameterNodeClass = None


def parameterNodeClass(choices):
    """The panel's parameter node class, made once: its Choice lists come from the core's data files.

    Parameters
    ----------
    choices : PanelChoices
        From ``OARContourLogic.panelChoices()``: engines, site templates, TPS profiles, export engines.
        A site that edits site_templates.csv sees its templates here.
    """
    global _parameterNodeClass
    if _parameterNodeClass is not None:
        return _parameterNodeClass
    from slicer import vtkMRMLScalarVolumeNode, vtkMRMLSegmentationNode
    from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper

    @parameterNodeWrapper
    class OARContourParameterNode:
        """Panel state, saved with the scene and bound to the widgets named in the ``.ui`` file.

        Attributes
        ----------
        ctFolder : pathlib.Path
            Folder searched for the CT series.
        seriesUID : str
            Series Instance UID to load; empty loads the folder's only CT series.
        ctVolume : vtkMRMLScalarVolumeNode
            The CT being contoured.
        engine, template : str
            Auto-segmentation engine and site template ("" = everything the engine offers).
        fastMode : bool
            TotalSegmentator's 3 mm models (ignored by the classical engine).
        segmentation : vtkMRMLSegmentationNode
            The structure set being edited, named, checked and exported.
        deriveRecipes : str
            Derive recipes separated by semicolons (``SpinalCord:5; CTV:7,post=5; PTV:5:15``); commas
            belong to directional margins.
        minConfidence : float
            Naming suggestions at or above this are accepted by "Accept all".
        exportFolder, tps, exportEngine, structureSetLabel, overwrite
            Export options, as for ``OARContourLogic.exportRTSTRUCT``.
        rtstructFile : pathlib.Path
            The RTSTRUCT the review report is written for (the last export by default).
        """

        ctFolder: pathlib.Path
        seriesUID: str = ""
        ctVolume: vtkMRMLScalarVolumeNode
        engine: Annotated[str, Choice([c.value for c in choices.engines])] = "classical"
        template: Annotated[str, Choice(["", *[c.value for c in choices.templates]])] = ""
        fastMode: bool = False
        segmentation: vtkMRMLSegmentationNode
        deriveRecipes: str = "SpinalCanal:5"
        minConfidence: Annotated[float, WithinRange(0.0, 1.0)] = 0.9
        exportFolder: pathlib.Path
        tps: Annotated[str, Choice([c.value for c in choices.tps_profiles])] = "generic"
        exportEngine: Annotated[str, Choice([c.value for c in choices.export_engines])] = "builtin"
        structureSetLabel: str = "OARContour"
        overwrite: bool = False
        rtstructFile: pathlib.Path

    _parameterNodeClass = OARContourParameterNode
    return _parameterNodeClass


class OARContour(ScriptedLoadableModule):
    """Module description shown in Slicer's module list and help panel."""

    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("OARContour")
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Radiotherapy")]
        # Empty on purpose: a listed module that is missing makes loading fail, so SlicerRT and
        # TotalSegmentator are detected at run time instead.
        self.parent.dependencies = []
        self.parent.contributors = ["OARContour developers"]
        self.parent.helpText = _("""
<p>Contour organs at risk on a planning CT for radiotherapy: load a DICOM CT series, segment organs at
risk, name them by AAPM TG-263 and export a DICOM RTSTRUCT that references the original CT.</p>
<p><b>For research and education only. OARContour is not a medical device.</b> Automatic and
edited contours can be wrong; a qualified person must review every contour before any use.</p>
<p>See the <a href="https://github.com/oarcontour/SlicerOARContour">project page</a> for documentation.</p>
""")
        self.parent.acknowledgementText = _("""
OARContour is developed by the OARContour developers and released under the Apache License 2.0.
It builds on 3D Slicer, and uses SlicerRT and TotalSegmentator when they are installed.
""")


class OARContourWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    """The module panel: binds widgets to the parameter node and forwards actions to the Logic."""

    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)  # observes the parameter node and the scene
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._cancelRequested = False
        self._checklistKey = None  # (engine, template) the structure checklist shows
        self._findings = []
        self._jobs = []
        self._jobSegmentation = None
        self._fillingNames = False  # True while the Names table is filled by code, not edited
        self._busy = False  # True while long work runs (its progress callback processes events)
        self._choices = None
        self._effectFactory = None

    def setup(self) -> None:
        ScriptedLoadableModuleWidget.setup(self)

        self.logic, self._choices, problem = startLogic(self._showStatus)
        if problem is not None:
            self._showStartupProblem(problem)
            return

        uiWidget = slicer.util.loadUI(self.resourcePath("UI/OARContour.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        # Reaches every MRML widget through the mrmlSceneChanged connections in the .ui file.
        uiWidget.setMRMLScene(slicer.mrmlScene)

        self.ui.segmentEditorWidget.setMRMLSegmentEditorNode(self.logic.segmentEditorNode())
        # Effects registered after this widget exists (e.g. when a module with effects loads later)
        # must still appear in the editor, as Slicer's own Segment Editor module does.
        self._effectFactory = slicer.qSlicerSegmentEditorEffectFactory.instance()
        self._effectFactory.connect("effectRegistered(QString)", self.onEffectRegistered)

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)

        self.ui.loadCTButton.connect("clicked(bool)", self.onLoadCTButton)
        self.ui.loadPhantomButton.connect("clicked(bool)", self.onLoadPhantomButton)
        self.ui.runButton.connect("clicked(bool)", self.onRunButton)
        self.ui.cancelButton.connect("clicked(bool)", self.onCancelClicked)
        self.ui.deriveButton.connect("clicked(bool)", self.onDeriveButton)
        self.ui.suggestNamesButton.connect("clicked(bool)", self.onSuggestNamesButton)
        self.ui.acceptNamesButton.connect("clicked(bool)", self.onAcceptNamesButton)
        self.ui.namesTableWidget.connect("itemChanged(QTableWidgetItem*)", self.onNameEdited)
        self.ui.checkButton.connect("clicked(bool)", self.onCheckButton)
        self.ui.findingsTableWidget.connect("cellClicked(int,int)", self.onFindingClicked)
        self.ui.exportButton.connect("clicked(bool)", self.onExportButton)
        self.ui.reportButton.connect("clicked(bool)", self.onReportButton)
        self.ui.refreshJobsButton.connect("clicked(bool)", self.onRefreshJobsButton)
        self.ui.loadJobButton.connect("clicked(bool)", self.onLoadJobButton)
        self.ui.approveJobButton.connect("clicked(bool)", self.onApproveJobButton)
        for name, presetId in WINDOW_PRESET_BUTTONS.items():
            getattr(self.ui, name).connect("clicked(bool)", lambda _, p=presetId: self.onWindowPresetButton(p))
        for name, presetId in THRESHOLD_PRESET_BUTTONS.items():
            getattr(self.ui, name).connect("clicked(bool)", lambda _, p=presetId: self.onThresholdPresetButton(p))
        for name, presetId in EFFECT_PRESET_BUTTONS.items():
            getattr(self.ui, name).connect("clicked(bool)", lambda _, p=presetId: self.onEffectPresetButton(p))

        # Needed after "Reload": the module is already entered, so enter() is not called again.
        self.initializeParameterNode()

    def _showStartupProblem(self, problem) -> None:
        """Say in the panel why OARContour cannot work and what to do (the module stays in the list)."""
        import ctk

        label = qt.QLabel()
        label.wordWrap = True
        label.textFormat = qt.Qt.PlainText
        label.setTextInteractionFlags(qt.Qt.TextSelectableByMouse)
        label.text = problem.message + "\n\n" + _("What to do: {hint}").format(hint=problem.hint)
        self.layout.addWidget(label)
        if problem.detail:
            details = ctk.ctkCollapsibleButton()
            details.text = _("Details")
            details.collapsed = True
            detailsLayout = qt.QVBoxLayout(details)
            detailsText = qt.QPlainTextEdit()
            detailsText.readOnly = True
            detailsText.plainText = problem.detail
            detailsLayout.addWidget(detailsText)
            self.layout.addWidget(details)
        self.layout.addStretch(1)
        self.startupProblemLabel = label

    def cleanup(self) -> None:
        self.removeObservers()
        if self._effectFactory is not None:
            self._effectFactory.disconnect("effectRegistered(QString)", self.onEffectRegistered)
            self._effectFactory = None

    def onEffectRegistered(self, effectName=None) -> None:
        self.ui.segmentEditorWidget.updateEffectList()

    def enter(self) -> None:
        if self.logic is None:
            return  # the panel shows the start-up problem instead
        self.initializeParameterNode()
        self.ui.segmentEditorWidget.installKeyboardShortcuts()

    def exit(self) -> None:
        if self.logic is None:
            return
        # Stop syncing while hidden; enter() reconnects and refreshes the widgets.
        self.ui.segmentEditorWidget.setActiveEffect(None)
        self.ui.segmentEditorWidget.uninstallKeyboardShortcuts()
        self.setParameterNode(None)

    def onSceneStartClose(self, caller, event) -> None:
        # The parameter node is about to be removed with the scene.
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event) -> None:
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        """Find or create the scene's parameter node and show it in the panel."""
        node, created = self._singletonParameterNode()
        parameterNode = parameterNodeClass(self._choices)(node)
        if created:
            self._restoreChoices(parameterNode)
        self.setParameterNode(parameterNode)

    def setParameterNode(self, inputParameterNode) -> None:
        """Disconnect the panel from the current parameter node and connect it to another.

        Parameters
        ----------
        inputParameterNode : OARContourParameterNode or None
            Node to show and edit; None leaves the panel unbound.
        """
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None
            self.removeObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updateGUIState)
        self._parameterNode = inputParameterNode
        self._checklistKey = None
        if self._parameterNode:
            # Binds every widget that has a SlicerParameterName dynamic property in the .ui file.
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self._labelChoices()
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updateGUIState)
            self._updateGUIState()

    def _singletonParameterNode(self):
        # The Logic is Qt-free and does not know the wrapper class above, so the Widget owns the
        # node. It is the same singleton ScriptedLoadableModuleLogic.getParameterNode() would use,
        # so scenes saved by either route load the same way.
        node = slicer.mrmlScene.GetSingletonNode(self.moduleName, "vtkMRMLScriptedModuleNode")
        created = node is None
        if created:
            node = slicer.vtkMRMLScriptedModuleNode()
            node.SetSingletonTag(self.moduleName)
            node.SetName(slicer.mrmlScene.GenerateUniqueName(self.moduleName))
            node = slicer.mrmlScene.AddNode(node)
        # Closing the scene can drop the attribute that node selectors filter on; restore it.
        node.SetAttribute("ModuleName", self.moduleName)
        return node, created

    # --- remembered choices ------------------------------------------------------------------------

    def _restoreChoices(self, parameterNode) -> None:
        """Fill a new parameter node with the choices remembered from the last session."""
        settings = qt.QSettings()
        for field in REMEMBERED_FIELDS:
            value = settings.value(SETTINGS_PREFIX + field)
            if value is None or value == "":
                continue
            fieldType = pathlib.Path if field == "exportFolder" else str
            # A remembered template or profile may be gone in this version: keep the default then.
            with contextlib.suppress(ValueError, TypeError):
                setattr(parameterNode, field, fieldType(value))

    def _rememberChoices(self) -> None:
        settings = qt.QSettings()
        for field in REMEMBERED_FIELDS:
            settings.setValue(SETTINGS_PREFIX + field, str(getattr(self._parameterNode, field)))

    def _labelChoices(self) -> None:
        """Readable labels for the value-only items connectGui() put in the combo boxes."""
        self.ui.templateComboBox.setItemText(0, _("All the engine offers"))
        for comboBox, choices in ((self.ui.engineComboBox, self._choices.engines),
                                  (self.ui.exportEngineComboBox, self._choices.export_engines),
                                  (self.ui.tpsComboBox, self._choices.tps_profiles)):
            for index, choice in enumerate(choices):
                comboBox.setItemText(index, choice.label)
                comboBox.setItemData(index, choice.reason, qt.Qt.ToolTipRole)
        # SlicerRT is detected now, not at import: modules load in any order at startup.
        exportEngines = {c.value: c for c in self.logic.panelChoices().export_engines}
        for index, choice in enumerate(self._choices.export_engines):
            self.ui.exportEngineComboBox.model().item(index).setEnabled(exportEngines[choice.value].available)

    # --- panel state -------------------------------------------------------------------------------

    def _updateGUIState(self, caller=None, event=None) -> None:
        node = self._parameterNode
        folder = node.ctFolder
        # pathlib.Path() is the unset value; it means the current directory, which is never intended.
        canLoad = folder != pathlib.Path() and folder.is_dir()
        self.ui.loadCTButton.enabled = canLoad
        self.ui.loadCTButton.toolTip = _("Load the CT series from the DICOM folder.") if canLoad else _(
            "Choose a DICOM folder first.")
        self.ui.ctStatusLabel.text = self._describeVolume(node.ctVolume)
        hasCT, hasSegments = node.ctVolume is not None, node.segmentation is not None
        self.ui.runButton.enabled = hasCT
        for button in (self.ui.deriveButton, self.ui.checkButton):
            button.enabled = hasCT and hasSegments
        for button in (self.ui.suggestNamesButton, self.ui.acceptNamesButton):
            button.enabled = hasSegments
        self.ui.exportButton.enabled = hasSegments and hasCT and node.exportFolder != pathlib.Path()
        self.ui.reportButton.enabled = hasCT and node.rtstructFile != pathlib.Path() and node.rtstructFile.is_file()
        for name in (*WINDOW_PRESET_BUTTONS, *THRESHOLD_PRESET_BUTTONS, *EFFECT_PRESET_BUTTONS):
            getattr(self.ui, name).enabled = True  # each says what is missing when clicked too early
        if self._busy:
            # Parameter changes during long work land here too: keep every action disabled until it ends.
            for name in ACTION_BUTTONS:
                getattr(self.ui, name).enabled = False
        self._updateChecklist()
        self._updateEditor()

    def _updateChecklist(self) -> None:
        key = (self._parameterNode.engine, self._parameterNode.template)
        if key == self._checklistKey:
            return  # rebuilding would drop the user's ticks
        self._checklistKey = key
        listWidget = self.ui.structureListWidget
        listWidget.clear()
        with slicer.util.tryWithErrorDisplay(_("Failed to list the template's structures.")):
            for choice in self.logic.structureChoices(*key):
                item = qt.QListWidgetItem(choice.name)
                item.setFlags((qt.Qt.ItemIsUserCheckable | qt.Qt.ItemIsEnabled) if choice.available else qt.Qt.NoItemFlags)
                item.setCheckState(qt.Qt.Checked if choice.available else qt.Qt.Unchecked)
                item.setToolTip(choice.reason)
                listWidget.addItem(item)

    def _checkedStructures(self) -> list:
        listWidget = self.ui.structureListWidget
        items = [listWidget.item(row) for row in range(listWidget.count)]
        return [item.text() for item in items if item.checkState() == qt.Qt.Checked]

    def _updateEditor(self) -> None:
        segmentation, ct = self._parameterNode.segmentation, self._parameterNode.ctVolume
        editor = self.ui.segmentEditorWidget
        # The overwrite mode is set once, when the Logic creates the editor node: a user's choice stays.
        self.logic.segmentEditorNode(segmentation, ct)
        if editor.segmentationNode() is not segmentation:
            editor.setSegmentationNode(segmentation)
        if ct is not None and editor.sourceVolumeNode() is not ct:
            editor.setSourceVolumeNode(ct)

    @staticmethod
    def _describeVolume(volumeNode) -> str:
        if volumeNode is None or volumeNode.GetImageData() is None:
            return _("No CT loaded.")
        columns, rows, slices = volumeNode.GetImageData().GetDimensions()
        spacing = volumeNode.GetSpacing()
        return _("{name}: {columns} × {rows} × {slices} voxels, {sx:.2f} × {sy:.2f} × {sz:.2f} mm").format(
            name=volumeNode.GetName(), columns=columns, rows=rows, slices=slices,
            sx=spacing[0], sy=spacing[1], sz=spacing[2])

    def _showStatus(self, message: str) -> None:
        if hasattr(self, "ui"):  # the Logic may log before the panel is built
            self.ui.progressLabel.text = message

    # --- progress ----------------------------------------------------------------------------------

    def _progress(self, fraction: float, message: str) -> bool:
        """The Logic's progress callback: show the step, keep the panel responsive, report Cancel."""
        self.ui.progressBar.value = int(round(fraction * 100))
        self.ui.progressLabel.text = message
        slicer.app.processEvents()  # paints the bar and delivers clicks on Cancel
        return self._cancelRequested

    @contextlib.contextmanager
    def _longWork(self):
        """Disable every action button and enable Cancel while work that processes events runs."""
        self._busy = True
        self._cancelRequested = False
        self.ui.progressBar.value = 0
        self.ui.cancelButton.enabled = True
        for name in ACTION_BUTTONS:
            getattr(self.ui, name).enabled = False
        try:
            yield
        finally:
            self._busy = False
            self.ui.cancelButton.enabled = False
            if self._parameterNode is not None:
                self._updateGUIState()

    def onCancelClicked(self) -> None:
        self._cancelRequested = True
        self.ui.progressLabel.text = _("Cancelling after the current step…")

    # --- 1. Patient CT -----------------------------------------------------------------------------

    def onLoadCTButton(self) -> None:
        seriesUID = self._parameterNode.seriesUID.strip() or None
        with self._longWork(), slicer.util.tryWithErrorDisplay(_("Failed to load the CT series."), waitCursor=True):
            volumeNode = self.logic.loadCT(self._parameterNode.ctFolder, seriesUID=seriesUID, progress=self._progress)
            self._showCT(volumeNode)

    def onLoadPhantomButton(self) -> None:
        with self._longWork(), slicer.util.tryWithErrorDisplay(_("Failed to load the sample phantom."), waitCursor=True):
            volumeNode = self.logic.loadSamplePhantom(progress=self._progress)
            self._showCT(volumeNode)

    def _showCT(self, volumeNode) -> None:
        # Selecting through the parameter node also updates the node combobox and the status label.
        self._parameterNode.ctVolume = volumeNode
        slicer.util.setSliceViewerLayers(background=volumeNode, fit=True)

    # --- 2. Auto-contour ---------------------------------------------------------------------------

    def onRunButton(self) -> None:
        node = self._parameterNode
        versionWarning = ""
        if node.engine == "totalsegmentator" and hasattr(slicer.modules, "totalsegmentator"):
            ready, versionWarning = self._setUpTotalSegmentator()
            if not ready:
                return
        with self._longWork(), slicer.util.tryWithErrorDisplay(_("Auto-contouring failed."), waitCursor=True):
            segmentation = self.logic.autoSegmentChecked(
                node.ctVolume, node.engine, node.template or None, self._checkedStructures(),
                progress=self._progress, fast=node.fastMode)
            node.segmentation = segmentation
            self._rememberChoices()
            self._showStatus(" ".join(text for text in (_("{count} structures in '{name}'. Review every contour.").format(
                count=segmentation.GetSegmentation().GetNumberOfSegments(), name=segmentation.GetName()),
                versionWarning) if text))
        self._refreshNames()

    def _setUpTotalSegmentator(self):
        """Let the extension install its Python packages, which may ask the user: a dialog belongs here.

        Returns
        -------
        (bool, str)
            Whether TotalSegmentator can run, and a warning when its version is not the tested one.
        """
        from OARContourLib.logic import ts_extension

        try:
            with slicer.util.WaitCursor():
                slicer.util.getModuleLogic("TotalSegmentator").setupPythonRequirements()
        except Exception as error:  # InstallError, ModuleNotFoundError, ValueError, pip failures
            logging.exception("TotalSegmentator setup failed")
            problem = ts_extension.setup_problem(error)
            text = problem.message + "\n\n" + problem.hint
            if not problem.restart_required:
                slicer.util.errorDisplay(text, windowTitle=_("TotalSegmentator is not ready"))
            elif slicer.util.confirmOkCancelDisplay(text, windowTitle=_("Restart Slicer")):
                slicer.util.restart()
            return False, ""
        return True, ts_extension.version_warning()

    # --- 3. Edit -----------------------------------------------------------------------------------

    def onWindowPresetButton(self, presetId: str) -> None:
        with slicer.util.tryWithErrorDisplay(_("Failed to set the window."), waitCursor=True):
            self.logic.applyWindowPreset(self._parameterNode.ctVolume, presetId)

    def onThresholdPresetButton(self, presetId: str) -> None:
        with slicer.util.tryWithErrorDisplay(_("Failed to start the Threshold effect."), waitCursor=True):
            preset = self.logic.intensityPreset(presetId)
            effect = self._activateEffect("Threshold")
            effect.setParameter("MinimumThreshold", str(preset.threshold_min_hu))
            effect.setParameter("MaximumThreshold", str(preset.threshold_max_hu))
            # Left open on purpose: the person checks the preview and presses Apply.

    def onEffectPresetButton(self, presetId: str) -> None:
        with slicer.util.tryWithErrorDisplay(_("The clean-up step failed."), waitCursor=True):
            preset = self.logic.effectPreset(presetId)
            effect = self._activateEffect(preset.effect_name)
            for key, value in preset.parameters:
                effect.setParameter(key, value)
            if preset.needs_preview:
                # Auto-complete effects merge every *visible* segment into one label image and write
                # each back, so overlaps (Body over organs, a PRV over its organ) would be lost. A
                # selection made before onPreview() is kept (AbstractScriptedSegmentEditorAutoCompleteEffect).
                selected = vtk.vtkStringArray()
                selected.InsertNextValue(self.ui.segmentEditorWidget.currentSegmentID())
                effect.self().selectedSegmentIds = selected
                effect.self().onPreview()
            effect.self().onApply()
            self.ui.segmentEditorWidget.setActiveEffect(None)

    def _activateEffect(self, effectName: str):
        editor = self.ui.segmentEditorWidget
        if not editor.currentSegmentID():
            raise ValueError(_("Select a segment in the Segment Editor first."))
        editor.setActiveEffectByName(effectName)
        effect = editor.activeEffect()
        if effect is None:
            raise ValueError(_("The Segment Editor has no '{name}' effect.").format(name=effectName))
        return effect

    def onDeriveButton(self) -> None:
        node = self._parameterNode
        recipes = [text.strip() for text in node.deriveRecipes.split(";") if text.strip()]
        with slicer.util.tryWithErrorDisplay(_("Failed to derive structures."), waitCursor=True):
            newIds = self.logic.deriveStructures(node.segmentation, node.ctVolume, recipes)
            self._showStatus(_("Added {count} derived structures.").format(count=len(newIds)))
        self._refreshNames()

    # --- 4. Names ----------------------------------------------------------------------------------

    def onSuggestNamesButton(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Failed to suggest names."), waitCursor=True):
            rows = self.logic.suggestNames(self._parameterNode.segmentation,
                                           minConfidence=self._parameterNode.minConfidence)
            self._fillNamesTable(rows)

    def onAcceptNamesButton(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Failed to rename the segments."), waitCursor=True):
            renames = self.logic.applyNaming(self._parameterNode.segmentation,
                                             minConfidence=self._parameterNode.minConfidence)
            self._showStatus(_("Renamed {count} segments.").format(count=sum(r.applied for r in renames)))
        self._refreshNames()

    def _refreshNames(self) -> None:
        if self._parameterNode.segmentation is not None:
            self.onSuggestNamesButton()

    def _fillNamesTable(self, rows) -> None:
        table = self.ui.namesTableWidget
        self._fillingNames = True
        try:
            table.setRowCount(len(rows))
            for index, row in enumerate(rows):
                nameItem = qt.QTableWidgetItem(row.current_name)
                nameItem.setData(qt.Qt.UserRole, row.segment_id)
                table.setItem(index, 0, nameItem)
                suggested = row.suggested_name if row.suggested_name != row.current_name else "="
                mark = " ✓" if row.will_apply else ""
                self._setReadOnlyCell(table, index, 1, suggested + mark, row.reason)
                self._setReadOnlyCell(table, index, 2, f"{row.confidence:.2f}", row.reason)
                self._setReadOnlyCell(table, index, 3, row.roi_type.value, "")
                colourItem = self._setReadOnlyCell(table, index, 4, "", "RGB {} {} {}".format(*row.color))
                colourItem.setBackground(qt.QColor(*row.color))
        finally:
            self._fillingNames = False

    @staticmethod
    def _setReadOnlyCell(table, row: int, column: int, text: str, toolTip: str):
        item = qt.QTableWidgetItem(text)
        item.setFlags(qt.Qt.ItemIsSelectable | qt.Qt.ItemIsEnabled)
        item.setToolTip(toolTip)
        table.setItem(row, column, item)
        return item

    def onNameEdited(self, item) -> None:
        if self._fillingNames or item.column() != 0:
            return
        segmentation, segmentId, newName = self._parameterNode.segmentation, item.data(qt.Qt.UserRole), item.text()
        try:
            with slicer.util.tryWithErrorDisplay(_("The segment was not renamed."), waitCursor=True):
                sideChange = self.logic.sideChange(segmentation, segmentId, newName)
                # The Logic never decides a side change; a person does, here.
                confirmed = bool(sideChange) and slicer.util.confirmYesNoDisplay(
                    _("{reason}. Rename anyway?").format(reason=sideChange), windowTitle=_("Side change"))
                if not sideChange or confirmed:
                    self.logic.renameSegment(segmentation, segmentId, newName, sideChangeConfirmed=confirmed)
        finally:
            # tryWithErrorDisplay re-raises: without this a rejected or declined name would stay in the
            # table. Deferred: the table must not be refilled inside its own itemChanged signal.
            qt.QTimer.singleShot(0, self._refreshNames)

    # --- 5. Check ----------------------------------------------------------------------------------

    def onCheckButton(self) -> None:
        node = self._parameterNode
        with slicer.util.tryWithErrorDisplay(_("The check failed."), waitCursor=True):
            findings = self.logic.check(node.segmentation, node.ctVolume, template=node.template or None, tps=node.tps)
            self._fillFindingsTable(findings)

    def _fillFindingsTable(self, findings) -> None:
        self._findings = list(findings)
        table = self.ui.findingsTableWidget
        table.setRowCount(len(self._findings))
        for index, finding in enumerate(self._findings):
            cells = (finding.severity.value, finding.code, finding.roi_name or "",
                     "" if finding.slice_index is None else str(finding.slice_index), finding.message)
            for column, text in enumerate(cells):
                self._setReadOnlyCell(table, index, column, text, finding.hint)
        errors = sum(f.severity.value == "error" for f in self._findings)
        self.ui.checkSummaryLabel.text = _("{count} findings, {errors} errors (errors block a clinical export).").format(
            count=len(self._findings), errors=errors) if self._findings else _("No findings.")

    def onFindingClicked(self, row: int, column: int) -> None:
        finding = self._findings[row]
        node = self._parameterNode
        with slicer.util.tryWithErrorDisplay(_("Cannot show this finding."), waitCursor=True):
            target = self.logic.jumpToFinding(node.segmentation, node.ctVolume, finding.roi_name, finding.slice_index)
            if target is not None and target.segment_id:
                self.ui.segmentEditorWidget.setCurrentSegmentID(target.segment_id)

    # --- 6. Export ---------------------------------------------------------------------------------

    def onExportButton(self) -> None:
        node = self._parameterNode
        with slicer.util.tryWithErrorDisplay(_("Export failed; nothing was written."), waitCursor=True):
            result = self.logic.exportRTSTRUCT(
                node.segmentation, node.ctVolume, node.exportFolder, tps=node.tps, engine=node.exportEngine,
                structureSetLabel=node.structureSetLabel, overwrite=node.overwrite)
            node.rtstructFile = pathlib.Path(result.path)
            self._rememberChoices()
            self.ui.exportResultLabel.text = self._describeExport(result)

    @staticmethod
    def _describeExport(result) -> str:
        verification = result.verification
        counts = {}
        for finding in verification.findings:
            counts[finding.severity.value] = counts.get(finding.severity.value, 0) + 1
        dice = min(verification.dice.values()) if verification.dice else None
        text = _("Wrote {file}: {rois} ROIs. Verification: {errors} errors, {warnings} warnings.").format(
            file=pathlib.Path(result.path).name, rois=verification.rois_checked, errors=counts.get("error", 0),
            warnings=counts.get("warning", 0))
        if dice is not None:
            text += " " + _("Lowest round-trip Dice {dice:.3f}.").format(dice=dice)
        if verification.has_errors:
            text += " " + _("Do not use this file clinically; see {report}.").format(
                report=pathlib.Path(result.verification_path).name)
        return text

    def onReportButton(self) -> None:
        node = self._parameterNode
        outPath = node.rtstructFile.with_name(node.rtstructFile.stem + ".review.html")
        with self._longWork(), slicer.util.tryWithErrorDisplay(_("The review report was not written."), waitCursor=True):
            report = self.logic.writeReport(node.rtstructFile, node.ctVolume, outPath, tps=node.tps,
                                            template=node.template or None, overwrite=node.overwrite,
                                            progress=self._progress)
            self.ui.reportResultLabel.text = _("Wrote {file}: {structures} structures, {findings} findings.").format(
                file=outPath.name, structures=report.structure_count, findings=report.findings_count)
            qt.QDesktopServices.openUrl(qt.QUrl.fromLocalFile(str(outPath)))


    # --- 7. Service (the DICOM node's review list) ---------------------------------------------------

    def onRefreshJobsButton(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Cannot read the job ledger."), waitCursor=True):
            self._jobs = self.logic.jobsAwaitingReview(ledgerPath=self.ui.serviceLedgerPathLineEdit.currentPath or None)
            table = self.ui.jobsTableWidget
            table.setRowCount(len(self._jobs))
            for index, job in enumerate(self._jobs):
                cells = (str(job["id"]), str(job["instances"]), job.get("patient_id", ""), job["reason"])
                for column, text in enumerate(cells):
                    self._setReadOnlyCell(table, index, column, text, job["reason"])
            self.ui.serviceResultLabel.text = _("{count} jobs awaiting review.").format(count=len(self._jobs))

    def _selectedJobId(self):
        row = self.ui.jobsTableWidget.currentRow()
        if row < 0 or row >= len(self._jobs):
            raise ValueError(_("Select a job in the list first."))
        return self._jobs[row]["id"]

    def onLoadJobButton(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("The job could not be loaded."), waitCursor=True):
            jobId = self._selectedJobId()
            self._jobSegmentation = self.logic.loadJob(jobId, ledgerPath=self.ui.serviceLedgerPathLineEdit.currentPath or None)
            self.ui.serviceResultLabel.text = _("Job {job} loaded: edit its segments, then approve.").format(job=jobId)

    def onApproveJobButton(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Nothing was approved or sent."), waitCursor=True):
            jobId = self._selectedJobId()
            job = self.logic.approveJob(jobId, self._jobSegmentation, self.ui.reviewerLineEdit.text.strip(),
                                        ledgerPath=self.ui.serviceLedgerPathLineEdit.currentPath or None,
                                        configPath=self.ui.serviceConfigPathLineEdit.currentPath or None)
            self.ui.serviceResultLabel.text = _("Job {job}: {state}.").format(job=jobId, state=job.state.value)

class OARContourTest(ScriptedLoadableModuleTest):
    """Self-test run by CTest (``py_OARContour``) and by the panel's "Reload and Test" button.

    The workflow steps share one scene and run in order: load the phantom, auto-contour, name,
    derive, check, export (OARContour's writer, and SlicerRT's when installed), report; then the
    panel is driven through its own buttons.
    """

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_LoadPhantomCT()
        self.setUp()
        self.test_Workflow()
        self.setUp()
        self.test_PanelButtons()

    def test_Workflow(self):
        """The whole workflow through the Logic on the embedded phantom, each step checked."""
        logic = _newLogic()
        with tempfile.TemporaryDirectory(prefix="OARContourTest-") as folderName:
            outputDir = pathlib.Path(folderName)
            ctNode = self._step_loadSamplePhantom(logic, outputDir / "phantom")
            segNode = self._step_autoSegment(logic, ctNode)
            self._step_applyNaming(logic, segNode)
            self._step_deriveStructures(logic, segNode, ctNode)
            self._step_check(logic, segNode, ctNode)
            result = self._step_exportBuiltin(logic, segNode, ctNode, outputDir / "builtin")
            if hasattr(slicer.modules, "dicomrtimportexport"):
                self._step_exportSlicerRT(logic, segNode, ctNode, outputDir / "slicerrt")
            else:
                self.delayDisplay("SlicerRT is not installed: SlicerRT export not tested")
            self._step_writeReport(logic, result, ctNode, outputDir)
        self.delayDisplay("Workflow test passed")

    def _step_loadSamplePhantom(self, logic, outputDir):
        ctNode = logic.loadSamplePhantom(outputDir=outputDir)
        self.assertTrue(ctNode.IsA("vtkMRMLScalarVolumeNode"))
        self.assertTrue(logic.getCTReference(ctNode).is_referenceable, "the phantom CT has no UIDs to reference")
        self.delayDisplay("1. Phantom loaded")
        return ctNode

    def _step_autoSegment(self, logic, ctNode):
        segNode = logic.autoSegment(ctNode, engine="classical")
        names = self._segmentNames(segNode)
        for expected in ("Body", "Lung_L", "Lung_R", "SpinalCanal"):
            self.assertIn(expected, names)
        for segmentId in names.values():
            self.assertGreater(slicer.util.arrayFromSegmentBinaryLabelmap(segNode, segmentId, ctNode).sum(), 0,
                               f"segment {segmentId} is empty")
        self.delayDisplay("2. Auto-contoured")
        return segNode

    def _step_applyNaming(self, logic, segNode):
        segment = segNode.GetSegmentation().GetSegment(self._segmentNames(segNode)["Lung_L"])
        segment.SetName("Lt Lung")  # as a clinic might name it
        renames = {r.old_name: r for r in logic.applyNaming(segNode)}
        self.assertEqual(renames["Lt Lung"].new_name, "Lung_L")
        self.assertTrue(renames["Lt Lung"].applied)
        self.assertEqual(segment.GetName(), "Lung_L")
        self.delayDisplay("3. Named")

    def _step_deriveStructures(self, logic, segNode, ctNode):
        newIds = logic.deriveStructures(segNode, ctNode, ["SpinalCanal:5"])
        self.assertEqual(len(newIds), 1)
        canal = slicer.util.arrayFromSegmentBinaryLabelmap(segNode, self._segmentNames(segNode)["SpinalCanal"], ctNode)
        prv = slicer.util.arrayFromSegmentBinaryLabelmap(segNode, newIds[0], ctNode)
        self.assertGreater(prv.sum(), canal.sum(), "the PRV is not larger than its organ")
        self.assertFalse(((canal > 0) & (prv == 0)).any(), "the PRV does not contain its organ")
        self.delayDisplay("4. PRV derived")

    def _step_check(self, logic, segNode, ctNode):
        errors = [f for f in logic.check(segNode, ctNode) if f.severity.value == "error"]
        self.assertEqual(errors, [], "QA found errors on the phantom")
        self.delayDisplay("5. Checked")

    def _step_exportBuiltin(self, logic, segNode, ctNode, outputDir):
        outputDir.mkdir(parents=True)
        result = logic.exportRTSTRUCT(segNode, ctNode, outputDir, structureSetLabel="SelfTest")
        self.assertTrue(result.path.is_file())
        self.assertFalse(result.verification.has_errors, [f.message for f in result.verification.findings])
        self.assertEqual(result.verification.rois_checked, segNode.GetSegmentation().GetNumberOfSegments())
        for name, dice in result.verification.dice.items():
            self.assertGreater(dice, 0.99, f"round trip of {name}")
        self.delayDisplay("6. Exported and verified")
        return result

    def _step_exportSlicerRT(self, logic, segNode, ctNode, outputDir):
        outputDir.mkdir(parents=True)
        result = logic.exportRTSTRUCT(segNode, ctNode, outputDir, engine="slicerrt", structureSetLabel="SelfTestRT")
        self.assertTrue(pathlib.Path(result.path).is_file())
        self.assertFalse(result.verification.has_errors, [f.message for f in result.verification.findings])
        self.delayDisplay("6b. Exported through SlicerRT and verified")

    def _step_writeReport(self, logic, result, ctNode, outputDir):
        report = logic.writeReport(result.path, ctNode, outputDir / "review.html")
        self.assertTrue((outputDir / "review.html").is_file())
        self.assertEqual(report.structure_count, result.verification.rois_checked)
        self.delayDisplay("7. Review report written")

    def test_PanelButtons(self):
        """Drive the panel: phantom button, Run, Suggest names, Check, a finding click, Export."""
        # CTest runs this with --no-main-window, where selectModule raises (no module selector).
        if not slicer.app.commandOptions().noMainWindow and slicer.util.mainWindow() is not None:
            slicer.util.selectModule("OARContour")
        widget = slicer.util.getModuleWidget("OARContour")
        ui, node = widget.ui, widget._parameterNode
        ui.loadPhantomButton.click()
        self.assertIsNotNone(node.ctVolume, "the phantom button loaded no CT")
        self.assertTrue(ui.runButton.enabled)
        ui.runButton.click()
        self.assertIsNotNone(node.segmentation, "Run produced no segmentation")
        self.assertEqual(ui.namesTableWidget.rowCount, node.segmentation.GetSegmentation().GetNumberOfSegments())
        self.assertEqual(ui.segmentEditorWidget.mrmlSegmentEditorNode().GetOverwriteMode(),
                         slicer.vtkMRMLSegmentEditorNode.OverwriteNone)
        ui.lungWindowButton.click()
        self.assertEqual(node.ctVolume.GetDisplayNode().GetWindow(), 1500)
        ui.checkButton.click()
        self.assertIn(ui.checkSummaryLabel.text.split(" ")[0], ("No", str(ui.findingsTableWidget.rowCount)))
        with tempfile.TemporaryDirectory(prefix="OARContourPanel-") as folderName:
            node.exportFolder = pathlib.Path(folderName)
            node.structureSetLabel = "PanelTest"
            ui.exportButton.click()
            self.assertTrue((pathlib.Path(folderName) / "RS_PanelTest.dcm").is_file(), ui.exportResultLabel.text)
            self.assertIn("0 errors", ui.exportResultLabel.text)
        self.delayDisplay("Panel test passed")

    @staticmethod
    def _segmentNames(segNode) -> dict:
        segmentation = segNode.GetSegmentation()
        ids = [segmentation.GetNthSegmentID(n) for n in range(segmentation.GetNumberOfSegments())]
        return {segmentation.GetSegment(i).GetName(): i for i in ids}

    def test_LoadPhantomCT(self):
        """Write the synthetic phantom as DICOM, load it, and check geometry and hierarchy."""
        # Imported here, not at the top: loading the module must not need the phantom writer.
        from OARContourLib.phantom import write_phantom

        logic = _newLogic()
        with tempfile.TemporaryDirectory(prefix="OARContourTest-") as folderName:
            # The writer returns the geometry and UIDs it wrote: the reference for every check.
            phantom = write_phantom(pathlib.Path(folderName) / "phantom", patient_position="HFS")
            volumeNode = logic.loadCT(phantom.ct_dir)
        self.delayDisplay("Phantom loaded")

        self.assertIsNotNone(volumeNode)
        self.assertTrue(volumeNode.IsA("vtkMRMLScalarVolumeNode"))
        self.assertTrue(slicer.mrmlScene.IsNodePresent(volumeNode), "the CT volume is not in the scene")
        # The core's array order is (slice, row, column); VTK's dimensions are (column, row, slice).
        slices, rows, columns = phantom.geometry.shape
        self.assertEqual(volumeNode.GetImageData().GetDimensions(), (columns, rows, slices))

        self._assertIJKToRASMatchesPhantom(volumeNode, phantom)
        self._assertDicomHierarchy(volumeNode, phantom)
        self.delayDisplay("Test passed")

    def _assertIJKToRASMatchesPhantom(self, volumeNode, phantom):
        ijkToRAS = vtk.vtkMatrix4x4()
        volumeNode.GetIJKToRASMatrix(ijkToRAS)
        # DICOM is LPS and Slicer RAS: in a head-first-supine CT the column index i grows towards
        # the patient's left (+x in LPS), so x in RAS falls as i grows.
        self.assertLess(ijkToRAS.GetElement(0, 0), 0.0, "IJKToRAS: the i axis must point to -x in RAS (LPS to RAS)")
        expected = phantom.geometry.ijk_to_ras()
        for row in range(4):
            for column in range(4):
                self.assertAlmostEqual(
                    ijkToRAS.GetElement(row, column), float(expected[row][column]), places=3,
                    msg=f"IJKToRAS[{row}][{column}] differs from the phantom geometry")

    def _assertDicomHierarchy(self, volumeNode, phantom):
        # Empty UIDs would make the equality checks below pass without proving anything.
        self.assertTrue(phantom.study_instance_uid and phantom.series_instance_uid, "the phantom has no UIDs")
        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
        seriesItem = shNode.GetItemByDataNode(volumeNode)
        self.assertNotEqual(seriesItem, shNode.GetInvalidItemID(), "volume is not in the subject hierarchy")
        studyItem = shNode.GetItemParent(seriesItem)
        patientItem = shNode.GetItemParent(studyItem)
        constants = slicer.vtkMRMLSubjectHierarchyConstants
        self.assertEqual(shNode.GetItemLevel(studyItem), constants.GetDICOMLevelStudy())
        self.assertEqual(shNode.GetItemLevel(patientItem), constants.GetDICOMLevelPatient())
        self.assertTrue(shNode.GetItemUID(patientItem, "DICOM"), "the patient item has no DICOM UID (PatientID)")
        self.assertEqual(shNode.GetItemUID(studyItem, "DICOM"), phantom.study_instance_uid)
        self.assertEqual(shNode.GetItemUID(seriesItem, "DICOM"), phantom.series_instance_uid)


def _newLogic():
    # Imported here, not at the top: Slicer must be able to load this file without the core.
    from OARContourLib import OARContourLogic

    return OARContourLogic()
