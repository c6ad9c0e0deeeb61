"""QA rules (OARContourLib.qa): each rule fires on a synthetic case and stays quiet on a clean one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from OARContourLib.ct.model import ImageGeometry
from OARContourLib.errors import InputError
from OARContourLib.findings import Severity
from OARContourLib.mask_block import crop
from OARContourLib.phantom import build_phantom
from OARContourLib.qa import RULES, QAContext, check_structures
from OARContourLib.qa.organ_volumes import load_volume_ranges
from OARContourLib.qa.rules_laterality import Laterality, SwappedPair
from OARContourLib.qa.rules_masks import EmptyStructure, OutsideBody, SliceGap, TinyStructure, VolumeImplausible
from OARContourLib.qa.rules_structure_set import MultipleExternal, NameDuplicate, NameInvalidForTps, TemplateMissing
from OARContourLib.rtstruct.model import RoiType, Structure
from OARContourLib.rtstruct.roi_types import default_roi_type

SHAPE = (8, 20, 20)  # k, j, i
#: Direction columns (i, j, k axes in LPS) for the DICOM Image Orientation of each patient position.
DIRECTIONS = {
    "HFS": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "FFS": ((-1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),
    "HFP": ((-1.0, 0.0, 0.0), (0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
}
FORBIDDEN_ON_TRUTH = {"LATERALITY", "SWAPPED_PAIR", "PAIR_SAME_SIDE", "PAIR_CONNECTED", "OUTSIDE_BODY", "SLICE_GAP", "MULTIPLE_EXTERNAL"}


def geometry(position: str = "HFS", spacing_mm: float = 5.0) -> ImageGeometry:
    rows = DIRECTIONS[position]
    direction = tuple(tuple(rows[axis][c] for axis in range(3)) for c in range(3))  # unit vectors as columns
    return ImageGeometry(shape=SHAPE, spacing_mm=(spacing_mm,) * 3, origin_lps=(-50.0, -50.0, 0.0),
                         direction=direction)  # type: ignore[arg-type]


def box(name: str, k: slice = slice(2, 6), j: slice = slice(6, 14), i: slice = slice(6, 14),
        roi_type: RoiType | None = None) -> Structure:
    mask = np.zeros(SHAPE, dtype=bool)
    mask[k, j, i] = True
    return Structure(name, mask, roi_type=roi_type or default_roi_type(name))


def body() -> Structure:
    return box("Body", slice(None), slice(2, 18), slice(2, 18))


def context(*structures: Structure, position: str = "HFS", template: str | None = None,
            tps: str = "generic", spacing_mm: float = 5.0) -> QAContext:
    return QAContext(list(structures), geometry(position, spacing_mm), template=template, tps=tps)


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def patient_left_columns(position: str) -> slice:
    """Array columns (i) on the patient's left (+x in LPS) for a position."""
    return slice(12, 18) if DIRECTIONS[position][0][0] > 0 else slice(2, 8)


def patient_right_columns(position: str) -> slice:
    return slice(2, 8) if DIRECTIONS[position][0][0] > 0 else slice(12, 18)


# -- one test per rule: it fires, and a clean case stays quiet ----------------------------------

def test_template_missing_fires_for_a_required_structure() -> None:
    findings = TemplateMissing().check(context(body(), template="Thorax"))
    assert findings and all(f.severity is Severity.WARNING for f in findings)
    assert "Body" not in {f.roi_name for f in findings}
    assert TemplateMissing().check(context(body())) == []


def test_template_missing_quiet_when_all_required_present() -> None:
    ctx = context(body(), template="Thorax")
    names = [e.tg263_name for e in ctx.tables.template("Thorax") if e.required]
    full = [box(n) for n in names] + [body()]
    assert TemplateMissing().check(context(*full, template="Thorax")) == []


def test_empty_structure() -> None:
    empty = Structure("Heart", np.zeros((0, 0, 0), dtype=bool))
    assert codes(EmptyStructure().check(context(empty, body()))) == ["EMPTY_ROI"]
    assert EmptyStructure().check(context(box("Heart"), body())) == []


def test_tiny_structure_uses_the_voxel_volume() -> None:
    dot = box("Lens_L", slice(3, 4), slice(8, 9), slice(12, 13))  # one voxel
    assert codes(TinyStructure().check(context(dot, spacing_mm=2.0))) == ["TINY_STRUCTURE"]  # 0.008 cc
    assert TinyStructure().check(context(dot, spacing_mm=5.0)) == []  # 0.125 cc


def test_volume_implausible_from_the_table() -> None:
    heart = box("Heart")  # 4 * 8 * 8 voxels
    assert codes(VolumeImplausible().check(context(heart, spacing_mm=5.0))) == ["VOLUME_IMPLAUSIBLE"]  # 32 cc
    assert VolumeImplausible().check(context(heart, spacing_mm=18.0)) == []  # 1493 cc, in 300-1500
    assert VolumeImplausible().check(context(box("zHelper"))) == []  # not in the table


def test_slice_gap_names_the_missing_slices() -> None:
    cord = box("SpinalCord", slice(1, 7))
    cord.mask[3:5] = False
    (finding,) = SliceGap().check(context(cord))
    assert (finding.code, finding.slice_index) == ("SLICE_GAP", 3)
    assert "3, 4" in finding.message
    assert SliceGap().check(context(box("SpinalCord", slice(1, 7)))) == []


def test_slice_gap_ignores_structures_made_of_parts() -> None:
    vertebrae = box("VBs", slice(1, 7))
    vertebrae.mask[3] = False
    assert SliceGap().check(context(vertebrae)) == []


def test_outside_body() -> None:
    leaky = box("Heart", j=slice(0, 8))  # 2 of 8 rows outside Body
    assert codes(OutsideBody().check(context(leaky, body()))) == ["OUTSIDE_BODY"]
    assert OutsideBody().check(context(box("Heart"), body())) == []
    assert OutsideBody().check(context(box("Couch", j=slice(0, 8), roi_type=RoiType.SUPPORT), body())) == []
    assert OutsideBody().check(context(leaky)) == []  # no Body: nothing to compare with


def test_multiple_external() -> None:
    outline = box("External", roi_type=RoiType.EXTERNAL)
    (finding,) = MultipleExternal().check(context(body(), outline))
    assert (finding.code, finding.severity) == ("MULTIPLE_EXTERNAL", Severity.ERROR)
    assert MultipleExternal().check(context(body(), box("Heart"))) == []


def test_name_invalid_for_tps() -> None:
    findings = NameInvalidForTps().check(context(box("Spinal Cord"), box("Heart")))
    assert codes(findings) == ["NAME_INVALID_FOR_TPS"] and findings[0].roi_name == "Spinal Cord"
    assert findings[0].severity is Severity.ERROR
    assert NameInvalidForTps().check(context(box("SpinalCord"), box("Heart"))) == []


def test_name_duplicate_ignoring_case() -> None:
    assert codes(NameDuplicate().check(context(box("Heart"), box("HEART")))) == ["DUPLICATE_ROI_NAME"]
    assert NameDuplicate().check(context(box("Heart"), box("Liver"))) == []


@pytest.mark.parametrize("position", sorted(DIRECTIONS))
def test_laterality_uses_the_geometry_not_array_columns(position: str) -> None:
    left = box("Parotid_L", i=patient_left_columns(position))
    wrong = box("Parotid_L", i=patient_right_columns(position))
    assert Laterality().check(context(body(), left, position=position)) == []
    (finding,) = Laterality().check(context(body(), wrong, position=position))
    assert (finding.code, finding.roi_name, finding.severity) == ("LATERALITY", "Parotid_L", Severity.ERROR)


@pytest.mark.parametrize("position", sorted(DIRECTIONS))
def test_swapped_pair(position: str) -> None:
    left_cols, right_cols = patient_left_columns(position), patient_right_columns(position)
    swapped = [body(), box("Kidney_L", i=right_cols), box("Kidney_R", i=left_cols)]
    correct = [body(), box("Kidney_L", i=left_cols), box("Kidney_R", i=right_cols)]
    assert codes(SwappedPair().check(context(*swapped, position=position))) == ["SWAPPED_PAIR"]
    assert Laterality().check(context(*swapped, position=position)) == []  # reported once, as the pair
    assert SwappedPair().check(context(*correct, position=position)) == []


def test_midline_is_the_body_centroid_else_the_grid_centre() -> None:
    off_centre_body = box("Body", slice(None), slice(2, 18), slice(1, 9))  # centroid at i = 4.5, inside the image
    assert context(off_centre_body).midline_x_mm == pytest.approx(-50.0 + 4.5 * 5.0)
    assert context(box("Heart")).midline_x_mm == pytest.approx(-50.0 + 9.5 * 5.0)
    near_left_edge = box("Eye_R", i=slice(6, 8))  # patient-left of this Body's midline, right of the grid centre
    assert Laterality().check(context(off_centre_body, near_left_edge)) != []
    assert Laterality().check(context(near_left_edge)) == []


# -- check_structures and the phantom ----------------------------------------------------------

def test_every_rule_has_a_code_and_a_severity() -> None:
    assert len({rule.code for rule in RULES}) == len(RULES)
    assert all(rule.code and isinstance(rule.severity, Severity) for rule in RULES)


@pytest.mark.parametrize("position", ["HFS", "FFS", "HFP"])
def test_phantom_truth_has_no_geometric_findings(position: str) -> None:
    phantom = build_phantom(rows=64, columns=64, slices=16, pixel_spacing_mm=8, slice_spacing_mm=10,
                            patient_position=position)
    structures = [Structure(n, *crop(m), roi_type=default_roi_type(n)) for n, m in phantom.masks.items()]
    assert not FORBIDDEN_ON_TRUTH & set(codes(check_structures(structures, phantom)))
    swapped = [Structure({"Lung_L": "Lung_R", "Lung_R": "Lung_L"}.get(s.name, s.name), s.mask, s.offset_kji,
                         roi_type=s.roi_type) for s in structures]
    assert "SWAPPED_PAIR" in codes(check_structures(swapped, phantom.geometry))


def test_check_structures_rejects_unknown_template_and_misfit_masks() -> None:
    with pytest.raises(InputError, match="Unknown site template 'Nowhere'"):
        check_structures([body()], geometry(), template="Nowhere")
    with pytest.raises(InputError, match="does not fit the CT grid"):
        check_structures([Structure("Heart", np.ones((4, 4, 4), bool), offset_kji=(6, 0, 0))], geometry())


def test_organ_volume_table_loads_and_validates(tmp_path: Path) -> None:
    ranges = load_volume_ranges()
    assert ranges["heart"].min_cc == 300 and ranges["lens_l"].max_cc == 0.5
    bad = tmp_path / "bad.csv"
    bad.write_text("# source: test\ntg263_name,min_cc,max_cc,source\nHeart,900,300,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="data row 2"):
        load_volume_ranges(str(bad))


# -- the registry: every rule fires on a case made for it and stays quiet on clean input ---------------

def _required_thorax() -> list[Structure]:
    names = [e.tg263_name for e in context().tables.template("Thorax") if e.required]
    return [box(n) for n in names if n != "Body"] + [body()]


def _cord_with_gap() -> Structure:
    cord = box("SpinalCord", slice(1, 7))
    cord.mask[3:5] = False
    return cord


#: Rule code → (structure set that must fire the rule, clean structure set on which it must stay quiet).
CASES = {
    "TEMPLATE_MISSING": (lambda: context(body(), template="Thorax"),
                         lambda: context(*_required_thorax(), template="Thorax")),
    "EMPTY_ROI": (lambda: context(Structure("Heart", np.zeros((0, 0, 0), bool)), body()),
                  lambda: context(box("Heart"), body())),
    "TINY_STRUCTURE": (lambda: context(box("Lens_L", slice(3, 4), slice(8, 9), slice(12, 13)), spacing_mm=2.0),
                       lambda: context(box("Heart"), body())),
    "LATERALITY": (lambda: context(body(), box("Parotid_L", i=slice(2, 8))),
                   lambda: context(body(), box("Parotid_L", i=slice(12, 18)))),
    "SWAPPED_PAIR": (lambda: context(body(), box("Kidney_L", i=slice(2, 8)), box("Kidney_R", i=slice(12, 18))),
                     lambda: context(body(), box("Kidney_L", i=slice(12, 18)), box("Kidney_R", i=slice(2, 8)))),
    "PAIR_SAME_SIDE": (lambda: context(body(), box("Kidney_L", i=slice(12, 14)), box("Kidney_R", i=slice(15, 18))),
                       lambda: context(body(), box("Kidney_L", i=slice(12, 18)), box("Kidney_R", i=slice(2, 8)))),
    "PAIR_CONNECTED": (lambda: context(body(), box("Lung_L", i=slice(10, 16)), box("Lung_R", i=slice(4, 10))),
                       lambda: context(body(), box("Lung_L", i=slice(12, 18)), box("Lung_R", i=slice(2, 8)))),
    "VOLUME_IMPLAUSIBLE": (lambda: context(box("Heart"), spacing_mm=5.0),
                           lambda: context(box("Heart"), spacing_mm=18.0)),
    "OUTSIDE_BODY": (lambda: context(box("Heart", j=slice(0, 8)), body()), lambda: context(box("Heart"), body())),
    "SLICE_GAP": (lambda: context(_cord_with_gap()), lambda: context(box("SpinalCord", slice(1, 7)))),
    "MULTIPLE_EXTERNAL": (lambda: context(body(), box("External", roi_type=RoiType.EXTERNAL)),
                          lambda: context(body(), box("Heart"))),
    "NAME_INVALID_FOR_TPS": (lambda: context(box("Spinal Cord"), box("Heart")),
                             lambda: context(box("SpinalCord"), box("Heart"))),
    "DUPLICATE_ROI_NAME": (lambda: context(box("Heart"), box("HEART")), lambda: context(box("Heart"), box("Liver"))),
}


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_every_registered_rule_fires_and_stays_quiet(rule) -> None:
    assert rule.code in CASES, f"QA rule {rule.code} has no firing case in CASES: add one"
    assert rule.description, f"QA rule {rule.code} has no description"
    firing, clean = CASES[rule.code]
    assert rule.code in codes(rule.check(firing()))
    assert rule.check(clean()) == []
