"""TPS profiles: data files with evidence for every setting, consistent with our constraint table."""

from __future__ import annotations

import csv

import pytest
from OARContourLib.errors import InputError
from OARContourLib.resources import resource_path
from OARContourLib.rtstruct.profiles import PROFILE_IDS, Evidence, load_profile


def constraint_table() -> dict[str, dict[str, str]]:
    lines = [line for line in resource_path("TPS/constraints.csv").read_text().splitlines() if not line.startswith("#")]
    return {row["id"]: row for row in csv.DictReader(lines)}


@pytest.mark.parametrize("profile_id", PROFILE_IDS)
def test_every_setting_names_a_known_constraint_and_its_evidence(profile_id: str) -> None:
    profile = load_profile(profile_id)
    table = constraint_table()
    for name, setting in profile.settings().items():
        assert setting.constraint in table, (profile_id, name)
        assert setting.source, (profile_id, name)
        assert isinstance(setting.evidence, Evidence)


def test_unconfirmed_constraints_are_labelled_as_such() -> None:
    table = constraint_table()
    assert table["C12"]["evidence_level"] == "unconfirmed"
    eclipse = load_profile("eclipse")
    assert "exactly_one_external" in eclipse.unconfirmed()
    assert eclipse.max_roi_name_length.value == 16 and eclipse.max_roi_name_length.evidence is Evidence.CONFIRMED
    assert load_profile("raystation").exactly_one_external.evidence is Evidence.CONFIRMED
    for system in ("monaco", "pinnacle", "mim"):
        assert "max_roi_name_length" in load_profile(system).unconfirmed()


def test_every_profile_defaults_to_keyhole_holes() -> None:
    assert {load_profile(p).hole.value for p in PROFILE_IDS} == {"keyhole"}


def test_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match="generic, eclipse"):
        load_profile("varian")


def test_profile_ids_are_the_files_of_the_resources_folder() -> None:
    from OARContourLib.resources import resource_path

    assert set(PROFILE_IDS) == {path.stem for path in resource_path("TPS").glob("*.json")}
    assert PROFILE_IDS[0] == "generic" and list(PROFILE_IDS[1:]) == sorted(PROFILE_IDS[1:])
