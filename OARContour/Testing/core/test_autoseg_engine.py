"""The engine interface: run_autoseg, template selection, AutosegResult (TotalSegmentator runs: test_ts_engine.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from OARContourLib.autoseg.classical import SUPPORTED_STRUCTURES
from OARContourLib.autoseg.engine import run_autoseg, select_structures
from OARContourLib.autoseg.result import DESCRIPTION_MAX_CHARS, description_for
from OARContourLib.errors import CancelledError, InputError
from OARContourLib.rtstruct.model import GenerationAlgorithm, RoiType, full_mask


@pytest.fixture(scope="module")
def phantom_ct(small_phantom):
    from OARContourLib.ct.load import load_ct

    return load_ct(small_phantom.ct_dir)


@pytest.fixture(scope="module")
def classical(phantom_ct):
    return run_autoseg(phantom_ct)


def test_classical_produces_tg263_structures(classical, phantom_ct, small_phantom) -> None:
    names = [s.name for s in classical.structures]
    assert set(names) <= set(SUPPORTED_STRUCTURES) and {"Body", "Lung_L", "Lung_R"} <= set(names)
    body = classical.structure("Body")
    assert body.roi_type is RoiType.EXTERNAL and classical.structure("Lung_L").roi_type is RoiType.ORGAN
    assert all(s.algorithm is GenerationAlgorithm.AUTOMATIC for s in classical.structures)
    assert all(s.description == "OARContour classical 1.0" for s in classical.structures)
    truth = sitk.GetArrayFromImage(sitk.ReadImage(str(small_phantom.truth_dir / "Body.nii.gz"))) != 0
    mask = full_mask(body, phantom_ct.geometry.shape)
    assert 2 * np.count_nonzero(mask & truth) / (mask.sum() + truth.sum()) > 0.9


def test_masks_are_cropped_blocks(classical, phantom_ct) -> None:
    lung = classical.structure("Lung_L")
    assert lung.mask.shape != tuple(phantom_ct.geometry.shape)
    assert lung.mask.any(axis=(1, 2))[[0, -1]].all()  # the block is tight along k


def test_provenance_and_to_dict(classical) -> None:
    assert classical.provenance["engine"] == "classical" and classical.provenance["version"] == "1.0"
    assert "settings" in classical.provenance and classical.provenance["seconds"] >= 0
    document = json.loads(json.dumps(classical.to_dict()))
    assert {p["name"] for p in document["produced"]} == set(classical.produced)
    assert all(p["voxels"] > 0 for p in document["produced"])


def test_thorax_template(phantom_ct) -> None:
    result = run_autoseg(phantom_ct, template="Thorax")
    assert {"Body", "Lung_L", "Lung_R", "Lungs"} <= set(result.produced)
    assert result.skipped["Heart"] == "needs TotalSegmentator"
    assert result.skipped["BrachialPlex_L"] == "manual"
    assert result.provenance["template"] == "Thorax"


def test_structure_list(phantom_ct) -> None:
    result = run_autoseg(phantom_ct, structures=["Lung_R", "Body"])
    assert set(result.produced) == {"Lung_R", "Body"}


def test_template_selection_for_an_import() -> None:
    wanted, skipped = select_structures("totalsegmentator", ("Heart", "Lung_L"), "Thorax", None)
    assert wanted == ["Lung_L", "Heart"]
    assert skipped["Body"] == "needs the classical engine" and skipped["Chestwall"] == "manual"


@pytest.mark.parametrize("kwargs, message", [
    (dict(template="Nowhere"), "Unknown site template 'Nowhere'.*Thorax"),
    (dict(structures=["Heart"]), "cannot produce: Heart.*Choose from: Body"),
    (dict(template="Thorax", structures=["Body"]), "either a template or a structure list"),
    (dict(engine="magic"), "Unknown auto-segmentation engine 'magic'.*classical, totalsegmentator"),
])
def test_bad_requests(phantom_ct, kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        run_autoseg(phantom_ct, **kwargs)


def test_cancel(phantom_ct) -> None:
    with pytest.raises(CancelledError):
        run_autoseg(phantom_ct, progress=lambda fraction, message: True)


def test_progress_reaches_the_end(phantom_ct) -> None:
    seen: list[float] = []
    run_autoseg(phantom_ct, structures=["Body"], progress=lambda fraction, message: seen.append(fraction) or False)
    assert seen and seen[-1] == 1.0


def test_totalsegmentator_unknown_device(phantom_ct) -> None:
    with pytest.raises(InputError, match="Unknown device 'tpu'.*auto, cpu, gpu"):
        run_autoseg(phantom_ct, engine="totalsegmentator", device="tpu")


def test_description_fits_lo() -> None:
    assert len(description_for("x" * 80, "1.0", "total")) == DESCRIPTION_MAX_CHARS


def test_core_modules_import_without_slicer_or_torch() -> None:
    code = ("import sys; import OARContourLib.autoseg.engine, OARContourLib.autoseg.totalsegmentator_outputs, "
            "OARContourLib.autoseg.ts_engine, OARContourLib.autoseg.ts_runner, OARContourLib.cli.autoseg; "
            "bad = [m for m in ('slicer', 'qt', 'torch', 'totalsegmentator') if m in sys.modules]; "
            "sys.exit(1 if bad else 0)")
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0
