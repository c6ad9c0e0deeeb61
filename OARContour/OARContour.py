"""OARContour Slicer module: the module description, its panel and its self-test.

Only Qt glue lives here. Each panel action is one call to :class:`OARContourLogic`, which is
Qt-free and lives in ``OARContourLib`` together with the core, so that scripts, the CLI and the
headless tests reuse it.
"""

import pathlib
import tempfile
from typing import Optional  # not "X | None": Slicer 5.8 runs Python 3.9

import vtk

import slicer
from slicer import vtkMRMLScalarVolumeNode
from slicer.i18n import tr as _
from slicer.i18n import translate
from slicer.parameterNodeWrapper import parameterNodeWrapper
from slicer.ScriptedLoadableModule import *
from slicer.util import VTKObservationMixin

# Re-exported so that `from OARContour import OARContourLogic` works in the Python console.
from OARContourLib import OARContourLogic

__all__ = ["OARContour", "OARContourLogic", "OARContourParameterNode", "OARContourTest", "OARContourWidget"]


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
    """

    ctFolder: pathlib.Path
    seriesUID: str = ""
    ctVolume: vtkMRMLScalarVolumeNode


class OARContourWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    """The module panel: binds widgets to the parameter node and forwards actions to the Logic."""

    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)  # observes the parameter node and the scene
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None

    def setup(self) -> None:
        ScriptedLoadableModuleWidget.setup(self)

        uiWidget = slicer.util.loadUI(self.resourcePath("UI/OARContour.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        # Reaches every MRML widget through the mrmlSceneChanged connections in the .ui file.
        uiWidget.setMRMLScene(slicer.mrmlScene)

        self.logic = OARContourLogic()

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)

        self.ui.loadCTButton.connect("clicked(bool)", self.onLoadCTButton)
        self.ui.loadPhantomButton.connect("clicked(bool)", self.onLoadPhantomButton)

        # Needed after "Reload": the module is already entered, so enter() is not called again.
        self.initializeParameterNode()

    def cleanup(self) -> None:
        self.removeObservers()

    def enter(self) -> None:
        self.initializeParameterNode()

    def exit(self) -> None:
        # Stop syncing while hidden; enter() reconnects and refreshes the widgets.
        self.setParameterNode(None)

    def onSceneStartClose(self, caller, event) -> None:
        # The parameter node is about to be removed with the scene.
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event) -> None:
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        """Find or create the scene's parameter node and show it in the panel."""
        self.setParameterNode(OARContourParameterNode(self._singletonParameterNode()))

    def setParameterNode(self, inputParameterNode: Optional[OARContourParameterNode]) -> None:
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
        if self._parameterNode:
            # Binds every widget that has a SlicerParameterName dynamic property in the .ui file.
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.addObserver(self._parameterNode, vtk.vtkCommand.ModifiedEvent, self._updateGUIState)
            self._updateGUIState()

    def _singletonParameterNode(self):
        # The Logic is Qt-free and does not know the wrapper class above, so the Widget owns the
        # node. It is the same singleton ScriptedLoadableModuleLogic.getParameterNode() would use,
        # so scenes saved by either route load the same way.
        node = slicer.mrmlScene.GetSingletonNode(self.moduleName, "vtkMRMLScriptedModuleNode")
        if node is None:
            node = slicer.vtkMRMLScriptedModuleNode()
            node.SetSingletonTag(self.moduleName)
            node.SetName(slicer.mrmlScene.GenerateUniqueName(self.moduleName))
            node = slicer.mrmlScene.AddNode(node)
        # Closing the scene can drop the attribute that node selectors filter on; restore it.
        node.SetAttribute("ModuleName", self.moduleName)
        return node

    def _updateGUIState(self, caller=None, event=None) -> None:
        folder = self._parameterNode.ctFolder
        # pathlib.Path() is the unset value; it means the current directory, which is never intended.
        canLoad = folder != pathlib.Path() and folder.is_dir()
        self.ui.loadCTButton.enabled = canLoad
        self.ui.loadCTButton.toolTip = _("Load the CT series from the DICOM folder.") if canLoad else _(
            "Choose a DICOM folder first.")
        self.ui.ctStatusLabel.text = self._describeVolume(self._parameterNode.ctVolume)

    @staticmethod
    def _describeVolume(volumeNode) -> str:
        if volumeNode is None or volumeNode.GetImageData() is None:
            return _("No CT loaded.")
        columns, rows, slices = volumeNode.GetImageData().GetDimensions()
        spacing = volumeNode.GetSpacing()
        return _("{name}: {columns} × {rows} × {slices} voxels, {sx:.2f} × {sy:.2f} × {sz:.2f} mm").format(
            name=volumeNode.GetName(), columns=columns, rows=rows, slices=slices,
            sx=spacing[0], sy=spacing[1], sz=spacing[2])

    def onLoadCTButton(self) -> None:
        seriesUID = self._parameterNode.seriesUID.strip() or None
        with slicer.util.tryWithErrorDisplay(_("Failed to load the CT series."), waitCursor=True):
            volumeNode = self.logic.loadCT(self._parameterNode.ctFolder, seriesUID=seriesUID)
            self._showCT(volumeNode)

    def onLoadPhantomButton(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Failed to load the sample phantom."), waitCursor=True):
            volumeNode = self.logic.loadSamplePhantom()
            self._showCT(volumeNode)

    def _showCT(self, volumeNode) -> None:
        # Selecting through the parameter node also updates the node combobox and the status label.
        self._parameterNode.ctVolume = volumeNode
        slicer.util.setSliceViewerLayers(background=volumeNode, fit=True)


class OARContourTest(ScriptedLoadableModuleTest):
    """Self-test run by CTest (``py_OARContour``) and by the panel's "Reload and Test" button."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_LoadPhantomCT()

    def test_LoadPhantomCT(self):
        """Write the synthetic phantom as DICOM, load it, and check geometry and hierarchy."""
        # Imported here, not at the top: loading the module must not need the phantom writer.
        from OARContourLib.phantom import write_phantom

        logic = OARContourLogic()
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
