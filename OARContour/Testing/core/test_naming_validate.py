"""Tests of TG-263 name validation (OARContourLib.naming.validate) and compound parsing (naming.grammar)."""

from __future__ import annotations

import pytest
from OARContourLib.errors import InputError
from OARContourLib.findings import Severity
from OARContourLib.naming import check_unique, is_valid_compound, load_tables, parse_compound, validate_name
from OARContourLib.naming.tables import NamingTables
from OARContourLib.rtstruct.profiles import load_profile


@pytest.fixture(scope="module")
def tables() -> NamingTables:
    return load_tables()


def codes(name: str, tables: NamingTables, profile: str | None = None) -> list[str]:
    return [f.code for f in validate_name(name, tables, profile)]


@pytest.mark.parametrize("name", [
    "SpinalCord", "Parotid_L", "L_Parotid", "Bag_Bowel", "Hypothalmus", "LN_lliac_Int_R", "Lungs-GTV", "Body",
    "SpinalCord_PRV05", "OpticNrv_PRV03_L", "OpticChiasm_PRV3", "Brainstem_PRV", "Brain~", "Lung~_L", "Lungs^Ex",
    "Lungs-PTV2", "Parotid_L-PTV", "zPTVopt", "zRing_PTV", "_Ring", "PTV", "GTVp", "CTVn2", "PTVn_5400",
    "PTV_High", "PTV_Mid01", "PTV_50p4Gy", "PTV_50.4Gy", "PTV!_Low", "PTV_Liver_2000x3", "PTVLiverR_2000x3",
    "PTV_Eval_7000-08", "GTVp_CT1PT1", "CTV_A_Aorta", "IGTV", "ICTV",
])
def test_valid_names_and_compounds(tables: NamingTables, name: str) -> None:
    assert codes(name, tables) == []
    assert is_valid_compound(name, tables)


@pytest.mark.parametrize(("name", "code", "severity"), [
    ("", "NAME_EMPTY", Severity.ERROR),
    ("A_Subclavian_L_Long", "NAME_TOO_LONG", Severity.ERROR),
    ("Spinal Cord", "NAME_SPACES", Severity.ERROR),
    (" SpinalCord", "NAME_SPACES", Severity.ERROR),
    ("Rückenmark", "NAME_CHARACTERS", Severity.ERROR),
    ("Cord/Canal", "NAME_CHARACTERS", Severity.ERROR),
    ("Cord!", "NAME_SPECIAL_CHARACTER", Severity.ERROR),
    ("Lungs.GTV", "NAME_SPECIAL_CHARACTER", Severity.ERROR),
    ("-PTV", "NAME_SPECIAL_CHARACTER", Severity.ERROR),
    ("Lungs-", "NAME_SPECIAL_CHARACTER", Severity.ERROR),
    ("Bro~nchus", "NAME_SPECIAL_CHARACTER", Severity.ERROR),
    ("Lungs^Ex^2", "NAME_SPECIAL_CHARACTER", Severity.ERROR),
    ("Body-PTV-05", "NAME_SPECIAL_CHARACTER", Severity.ERROR),
    ("PTV~", "NAME_SPECIAL_CHARACTER", Severity.ERROR),
    ("SpinalCord_PRVxx", "NAME_TEMPLATE", Severity.ERROR),
    ("Bolus_xxmm", "NAME_TEMPLATE", Severity.ERROR),
    ("spinalcord", "NAME_CAPITALISATION", Severity.WARNING),
    ("Parotid_l", "NAME_CAPITALISATION", Severity.WARNING),
    ("spinalcord_PRV05", "NAME_CAPITALISATION", Severity.WARNING),
    ("SpinalCord_PRV5", "NAME_PRV_FORMAT", Severity.WARNING),
    ("SpinalCord_PRV123", "NAME_PRV_FORMAT", Severity.WARNING),
    ("OpticNrv_L_PRV03", "NAME_QUALIFIER_ORDER", Severity.WARNING),
    ("Lung_L~", "NAME_QUALIFIER_ORDER", Severity.WARNING),
    ("Parotid", "NAME_NOT_TG263", Severity.WARNING),
    ("Ring_PTV", "NAME_NOT_TG263", Severity.WARNING),
    ("Foo-PTV", "NAME_NOT_TG263", Severity.WARNING),
    ("LN_Neck_VIIA_L", "NAME_UNCONFIRMED", Severity.WARNING),
    ("Musc_GluteMax_L", "NAME_CONSTRUCTED", Severity.WARNING),
])
def test_each_rule_has_its_code(tables: NamingTables, name: str, code: str, severity: Severity) -> None:
    findings = [f for f in validate_name(name, tables) if f.code == code]
    assert findings, [f.code for f in validate_name(name, tables)]
    assert findings[0].severity is severity
    assert findings[0].roi_name == name and findings[0].hint


def test_informational_findings_keep_a_name_valid(tables: NamingTables) -> None:
    assert is_valid_compound("LN_Neck_VIIA_L", tables) and is_valid_compound("Musc_GluteMax_L", tables)
    assert not is_valid_compound("Parotid", tables) and not is_valid_compound("SpinalCord_PRVxx", tables)


def test_capitalisation_hint_gives_the_exact_spelling(tables: NamingTables) -> None:
    finding = validate_name("opticchiasm", tables)[0]
    assert finding.code == "NAME_CAPITALISATION" and "OpticChiasm" in finding.hint


def test_too_long_hint_depends_on_the_kind_of_name(tables: NamingTables) -> None:
    target = next(f for f in validate_name("PTV_Liver_R_2000x3", tables) if f.code == "NAME_TOO_LONG")
    assert "underscores" in target.hint
    prv = next(f for f in validate_name("OpticChiasm_PRV03", tables) if f.code == "NAME_TOO_LONG")
    assert "digit" in prv.hint


def test_one_digit_prv_margin_only_when_two_would_not_fit(tables: NamingTables) -> None:
    assert codes("OpticChiasm_PRV3", tables) == []  # OpticChiasm_PRV03 would be 17 characters
    assert codes("Brainstem_PRV3", tables) == ["NAME_PRV_FORMAT"]


# --- planning-system profiles --------------------------------------------------------------------------------


def test_profile_by_id_or_object(tables: NamingTables) -> None:
    assert codes("SpinalCord", tables, "eclipse") == []
    assert [f.code for f in validate_name("SpinalCord", tables, load_profile("raystation"))] == []
    with pytest.raises(InputError, match="Unknown TPS profile"):
        validate_name("SpinalCord", tables, "no-such-tps")


def test_profile_length_and_characters(tables: NamingTables) -> None:
    strict = load_profile("eclipse")
    limited = type(strict)(**{**strict.__dict__, "max_roi_name_length": type(strict.max_roi_name_length)(
        12, strict.max_roi_name_length.evidence, "C99", "test")})
    assert "NAME_TOO_LONG_FOR_TPS" in [f.code for f in validate_name("OpticNrv_PRV03_L", tables, limited)]
    no_tilde = type(strict)(**{**strict.__dict__, "roi_name_characters": type(strict.roi_name_characters)(
        r"^[A-Za-z0-9_]+$", strict.roi_name_characters.evidence, "C99", "test")})
    found = validate_name("Lung~_L", tables, no_tilde)
    assert [f.code for f in found] == ["NAME_CHARACTERS_FOR_TPS"] and found[0].severity is Severity.ERROR


def test_generic_profile_does_not_repeat_the_tg263_length_error(tables: NamingTables) -> None:
    assert codes("A_Subclavian_L_Long", tables, "generic").count("NAME_TOO_LONG") == 1
    assert "NAME_TOO_LONG_FOR_TPS" not in codes("A_Subclavian_L_Long", tables, "generic")


def test_default_tables_are_loaded_when_none_given() -> None:
    assert validate_name("SpinalCord") == []


# --- uniqueness ------------------------------------------------------------------------------------------------


def test_duplicates_ignoring_case_are_errors() -> None:
    findings = check_unique(["Lung_L", "lung_l", "Heart"])
    assert [(f.code, f.severity) for f in findings] == [("DUPLICATE_ROI_NAME", Severity.ERROR)]
    assert "'Lung_L', 'lung_l'" in findings[0].message


def test_names_differing_only_by_underscore_are_warnings() -> None:
    findings = check_unique(["VB_S", "VBs"])
    assert [(f.code, f.severity) for f in findings] == [("NAME_SIMILAR", Severity.WARNING)]
    assert check_unique(["SpinalCord", "Brainstem"]) == []


# --- grammar ---------------------------------------------------------------------------------------------------


def test_parse_prv_with_laterality() -> None:
    parsed = parse_compound("OpticNrv_PRV03_L")
    assert parsed.first.base == "OpticNrv_L" and parsed.first.prv_margin == "03" and not parsed.problems


def test_parse_partial_subtraction_crop_and_custom() -> None:
    assert parse_compound("Lung~_L").first.partial
    sub = parse_compound("Lungs-GTV")
    assert [o.text for o in sub.operands] == ["Lungs", "GTV"] and sub.operands[1].target_type == "GTV"
    crop = parse_compound("PTV_Eval_7000-08")
    assert crop.crop_mm == 8 and crop.first.target_type == "PTV"
    assert parse_compound("Lungs^Ex").custom_suffix == "Ex"


def test_parse_helpers_and_targets() -> None:
    assert parse_compound("zRing_PTV").helper_prefix == "z"
    assert parse_compound("_Ring").helper_prefix == "_"
    assert parse_compound("PTV!_Low").first.target_type == "PTV"
    assert parse_compound("GTVp").first.target_type == "GTV"
    assert parse_compound("Zygoma").helper_prefix == ""  # a capital Z is not the helper prefix


def test_parse_never_raises_on_odd_input() -> None:
    for text in ("-", "~", "^", "--", "z", "_", "PRV", "_PRV", "a~b~c", "PTV!!", "x-y-1"):
        parsed = parse_compound(text)
        assert parsed.operands
