"""naming.appearance: one decision of ROI type, colour, algorithm, description and code for every door."""

from __future__ import annotations

from pathlib import Path

from OARContourLib import segment_tags
from OARContourLib.naming.appearance import appearance, coded_concept, palette_color
from OARContourLib.naming.overrides import load_overrides
from OARContourLib.naming.tables import load_tables
from OARContourLib.rtstruct.model import GenerationAlgorithm, RoiType


def test_names_the_tables_do_not_know_are_typed_by_rules_and_coloured_from_the_palette() -> None:
    expected = {"Outline": RoiType.EXTERNAL, "ptv high": RoiType.PTV, "ctv1": RoiType.CTV,
                "Ring 2cm": RoiType.AVOIDANCE, "Tumour bed": RoiType.ORGAN}
    for name, roi_type in expected.items():
        look = appearance(name)
        assert (look.roi_type, look.known, look.code) == (roi_type, False, None), name
        assert look.color == palette_color(name) == palette_color(name.upper())  # by name, not position


def test_precedence_tags_then_own_colour_then_overrides_then_tables(tmp_path: Path) -> None:
    tables = load_tables()
    heart = tables.default_for("Heart")
    assert (appearance("Heart").roi_type, appearance("Heart").color) == (heart.roi_type, heart.color)
    assert appearance("Heart", color=(1, 2, 3)).color == (1, 2, 3)
    tags = {segment_tags.ROI_TYPE_TAG: "AVOIDANCE", segment_tags.ALGORITHM_TAG: "SEMIAUTOMATIC",
            segment_tags.DESCRIPTION_TAG: "edited"}
    tagged = appearance("Heart", tags)
    assert (tagged.roi_type, tagged.algorithm, tagged.description) == (
        RoiType.AVOIDANCE, GenerationAlgorithm.SEMIAUTOMATIC, "edited")
    assert appearance("Heart").algorithm is GenerationAlgorithm.MANUAL
    table = tmp_path / "o.csv"
    table.write_text("local_name,tg263_name,color_r,color_g,color_b,roi_type\nHerz,Heart,9,8,7,CONTROL\n",
                     encoding="utf-8")
    overridden = appearance("Heart", overrides=load_overrides(table))
    assert (overridden.color, overridden.roi_type) == ((9, 8, 7), RoiType.CONTROL)


def test_snomed_code_from_the_tg263_row_without_the_semantic_tag() -> None:
    cord = coded_concept("SpinalCord")
    assert (cord.value, cord.scheme, cord.meaning) == ("2748008", "SCT", "Spinal cord structure")
    assert appearance("Parotid_L").code.value == "45289007"
    assert coded_concept("SpinalCord_PRV05") is None and coded_concept("Outline") is None
    rows = load_tables().names.values()
    long_meanings = [e.primary_name for e in rows if len(e.sct_meaning.removesuffix(" (body structure)")) > 64]
    assert long_meanings and all(coded_concept(name) is None for name in long_meanings)
