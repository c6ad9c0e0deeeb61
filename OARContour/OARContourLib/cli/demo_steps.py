"""The steps of ``oarcontour demo``, each small and each leaving a file behind to look at."""

from __future__ import annotations

import json
from pathlib import Path

from ..autoseg import AutosegResult, run_autoseg
from ..ct.load import load_ct
from ..ct.model import CTVolume
from ..derive import apply_recipes, spacing_kji
from ..naming.tables import load_tables
from ..rtstruct.model import ExportOptions, GenerationAlgorithm, Structure, full_mask
from ..rtstruct.verify import VerificationReport, verify_rtstruct
from ..rtstruct.write import write_rtstruct

#: Derived structures the demo adds to the automatic ones.
DEMO_RECIPES = ("SpinalCanal:5",)


def load_with_logic(ct_dir: Path, out: Path) -> tuple[Path, list[int]]:
    """Load the CT through ``OARContourLogic.loadCT`` on a headless scene and save it as NRRD."""
    from .. import headless  # imports slicer: only here, so the other commands run without it

    headless.setup()
    from ..logic import OARContourLogic

    node = OARContourLogic().loadCT(ct_dir)
    target = out / "scene" / "CT.nrrd"
    target.parent.mkdir(parents=True, exist_ok=True)
    storage = node.CreateDefaultStorageNode()
    storage.SetFileName(str(target))
    if not storage.WriteData(node):
        raise OSError(f"Could not write {target}.")
    return target, list(node.GetImageData().GetDimensions())


def autocontour(ct: CTVolume, truth_dir: Path, out: Path) -> tuple[AutosegResult, dict[str, float]]:
    """Classical engine on the Thorax template; Dice of each structure against the phantom's truth."""
    import SimpleITK as sitk

    result = run_autoseg(ct, engine="classical", template="Thorax")
    accuracy = {}
    for structure in result.structures:
        truth_file = truth_dir / f"{structure.name}.nii.gz"
        if truth_file.is_file():
            truth = sitk.GetArrayFromImage(sitk.ReadImage(str(truth_file))) > 0
            found = full_mask(structure, ct.hu.shape)
            accuracy[structure.name] = round(2 * float((truth & found).sum()) / max(truth.sum() + found.sum(), 1), 4)
    (out / "autoseg.json").write_text(json.dumps({**result.to_dict(), "dice_vs_truth": accuracy}, indent=2))
    return result, accuracy


def derived_structures(ct: CTVolume, result: AutosegResult) -> list[Structure]:
    masks = {s.name: full_mask(s, ct.hu.shape) for s in result.structures}
    derived = apply_recipes(masks, spacing_kji(ct.geometry), list(DEMO_RECIPES))
    return [Structure(n.name, derived.masks[n.name], color=n.color, roi_type=n.roi_type,
                      algorithm=GenerationAlgorithm.AUTOMATIC, description="OARContour derive: 5 mm PRV")
            for n in derived.names]


def export_and_verify(ct: CTVolume, structures: list[Structure], out: Path) -> tuple[Path, VerificationReport]:
    """Write the RTSTRUCT referencing the phantom CT, then verify it (rules plus round trip)."""
    target = out / "RS_phantom.dcm"
    write_rtstruct(target, ct, structures, ExportOptions(structure_set_label="OARContourDemo"))
    sources = {s.name: full_mask(s, ct.hu.shape) for s in structures}
    verification = verify_rtstruct(target, ct, source_masks=sources)
    (out / "RS_phantom.verify.json").write_text(json.dumps(verification.to_dict(), indent=2))
    return target, verification


def check_names(structures: list[Structure]) -> list[str]:
    """Names that are not official TG-263 (none expected: every demo name comes from the tables)."""
    tables = load_tables()
    return [s.name for s in structures if tables.default_for(s.name) is None]


__all__ = ["autocontour", "check_names", "derived_structures", "export_and_verify", "load_ct", "load_with_logic"]
