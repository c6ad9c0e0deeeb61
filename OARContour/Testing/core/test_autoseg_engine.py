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
    assert all(s.description == "OARContour classical 1.2" for s in classical.structures)
    truth = sitk.GetArrayFromImage(sitk.ReadImage(str(small_phantom.truth_dir / "Body.nii.gz"))) != 0
    mask = full_mask(body, phantom_ct.geometry.shape)
    assert 2 * np.count_nonzero(mask & truth) / (mask.sum() + truth.sum()) > 0.9


def test_masks_are_cropped_blocks(classical, phantom_ct) -> None:
    lung = classical.structure("Lung_L")
    assert lung.mask.shape != tuple(phantom_ct.geometry.shape)
    assert lung.mask.any(axis=(1, 2))[[0, -1]].all()  # the block is tight along k


def test_provenance_and_to_dict(classical) -> None:
    assert classical.provenance["engine"] == "classical" and classical.provenance["version"] == "1.2"
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


def _autoseg_imports() -> dict[str, set[str]]:
    """Module → the sibling autoseg modules it imports at load time (not inside functions)."""
    import ast

    folder = Path(__file__).resolve().parents[2] / "OARContourLib" / "autoseg"
    graph: dict[str, set[str]] = {}
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text())
        graph[path.stem] = {node.module.split(".")[0] for node in tree.body
                            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module}
    return graph


def test_autoseg_modules_import_without_a_cycle() -> None:
    graph = _autoseg_imports()
    assert "engine" not in graph["totalsegmentator_outputs"] and "engine" not in graph["ts_engine"]
    assert not graph["selection"] & {"engine", "engines", "ts_engine", "classical_engine"}

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, set()) - seen:
            seen.add(nxt)
            if nxt == target or reaches(nxt, target, seen):
                return True
        return False

    cyclic = [name for name in graph if name != "__init__" and reaches(name, name, set())]
    assert not cyclic, cyclic


def test_registry_is_the_one_engine_list() -> None:
    from OARContourLib.autoseg.engines import REGISTRY, engine_for
    from OARContourLib.cli.main import build_parser
    from OARContourLib.logic.panel_choices import engine_structures, panel_choices

    names = [engine.name for engine in REGISTRY]
    assert names[0] == "classical" and "totalsegmentator" in names
    assert [c.value for c in panel_choices().engines] == names
    assert [c.label for c in panel_choices().engines] == [engine.label for engine in REGISTRY]
    for name in names:
        assert engine_for(name).name == name
        assert engine_structures(name) == engine_for(name).structures() and engine_structures(name)
    autoseg_parser = build_parser()._subparsers._group_actions[0].choices["autoseg"]  # type: ignore[union-attr]
    engine_action = next(a for a in autoseg_parser._actions if a.dest == "engine")
    assert list(engine_action.choices) == names
    with pytest.raises(InputError, match="Unknown auto-segmentation engine 'nope'.*classical"):
        engine_for("nope")


def test_request_dataclass_validates_and_reaches_the_engine(phantom_ct) -> None:
    from OARContourLib.autoseg.engine import run_request
    from OARContourLib.autoseg.request import AutosegRequest

    with pytest.raises(InputError, match="Unknown device"):
        AutosegRequest(device="tpu")
    request = AutosegRequest.of(structures=["Body"])
    assert request.structures == ("Body",) and request.to_dict()["structures"] == ["Body"]
    result = run_request(phantom_ct, "classical", request)
    assert [s.name for s in result.structures] == ["Body"]


def test_classical_engine_has_no_preflight(phantom_ct) -> None:
    from OARContourLib.autoseg.engines import engine_for
    from OARContourLib.autoseg.request import AutosegRequest

    assert engine_for("classical").preflight(phantom_ct, AutosegRequest()) is None
