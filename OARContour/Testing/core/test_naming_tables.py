"""Tests of the naming data files and their loader (OARContourLib.naming.tables)."""

from __future__ import annotations

import csv
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from OARContourLib.errors import OARContourError
from OARContourLib.naming import load_tables
from OARContourLib.naming.entries import SIDE_PLACEHOLDER
from OARContourLib.naming.table_parsers import alias_key, side_of, side_of_class
from OARContourLib.naming.tables import FILES, NamingTables
from OARContourLib.naming.validate import is_valid_compound, validate_name
from OARContourLib.resources import resource_path
from OARContourLib.rtstruct.model import RoiType

SHARED_NAMING = Path(__file__).resolve().parents[3].parent / "shared" / "naming"
#: Worksheet defects the table keeps on purpose (each has a note in tg263_names.csv).
LONG_REVERSE_NAMES = {"L_Trachbronchs_LN", "R_Trachbronchs_LN"}
SITES = ("HN", "Brain", "Thorax", "Breast", "Abdomen", "PelvisMale", "PelvisFemale")


@pytest.fixture(scope="module")
def tables() -> NamingTables:
    return load_tables()


def shared_csv(name: str) -> list[dict[str, str]]:
    path = SHARED_NAMING / name
    if not path.is_file():
        pytest.fail(f"../shared/naming/{name} not found beside the checkout (looked in {path})")
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# --- tg263_names.csv -------------------------------------------------------------------------------------


def test_every_worksheet_row_is_in_the_table_once(tables: NamingTables) -> None:
    worksheet = [r["TG263-Primary Name"].strip() for r in shared_csv("TG263_Nomenclature_Worksheet_20170815.csv")]
    assert len(worksheet) == 717
    kinds = Counter(e.kind for e in tables.names.values())
    assert kinds["official"] + kinds["template"] == 717
    assert kinds["template"] == 16
    assert kinds["official_unconfirmed"] == 24
    assert set(worksheet) <= set(tables.names)


def test_worksheet_defects_are_cleaned_and_noted(tables: NamingTables) -> None:
    assert {"Spc_Bowel", "Strct", "Tendon"} <= set(tables.names)
    assert {e.target_type for e in tables.names.values()} == {"Anatomic", "Non-Anatomic", "Derived", "PRV",
                                                               "Target", "Surgical"}
    for official_misspelling in ("Hypothalmus", "Hypothalmus_PRV", "LN_lliac_Int_R", "Colon_Decending"):
        assert tables.is_official(official_misspelling), official_misspelling
    assert "Hypothalamus" not in tables.names
    assert "typo" in tables.names["LN_lliac_Int_R"].note
    assert "Right" in tables.names["V_Iliac_L"].note and "Right" in tables.names["OpticNrv_PRVxx_L"].note
    assert "wrong" in tables.names["UreterDivert"].note
    assert tables.names["Bag_Bowel"].reverse_name == "Bowel_Bag"


def test_template_rows_are_patterns_not_names(tables: NamingTables) -> None:
    templates = {n for n, e in tables.names.items() if e.is_template}
    assert {"SpinalCord_PRVxx", "OpticNrv_PRVxx_L", "Bolus_xxmm", "E-PTV_xxxx", "Hypothalmus_PRVx",
            "Colon_PTVxx"} <= templates
    assert not any(tables.is_official(n) for n in templates)
    assert "A_Femoral_Cflx_L" not in templates and "Larynx" not in templates  # 'x' inside a word


def test_newer_names_are_unconfirmed_with_rule_built_reverse_names(tables: NamingTables) -> None:
    entry = tables.names["LN_Neck_VIIA_L"]
    assert entry.kind == "official_unconfirmed" and not entry.confirmed
    assert entry.reverse_name == "L_VIIA_Neck_LN"
    assert tables.names["Surf_Eye_L"].reverse_name == "L_Eye_Surf"
    assert tables.is_official("Rib13_L")


def test_reverse_names_map_to_primaries(tables: NamingTables) -> None:
    assert tables.reverse["L_Parotid"] == "Parotid_L"
    assert tables.primary_name("Bowel_Bag") == "Bag_Bowel"
    assert len(tables.reverse) == len(tables.names)


def test_snomed_codes_are_digits_and_the_header_has_the_licence_caveat(tables: NamingTables) -> None:
    assert tables.names["SpinalCord"].sct_code == "2748008"
    assert all(e.sct_code.isdigit() for e in tables.names.values() if e.sct_code)
    header = header_lines(resource_path("Naming/tg263_names.csv"))
    assert "SNOMED CT licence" in header


# --- every name in every table is valid ---------------------------------------------------------------------


def test_every_table_name_is_tg263_or_a_valid_compound(tables: NamingTables) -> None:
    problems = []
    for name, entry in tables.names.items():
        if entry.is_template:
            continue
        for candidate in (name, entry.reverse_name):
            if candidate in LONG_REVERSE_NAMES:
                assert "more than 16" in entry.note
                continue
            if not is_valid_compound(candidate, tables):
                problems.append((candidate, [f.code for f in validate_name(candidate, tables)]))
    assert problems == []


def test_constructed_names_are_marked_and_flagged(tables: NamingTables) -> None:
    for mapping in tables.ts_map:
        if mapping.tg263_name is None:
            continue
        codes = [f.code for f in validate_name(mapping.tg263_name, tables)]
        if mapping.status == "constructed":
            assert codes == ["NAME_CONSTRUCTED"], (mapping, codes)
            assert tables.defaults[mapping.tg263_name].name_status == "constructed"
        else:
            assert tables.is_official(mapping.tg263_name) and codes in ([], ["NAME_UNCONFIRMED"]), mapping


def test_alias_targets_are_valid_or_resolve_through_another_alias(tables: NamingTables) -> None:
    direct = {a.alias: a.tg263_name for a in tables.aliases if not a.lateral}
    for alias in tables.aliases:
        for target in alias.targets():
            assert is_valid_compound(target, tables) or is_valid_compound(direct.get(target, ""), tables), alias


def test_defaults_and_templates_name_only_valid_names(tables: NamingTables) -> None:
    names = list(tables.defaults) + [e.tg263_name for entries in tables.templates.values() for e in entries]
    assert [n for n in names if not is_valid_compound(n, tables)] == []


# --- aliases.csv -----------------------------------------------------------------------------------------------


def test_aliases_cover_common_oars(tables: NamingTables) -> None:
    assert len(tables.aliases) >= 300
    by_alias = {alias_key(a.alias): a.tg263_name for a in tables.aliases}
    expected = {"Oesophagus": "Esophagus", "Spinal Cord": "SpinalCord", "Cord": "SpinalCord",
                "Brain Stem": "Brainstem", "Mandible": "Bone_Mandible", "Chiasm": "OpticChiasm",
                "Parotid Gland": "Parotid_{side}", "Parotid Glands": "Parotids", "Hypothalamus": "Hypothalmus",
                "LN_Iliac_Int_R": "LN_lliac_Int_R", "Bowel Space": "Spc_Bowel", "Femoral Head": "Femur_Head_{side}"}
    for alias, target in expected.items():
        assert by_alias[alias_key(alias)] == target, alias
    assert {a.kind for a in tables.aliases} == {"english", "abbreviation", "spelling", "word_order",
                                                "totalsegmentator", "typo", "other"}


def test_lateral_aliases_use_the_side_placeholder_at_the_end(tables: NamingTables) -> None:
    for alias in tables.aliases:
        if alias.lateral:
            assert alias.tg263_name.endswith("_" + SIDE_PLACEHOLDER), alias
            assert not re.search(r"\b(left|right|lt|rt)\b", alias.alias, re.IGNORECASE), alias


# --- structure_defaults.csv ----------------------------------------------------------------------------------


def test_every_non_template_name_has_a_default(tables: NamingTables) -> None:
    wanted = {n for n, e in tables.names.items() if not e.is_template} | tables.constructed
    assert set(tables.defaults) == wanted
    assert all(all(0 <= c <= 255 for c in d.color) for d in tables.defaults.values())


def test_default_types_follow_the_rules(tables: NamingTables) -> None:
    d = tables.defaults
    assert d["Body"].roi_type is RoiType.EXTERNAL and d["External"].roi_type is RoiType.EXTERNAL
    assert [n for n, v in d.items() if v.roi_type is RoiType.EXTERNAL] == ["Body", "External"]
    assert (d["GTV"].roi_type, d["CTV"].roi_type, d["ITV"].roi_type, d["PTV"].roi_type) == (
        RoiType.GTV, RoiType.CTV, RoiType.CTV, RoiType.PTV)
    assert all(v.roi_type is RoiType.AVOIDANCE for n, v in d.items() if "_PRV" in n)
    assert d["Body-PTV"].roi_type is RoiType.AVOIDANCE and d["Lungs-GTV"].roi_type is RoiType.ORGAN
    assert d["Bolus"].roi_type is RoiType.BOLUS and d["SpinalCord"].roi_type is RoiType.ORGAN


def test_colours_come_from_the_mapped_totalsegmentator_class(tables: NamingTables) -> None:
    slicer = {r["Name"]: (int(r["Color_R"]), int(r["Color_G"]), int(r["Color_B"]))
              for r in shared_csv("SlicerTotalSegmentator_snomed_mapping.csv") if r["Color_R"]}
    assert tables.defaults["Spleen"].color == slicer["spleen"]
    assert tables.defaults["Spleen"].color_source == "slicer_totalsegmentator"


@pytest.mark.parametrize(("name", "roi_type", "source"), [
    ("SpinalCord_PRV05", RoiType.AVOIDANCE, "inherited"), ("OpticNrv_PRV03_L", RoiType.AVOIDANCE, "inherited"),
    ("Lung~_L", RoiType.ORGAN, "inherited"), ("Parotid_L-PTV", RoiType.ORGAN, "inherited"),
    ("PTV_7000", RoiType.PTV, "inherited"), ("GTVp", RoiType.GTV, "inherited"), ("IGTV", RoiType.GTV, "inherited"),
    ("zRing_PTV", RoiType.CONTROL, "oarcontour_fixed"), ("L_Parotid", RoiType.ORGAN, "oarcontour_palette"),
])
def test_default_for_compounds(tables: NamingTables, name: str, roi_type: RoiType, source: str) -> None:
    default = tables.default_for(name)
    assert default is not None and default.roi_type is roi_type and default.color_source == source


def test_prv_colour_is_the_lightened_root_colour(tables: NamingTables) -> None:
    root, prv = tables.defaults["SpinalCord"].color, tables.default_for("SpinalCord_PRV05")
    assert prv is not None and all(p >= r for p, r in zip(prv.color, root)) and prv.color != root
    assert tables.default_for("NotAName") is None


# --- totalsegmentator_to_tg263.csv ---------------------------------------------------------------------------


def test_ts_map_covers_every_class_of_the_project_table(tables: NamingTables) -> None:
    ours = {(m.ts_task, m.ts_class) for m in tables.ts_map}
    project = {(r["ts_task"], r["ts_class"]) for r in shared_csv("totalsegmentator_to_tg263.csv")
               if r["ts_task"] != "(composite)"}
    assert project <= ours


def test_ts_classes_are_totalsegmentator_classes(tables: NamingTables) -> None:
    slicer = {r["Name"] for r in shared_csv("SlicerTotalSegmentator_snomed_mapping.csv")}
    project = {r["ts_class"] for r in shared_csv("totalsegmentator_to_tg263.csv")}
    derived = {"body", "skin"}  # masks TotalSegmentator writes beside the body task output
    unknown = {c for m in tables.ts_map for c in m.components} - slicer - project - derived
    assert unknown == set()


def test_ts_statuses_and_no_equivalent_rows(tables: NamingTables) -> None:
    statuses = Counter(m.status for m in tables.ts_map)
    assert set(statuses) == {"official", "approximate", "constructed", "no_equivalent"}
    for mapping in tables.ts_map:
        assert (mapping.status == "no_equivalent") == (mapping.tg263_name is None), mapping
    assert tables.ts_mapping("total", "kidney_cyst_left").status == "no_equivalent"


def test_ts_laterality_matches_the_class_name(tables: NamingTables) -> None:
    checked = 0
    for mapping in tables.ts_map:
        if mapping.tg263_name is None:
            continue
        class_side = side_of_class(mapping.ts_class)
        name_side = side_of(mapping.tg263_name)
        if class_side in ("L", "R"):
            checked += 1
            assert name_side == class_side, mapping
        else:
            assert name_side is None, mapping
    assert checked > 100


def test_ts_map_known_pitfalls(tables: NamingTables) -> None:
    for task in ("total", "total_mr"):
        assert tables.ts_mapping(task, "spinal_cord").tg263_name == "SpinalCord"
        assert tables.ts_mapping(task, "femur_left").tg263_name == "Femur_L"
    assert not any(m.tg263_name == "SpinalCanal" for m in tables.ts_map)
    assert not any((m.tg263_name or "").startswith("Femur_Head") for m in tables.ts_map)
    assert tables.ts_mapping("total", "vertebrae_T7").tg263_name == "VB_T07"


def test_composites_and_merge_targets(tables: NamingTables) -> None:
    lobe = tables.ts_mapping("total", "lung_upper_lobe_left")
    assert lobe.merge_target == "Lung_L"
    lung_l = next(m for m in tables.composites("total") if m.tg263_name == "Lung_L")
    assert lung_l.merge_target == "Lungs" and set(lung_l.components) == {"lung_upper_lobe_left",
                                                                         "lung_lower_lobe_left"}
    for mapping in tables.ts_map:  # every union lists classes of its own task
        for component in mapping.components if mapping.is_composite else ():
            assert tables.ts_mapping(mapping.ts_task, component) is not None, (mapping, component)
    body = tables.ts_mapping("body", "body_trunc+body_extremities")
    assert body.tg263_name == "Body"


# --- site_templates.csv --------------------------------------------------------------------------------------


def test_templates_exist_and_reference_valid_names(tables: NamingTables) -> None:
    assert set(tables.templates) == set(SITES)
    for site in SITES:
        entries = tables.template(site)
        assert entries[0].tg263_name == "Body" and entries[0].roi_type is RoiType.EXTERNAL
        assert sum(e.roi_type is RoiType.EXTERNAL for e in entries) == 1
        assert any(e.required for e in entries)
        for entry in entries:
            assert is_valid_compound(entry.tg263_name, tables) or tables.is_constructed(entry.tg263_name)
            if entry.source == "totalsegmentator":
                mapping = tables.ts_mapping(entry.ts_task or "", "+".join(entry.ts_classes))
                assert mapping is not None and mapping.tg263_name == entry.tg263_name


def test_templates_use_the_classical_engine_where_totalsegmentator_has_no_class(tables: NamingTables) -> None:
    hn = {e.tg263_name: e for e in tables.template("HN")}
    assert hn["Body"].source == "classical" and hn["SpinalCanal"].source == "classical"
    assert hn["OpticChiasm"].source == "manual" and hn["Parotid_L"].ts_classes == ("parotid_gland_left",)


# --- licences ---------------------------------------------------------------------------------------------------


def header_lines(path: Path) -> str:
    return " ".join(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#"))


@pytest.mark.parametrize("file", FILES)
def test_every_file_names_its_source_and_our_licence(file: str) -> None:
    header = header_lines(resource_path(f"Naming/{file}"))
    assert "source:" in header and "licence: Apache-2.0" in header
    assert "UW" not in header and "GPL" not in header


def test_no_colour_or_alias_copied_from_the_gpl_uw_list(tables: NamingTables) -> None:
    uw = shared_csv("UW_TG263_colors_types_aliases.csv")
    same_colour = [r["name"] for r in uw if r["rgb"] and r["name"] in tables.defaults
                   and tuple(int(v) for v in r["rgb"].split(",")) == tables.defaults[r["name"]].color]
    assert len(same_colour) <= 3, same_colour  # chance agreement only (e.g. white for IDL)
    uw_aliases = {alias_key(a) for r in uw for a in r["aliases_pipe_separated"].split("|") if a.strip()}
    ours = {alias_key(a.alias) for a in tables.aliases}
    assert len(ours & uw_aliases) <= 0.1 * len(ours)  # only plain anatomy words any list shares
    uw_local = {r["name"] for r in uw} - set(tables.names) - set(tables.reverse)
    # Bone_Sternum is built independently by rule 6 (Bone_ prefix) for TotalSegmentator's sternum.
    assert (uw_local & (tables.constructed | {a.tg263_name for a in tables.aliases})) <= {"Bone_Sternum"}


# --- the loader rejects malformed files ----------------------------------------------------------------------


@pytest.fixture()
def naming_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "Naming"
    shutil.copytree(resource_path("Naming"), folder)
    return folder


def edit_line(path: Path, match: str, replace: tuple[str, str]) -> int:
    """Replace text in the first line starting with ``match``; returns its 1-based line number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith(match))
    lines[number] = lines[number].replace(*replace)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return number + 1


@pytest.mark.parametrize(("file", "match", "replace", "message"), [
    ("aliases.csv", "Chiasm,", ("OpticChiasm", "OpticChiasmX"), "OpticChiasmX"),
    ("aliases.csv", "Chiasm,", ("abbreviation", "slang"), "kind 'slang'"),
    ("structure_defaults.csv", "SpinalCord,", (",ORGAN,", ",ORGANISM,"), "roi_type 'ORGANISM'"),
    ("structure_defaults.csv", "Brainstem,", ("Brainstem,255,", "Brainstem,300,"), "0-255"),
    ("tg263_names.csv", "Brainstem,", (",official,", ",offical,"), "kind 'offical'"),
    ("tg263_names.csv", "Brainstem,", ("Brainstem,", "Brainstem ,"), "spaces"),
    ("totalsegmentator_to_tg263.csv", "total,kidney_left,", ("Kidney_L", "Kidney_R"), "left"),
    ("totalsegmentator_to_tg263.csv", "total,spleen,", ("Spleen", "Spleeen"), "Spleeen"),
    ("site_templates.csv", "HN,Parotid_L,", ("parotid_gland_left", "parotid_gland_right"), "parotid_gland_right"),
])
def test_loader_names_file_and_line(naming_copy: Path, file: str, match: str, replace: tuple[str, str],
                                    message: str) -> None:
    line = edit_line(naming_copy / file, match, replace)
    with pytest.raises(OARContourError, match=rf"{re.escape(file)}, line {line}: .*{re.escape(message)}") as info:
        load_tables(naming_copy)
    assert info.value.code == "BAD_RESOURCE"


def test_loader_requires_source_and_licence_lines(naming_copy: Path) -> None:
    path = naming_copy / "aliases.csv"
    path.write_text("\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                              if not line.startswith("#")) + "\n", encoding="utf-8")
    with pytest.raises(OARContourError, match=r"aliases\.csv: .*licence"):
        load_tables(naming_copy)


def test_loader_reports_a_missing_default(naming_copy: Path) -> None:
    edit_line(naming_copy / "structure_defaults.csv", "Cochlea_L,", ("Cochlea_L,", "Cochlea_Lx,"))
    with pytest.raises(OARContourError, match=r"structure_defaults\.csv, line \d+: 'Cochlea_Lx'"):
        load_tables(naming_copy)


def test_loader_accepts_an_unchanged_copy_and_caches(naming_copy: Path) -> None:
    first = load_tables(naming_copy)
    assert load_tables(naming_copy) is first
    assert len(first.names) == len(load_tables().names)
