"""Planning TotalSegmentator runs from TG-263 names, site templates and the naming table."""

from __future__ import annotations

import random

import pytest
from OARContourLib.autoseg.ts_model import LICENSED_TASKS, ROI_SUBSET_TASKS
from OARContourLib.autoseg.ts_plan import (
    REASON_CLASSICAL,
    REASON_MANUAL,
    REASON_NO_TASK,
    REASON_UNKNOWN,
    available_structures,
    plan_tasks,
)
from OARContourLib.errors import InputError
from OARContourLib.naming.tables import load_tables

LEFT_LOBES = {"lung_upper_lobe_left", "lung_lower_lobe_left"}
RIGHT_LOBES = {"lung_upper_lobe_right", "lung_middle_lobe_right", "lung_lower_lobe_right"}


def _template_names(template: str) -> list[str]:
    return [e.tg263_name for e in load_tables().template(template)]


def _run(plan, task: str):
    return next(r for r in plan.runs if r.task == task)


def test_hn_template_plans_glands_task_and_total_subset() -> None:
    plan = plan_tasks(_template_names("HN"), template="HN")
    glands = _run(plan, "head_glands_cavities")
    assert {"Parotid_L", "Parotid_R", "Glnd_Submand_L", "Lens_L"} <= set(glands.structures)
    assert glands.roi_subset is None
    total = _run(plan, "total")
    assert total.roi_subset and "spinal_cord" in total.roi_subset and "SpinalCord" in total.structures
    total_classes = {c for m in load_tables().ts_map if m.ts_task == "total" for c in m.components}
    assert set(total.roi_subset) <= total_classes
    assert all(r.roi_subset is None for r in plan.runs if r.task not in ROI_SUBSET_TASKS)
    assert plan.runs[0].task == "total"
    planned = {n for r in plan.runs for n in r.structures}
    assert planned.isdisjoint(plan.unavailable) and planned | set(plan.unavailable) == set(_template_names("HN"))


def test_template_rows_decide_source() -> None:
    entries = {e.tg263_name: e for e in load_tables().template("HN")}
    plan = plan_tasks(["Body", "Bone_Mandible", "Larynx"], template="HN")
    assert entries["Body"].source == "classical" and plan.unavailable["Body"] == REASON_CLASSICAL
    assert entries["Larynx"].source == "manual" and plan.unavailable["Larynx"] == REASON_MANUAL
    assert _run(plan, entries["Bone_Mandible"].ts_task).structures == ("Bone_Mandible",)
    # Without the template Body comes from TotalSegmentator's body task.
    assert plan_tasks(["Body"]).tasks == ("body",)


def test_brainstem_needs_licensed_brain_structures() -> None:
    plan = plan_tasks(["Brainstem", "SpinalCord"])
    run = _run(plan, "brain_structures")
    assert run.structures == ("Brainstem",) and run.roi_subset is None
    assert "brain_structures" in LICENSED_TASKS
    assert not plan.unavailable


@pytest.mark.parametrize("name", ["OpticChiasm", "Cochlea_L", "Lips"])
def test_names_without_a_class_are_manual(name: str) -> None:
    assert not any(m.tg263_name == name for m in load_tables().ts_map)
    plan = plan_tasks([name])
    assert plan.runs == () and plan.unavailable == {name: REASON_NO_TASK}
    assert plan.unavailable[name].startswith("manual")
    assert name not in available_structures()


def test_unknown_name_is_reported_not_planned() -> None:
    plan = plan_tasks(["Parotid_L", "NotAnOrgan_X"])
    assert plan.unavailable == {"NotAnOrgan_X": REASON_UNKNOWN} and plan.tasks == ("head_glands_cavities",)


def test_composites_expand_to_lobes() -> None:
    assert set(_run(plan_tasks(["Lung_L"]), "total").roi_subset or ()) == LEFT_LOBES
    assert set(_run(plan_tasks(["Lungs"]), "total").roi_subset or ()) == LEFT_LOBES | RIGHT_LOBES
    both = _run(plan_tasks(["Lung_R", "Lung_RML", "Heart"]), "total")
    assert set(both.roi_subset or ()) == RIGHT_LOBES | {"heart"}
    assert list(both.roi_subset or ()) == sorted(both.roi_subset or ())
    assert both.structures == ("Lung_R", "Lung_RML", "Heart")


def test_open_ct_task_preferred() -> None:
    providers = {m.ts_task for m in load_tables().ts_map if m.tg263_name == "A_Aorta"}
    assert {"total", "total_mr", "heartchambers_highres"} <= providers
    assert plan_tasks(["A_Aorta", "Liver"]).tasks == ("total",)  # not the licensed or the MR task


def test_plan_is_deterministic_and_passes_fast() -> None:
    names = _template_names("HN") + _template_names("Thorax")
    first = plan_tasks(names, fast=True)
    shuffled = list(names)
    random.Random(3).shuffle(shuffled)
    second = plan_tasks(shuffled, fast=True)
    assert first.tasks == second.tasks
    assert [r.roi_subset for r in first.runs] == [r.roi_subset for r in second.runs]
    assert [set(r.structures) for r in first.runs] == [set(r.structures) for r in second.runs]
    assert first.unavailable == second.unavailable
    assert all(r.fast for r in first.runs) and not any(r.fast for r in plan_tasks(names).runs)
    assert plan_tasks(names, fast=True) == first


def test_unknown_template() -> None:
    with pytest.raises(InputError, match="Unknown site template 'Nowhere'") as error:
        plan_tasks(["Brain"], template="Nowhere")
    assert "HN" in error.value.hint


def test_available_structures_come_from_the_table() -> None:
    available = available_structures()
    mapped = {m.tg263_name for m in load_tables().ts_map if m.tg263_name}
    assert set(available) == mapped and len(available) == len(set(available))
    assert {"Parotid_L", "Brainstem", "Lungs", "SpinalCord"} <= set(available)
    plan = plan_tasks(available)
    assert not plan.unavailable and {n for r in plan.runs for n in r.structures} == set(available)
