"""Institution override tables: loading, validation errors with file and line, precedence, merged defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from OARContourLib.errors import InputError
from OARContourLib.naming.appearance import appearance
from OARContourLib.naming.overrides import OVERRIDE_REASON, load_overrides
from OARContourLib.naming.resolve import suggest
from OARContourLib.naming.tables import load_tables
from OARContourLib.rtstruct.model import RoiType

GOOD = """\
# site table, reviewed 2026
local_name,tg263_name,color_r,color_g,color_b,roi_type
Ohr li,Cochlea_L,10,20,30,ORGAN
PAROTIS,Parotids,,,,
Darmsack,Bowel_Bag,,,,AVOIDANCE
lkid,Kidney_L,,,,
Sonde,zSonde,200,200,0,
"""


@pytest.fixture(scope="module")
def tables():
    return load_tables()


def write(tmp_path: Path, text: str, name: str = "site.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_exact_local_name_wins_with_confidence_1(tmp_path: Path, tables) -> None:
    overrides = load_overrides(write(tmp_path, GOOD))
    best = suggest("PAROTIS", tables, overrides)[0]
    assert (best.name, best.confidence, best.reason) == ("Parotids", 1.0, OVERRIDE_REASON)
    assert suggest("Darmsack", tables, overrides)[0].name == "Bowel_Bag"  # a site may prefer the reverse name


def test_local_name_differing_in_case_still_matches(tmp_path: Path, tables) -> None:
    best = suggest("parotis", tables, load_overrides(write(tmp_path, GOOD)))[0]
    assert best.name == "Parotids" and best.confidence == 0.99 and best.reason.startswith(OVERRIDE_REASON)


def test_names_without_override_are_resolved_as_usual(tmp_path: Path, tables) -> None:
    assert suggest("Lt Parotid", tables, load_overrides(write(tmp_path, GOOD)))[0].name == "Parotid_L"


def test_override_may_state_a_side_the_local_name_implies(tmp_path: Path, tables) -> None:
    assert suggest("lkid", tables, load_overrides(write(tmp_path, GOOD)))[0].name == "Kidney_L"


def test_colour_and_type_are_merged_over_the_defaults(tmp_path: Path, tables) -> None:
    overrides = load_overrides(write(tmp_path, GOOD))
    entry = overrides.entries["Ohr li"]
    assert (entry.color, entry.roi_type, entry.row) == ((10, 20, 30), RoiType.ORGAN, 3)
    assert appearance("Cochlea_L", overrides=overrides, tables=tables).color == (10, 20, 30)
    darmsack = appearance("Bowel_Bag", overrides=overrides, tables=tables)
    assert darmsack.roi_type is RoiType.AVOIDANCE and darmsack.color == tables.default_for("Bowel_Bag").color
    plain = appearance("Brainstem", overrides=overrides, tables=tables)
    assert (plain.color, plain.roi_type) == (tables.default_for("Brainstem").color, tables.default_for("Brainstem").roi_type)


def test_minimal_columns(tmp_path: Path) -> None:
    overrides = load_overrides(write(tmp_path, "local_name,tg263_name\nRM,SpinalCord\n"))
    assert overrides.entries["RM"].tg263_name == "SpinalCord" and overrides.entries["RM"].color is None


@pytest.mark.parametrize("text, message", [
    ("name,tg263_name\nA,Brain\n", "missing column"),
    ("local_name,tg263_name\nA,\n", "line 2: local_name and tg263_name must both be filled"),
    ("local_name,tg263_name\nA,Brain Stem\n", "line 2: tg263_name 'Brain Stem' is not a valid name"),
    ("local_name,tg263_name\nA,Parotid_L_with_a_long_name\n", "line 2: tg263_name"),
    ("local_name,tg263_name,color_r,color_g,color_b\nA,Brain,1,2,\n", "line 2: color_r, color_g, color_b"),
    ("local_name,tg263_name,color_r,color_g,color_b\nA,Brain,1,2,300\n", "three integers 0-255"),
    ("local_name,tg263_name,roi_type\nA,Brain,ORGAN_X\n", "line 2: roi_type 'ORGAN_X'"),
    ("local_name,tg263_name\nParotid Lt,Parotid_R\n", "says side L but 'Parotid_R' is side R"),
    ("local_name,tg263_name\n# comment\nA,Brain\na,Brainstem\n", "line 4: local name 'a' is already mapped to 'Brain' on line 3"),
    ("", "is empty"),
])
def test_errors_name_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match="site.csv") as raised:
        load_overrides(write(tmp_path, text))
    assert message in str(raised.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Cannot read the override table"):
        load_overrides(tmp_path / "missing.csv")


def test_same_mapping_twice_is_allowed(tmp_path: Path) -> None:
    overrides = load_overrides(write(tmp_path, "local_name,tg263_name\nRM,SpinalCord\nrm,SpinalCord\n"))
    assert set(overrides.entries) == {"RM", "rm"}
