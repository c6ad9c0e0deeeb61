"""A labelled accuracy set for the name resolver: clinical name variants → expected TG-263 name.

Written for OARContour from clinical naming habits (no other synonym list copied). Each case
states the side the input really has, so a benchmark can count side errors, and
``expected=None`` means "must NOT be applied automatically" (meaningless input, or a lateral organ
named without a side, whose side must never be guessed).

Groups: ``lateral`` (sides in many forms and positions), ``permutation`` (seeded random word order,
side word, separator and case), ``midline``, ``bilateral``, ``prv``,
``target``, ``compound`` (subtraction, ``z``, ``~``, ``^``), ``totalsegmentator``, ``typo``, ``hard``
(shorthand the resolver was not tuned on) and ``negative``.
"""

from __future__ import annotations

import csv
import itertools
import random
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NamingCase:
    """One labelled input.

    Attributes
    ----------
    text : str
        The clinical name.
    expected : str or None
        The TG-263 name a reviewer would choose; None when no name may be applied automatically.
    side : str
        The side the input states: ``"L"``, ``"R"`` or ``""``.
    group : str
        The kind of variant (see the module docstring).
    """

    text: str
    expected: str | None
    side: str
    group: str


#: Lateral structures: how clinicians write the organ, and the TG-263 root.
LATERAL_ORGANS = (
    ("Parotid", "Parotid"), ("Parotid Gland", "Parotid"), ("Optic Nerve", "OpticNrv"), ("OpticNerve", "OpticNrv"),
    ("Kidney", "Kidney"), ("Lung", "Lung"), ("Eye", "Eye"), ("Globe", "Eye"), ("Lens", "Lens"),
    ("Cochlea", "Cochlea"), ("Femoral Head", "Femur_Head"), ("Femur Head", "Femur_Head"),
    ("Submandibular Gland", "Glnd_Submand"), ("Submandibular", "Glnd_Submand"), ("Brachial Plexus", "BrachialPlex"),
    ("Hippocampus", "Hippocampus"), ("Lacrimal Gland", "Glnd_Lacrimal"), ("Breast", "Breast"),
    ("Temporal Lobe", "Lobe_Temporal"), ("Ovary", "Ovary"), ("Humerus", "Humerus"), ("Inner Ear", "Ear_Internal"),
    ("Retina", "Retina"), ("Femur", "Femur"), ("Kidney Hilum", "Kidney_Hilum"), ("Optic Nrv", "OpticNrv"),
    ("Ureter", "Ureter"), ("Testis", "Testis"),
)

#: Side spellings: (template, side). ``{o}`` is the organ.
SIDE_FORMS = (
    ("{o} L", "L"), ("L {o}", "L"), ("{o}_L", "L"), ("{o} Lt", "L"), ("Lt {o}", "L"), ("Left {o}", "L"),
    ("{o} Left", "L"), ("{o} (L)", "L"), ("LT_{o}", "L"), ("{o}_LT", "L"), ("Left-{o}", "L"), ("{o} sin", "L"),
    ("lt. {o}", "L"), ("{o} sinister", "L"), ("{o}-L", "L"),
    ("{o} R", "R"), ("R {o}", "R"), ("{o}_R", "R"), ("{o} Rt", "R"), ("Rt {o}", "R"), ("Right {o}", "R"),
    ("{o} Right", "R"), ("{o} (R)", "R"), ("RT_{o}", "R"), ("{o}_RT", "R"), ("Right-{o}", "R"), ("{o} dex", "R"),
    ("rt. {o}", "R"), ("{o} dexter", "R"), ("{o}-R", "R"),
)

#: Side-less structures: variants → TG-263 name.
MIDLINE = {
    "Brainstem": ("Brain Stem", "BRAINSTEM", "brain_stem", "BrainStem", "Brain-stem", "brainstem"),
    "SpinalCord": ("Spinal Cord", "spinal_cord", "Cord", "SPINAL CORD", "Spinal-Cord", "cord", "SpinalCord",
                   "Cord Spinal"),
    "Esophagus": ("Oesophagus", "esophagus", "ESOPHAGUS", "Oesophagus "),
    "Larynx": ("larynx", "LARYNX"),
    "Heart": ("heart", "HEART", "Heart "),
    "Liver": ("liver", "LIVER"),
    "Bladder": ("Urinary Bladder", "bladder", "BLADDER"),
    "Rectum": ("rectum", "RECTUM"),
    "Stomach": ("stomach",),
    "Bowel_Small": ("Small Bowel", "small_bowel", "SmallBowel", "Bowel Small", "small intestine"),
    "Bowel_Large": ("Large Bowel", "large_bowel"),
    "Colon_Sigmoid": ("Sigmoid", "Sigmoid Colon", "sigmoid_colon"),
    "Bag_Bowel": ("Bowel Bag", "BowelBag", "bowel_bag"),
    "OpticChiasm": ("Chiasm", "Optic Chiasm", "optic_chiasm", "CHIASM", "Chiasma"),
    "Bone_Mandible": ("Mandible", "mandible", "MANDIBLE"),
    "Cavity_Oral": ("Oral Cavity", "oral_cavity", "OralCavity"),
    "Lips": ("lips", "Lip"),
    "Glnd_Thyroid": ("Thyroid", "Thyroid Gland", "thyroid_gland"),
    "Trachea": ("trachea",),
    "Pituitary": ("pituitary", "Pituitary Gland"),
    "Brain": ("brain", "BRAIN"),
    "Musc_Constrict": ("Constrictors", "Pharyngeal Constrictors"),
    "PenileBulb": ("Penile Bulb", "penile_bulb", "Bulb of Penis"),
    "Prostate": ("prostate", "PROSTATE"),
    "SeminalVes": ("Seminal Vesicles", "seminal_vesicles"),
    "Duodenum": ("duodenum",),
    "Pancreas": ("pancreas",),
    "A_Aorta": ("Aorta", "aorta"),
    "CaudaEquina": ("Cauda Equina", "cauda_equina"),
    "Lobe_Temporal": ("Temporal Lobe", "temporal lobe"),
    "OpticNrv": ("Optic Nerve", "optic_nerve"),
    "Lens": ("lens",),
    "Cochlea": ("cochlea",),
    "Glnd_Lacrimal": ("Lacrimal Gland",),
    "Body": ("BODY", "body"),
    "External": ("EXTERNAL", "external"),
    "Canal_Anal": ("Anal Canal", "anal_canal"),
    "Spleen": ("spleen",),
    "Carina": ("carina",),
}

BILATERAL = {
    "Parotids": ("Parotids", "Both Parotids", "Bilat Parotid", "Bilateral Parotids", "parotids", "Parotid Bilat"),
    "Lungs": ("Lungs", "Both Lungs", "Bilateral Lungs", "Lung Total", "lungs", "Total Lung"),
    "Kidneys": ("Kidneys", "Both Kidneys", "Bilat Kidneys", "kidneys", "Kidney Bilateral"),
    "Eyes": ("Eyes", "Both Eyes", "Bilat Eyes"),
    "Hippocampi": ("Hippocampi", "Bilateral Hippocampi", "Both Hippocampus"),
    "Glnd_Submands": ("Both Submandibular Glands", "Bilat Submandibular"),
    "Femurs": ("Both Femurs",),
}

PRV = (
    ("Cord PRV 5mm", "SpinalCord_PRV05"), ("SpinalCord+5mm", "SpinalCord_PRV05"), ("PRV5 cord", "SpinalCord_PRV05"),
    ("cord_prv05", "SpinalCord_PRV05"), ("Spinal Cord PRV05", "SpinalCord_PRV05"), ("cord prv 0.5cm", "SpinalCord_PRV05"),
    ("SpinalCord_PRV05", "SpinalCord_PRV05"), ("Brainstem PRV 3mm", "Brainstem_PRV03"), ("BrainStem_PRV3", "Brainstem_PRV03"),
    ("PRV Brainstem 3mm", "Brainstem_PRV03"), ("Brainstem+3mm", "Brainstem_PRV03"), ("Chiasm PRV 3mm", "OpticChiasm_PRV3"),
    ("Optic Chiasm PRV03", "OpticChiasm_PRV3"), ("Esophagus PRV 5mm", "Esophagus_PRV05"), ("Brainstem PRV", "Brainstem_PRV"),
    ("Spinal Cord PRV", "SpinalCord_PRV"), ("cord prv10", "SpinalCord_PRV10"),
)
PRV_SIDED = (
    ("Lt Optic Nerve PRV 3mm", "OpticNrv_PRV03_L"), ("R optic nerve PRV3", "OpticNrv_PRV03_R"),
    ("OpticNrv_L_PRV03", "OpticNrv_PRV03_L"), ("PRV3 Optic Nerve Right", "OpticNrv_PRV03_R"),
    ("Kidney_L_PRV05", "Kidney_PRV05_L"), ("Left Kidney PRV 5mm", "Kidney_PRV05_L"),
    ("Cochlea R PRV 3mm", "Cochlea_PRV03_R"), ("Parotid Lt PRV5", "Parotid_PRV05_L"),
)

TARGETS = (
    ("PTV 70Gy", "PTV_7000"), ("PTV70", "PTV_7000"), ("PTV 70", "PTV_7000"), ("ptv 70 gy", "PTV_7000"),
    ("PTV 50.4", "PTV_5040"), ("PTV50.4", "PTV_5040"), ("PTV 5040", "PTV_5040"), ("PTV_5040", "PTV_5040"),
    ("PTV 50.4Gy", "PTV_5040"), ("PTV_50p4Gy", "PTV_5040"), ("ptv high", "PTV_High"), ("PTV Hi", "PTV_High"),
    ("PTV_low", "PTV_Low"), ("PTV Mid", "PTV_Mid"), ("PTV_High", "PTV_High"), ("CTV1", "CTV1"), ("CTV 1", "CTV1"),
    ("GTVp", "GTVp"), ("GTV primary", "GTVp"), ("GTVn", "GTVn"), ("GTV nodal", "GTVn"), ("PTVn_5400", "PTVn_5400"),
    ("PTVn 54Gy", "PTVn_5400"), ("PTV1 60Gy", "PTV1_6000"), ("CTV_High", "CTV_High"), ("CTV high", "CTV_High"),
    ("PTV eval", "PTV_Eval"), ("ITV", "ITV"), ("IGTV", "IGTV"), ("PTV", "PTV"), ("ptv", "PTV"), ("PTV2", "PTV2"),
    ("PTV_Eval_7000-08", "PTV_Eval_7000-08"), ("GTV", "GTV"), ("CTVp 60", "CTVp_6000"), ("PTV 45 Gy", "PTV_4500"),
)

COMPOUND = (
    ("Lungs minus GTV", "Lungs-GTV", ""), ("Lungs - GTV", "Lungs-GTV", ""), ("Body - PTV", "Body-PTV", ""),
    ("Body minus PTV", "Body-PTV", ""), ("Lungs-PTV", "Lungs-PTV", ""), ("lungs-ctv", "Lungs-CTV", ""),
    ("Brain - PTV", "Brain-PTV", ""), ("Liver minus GTV", "Liver-GTV", ""), ("Kidney_L-GTV", "Kidney_L-GTV", "L"),
    ("ring PTV", "zRing_PTV", ""), ("PTV ring", "zRing_PTV", ""), ("opt PTV", "zPTVopt", ""),
    ("PTVopt", "zPTVopt", ""), ("avoid rectum", "zAvoid_Rectum", ""), ("zPTVopt", "zPTVopt", ""),
    ("Brain~", "Brain~", ""), ("partial brain", "Brain~", ""), ("Lung~_L", "Lung~_L", "L"),
    ("Lungs^Ex", "Lungs^Ex", ""),
)

TOTALSEGMENTATOR = (
    ("kidney_left", "Kidney_L", "L"), ("kidney_right", "Kidney_R", "R"), ("lung_upper_lobe_left", "Lung_LUL", "L"),
    ("lung_lower_lobe_right", "Lung_RLL", "R"), ("spinal_cord", "SpinalCord", ""), ("urinary_bladder", "Bladder", ""),
    ("esophagus", "Esophagus", ""), ("small_bowel", "Bowel_Small", ""), ("femur_left", "Femur_L", "L"),
    ("vertebrae_T7", "VB_T07", ""), ("vertebrae_L1", "VB_L1", ""), ("vertebrae_C2", "VB_C2", ""),
    ("liver", "Liver", ""), ("spleen", "Spleen", ""), ("aorta", "A_Aorta", ""), ("trachea", "Trachea", ""),
    ("parotid_gland_left", "Parotid_L", "L"), ("eye_right", "Eye_R", "R"), ("gallbladder", "Gallbladder", ""),
    ("pancreas", "Pancreas", ""), ("stomach", "Stomach", ""), ("thyroid_gland", "Glnd_Thyroid", ""),
    ("adrenal_gland_left", "Glnd_Adrenal_L", "L"), ("sacrum", "Sacrum", ""), ("rib_left_1", "Rib01_L", "L"),
    ("heart", "Heart", ""), ("brain", "Brain", ""), ("submandibular_gland_right", "Glnd_Submand_R", "R"),
    ("optic_nerve_left", "OpticNrv_L", "L"), ("humerus_right", "Humerus_R", "R"),
)

TYPOS = (
    ("Parotdi L", "Parotid_L", "L"), ("Brainstme", "Brainstem", ""), ("Esophogus", "Esophagus", ""),
    ("Spinal Crod", "SpinalCord", ""), ("Larnyx", "Larynx", ""), ("Mandibel", "Bone_Mandible", ""),
    ("Rectun", "Rectum", ""), ("Bladdder", "Bladder", ""), ("Chiasim", "OpticChiasm", ""), ("Brian", "Brain", ""),
    ("Stomache", "Stomach", ""), ("Duodenium", "Duodenum", ""), ("Pancreass", "Pancreas", ""),
    ("Kidny R", "Kidney_R", "R"), ("Optic Nerv R", "OpticNrv_R", "R"), ("Prostrate", "Prostate", ""),
    ("Trachae", "Trachea", ""), ("Cochela L", "Cochlea_L", "L"), ("Parotid Lft", "Parotid_L", "L"),
    ("Hipocampus R", "Hippocampus_R", "R"), ("Spleeen", "Spleen", ""), ("Livr", "Liver", ""),
)

#: Clinical shorthand the resolver was not tuned on; some are expected to fail (kept to stay honest).
HARD = (
    ("R SMG", "Glnd_Submand_R", "R"), ("Oral Cav", "Cavity_Oral", ""), ("Esoph", "Esophagus", ""),
    ("Lt TMJ", "Joint_TM_L", "L"), ("L Fem Head", "Femur_Head_L", "L"), ("R femoral hd", "Femur_Head_R", "R"),
    ("Lt Parotid gl", "Parotid_L", "L"), ("Sp Cord", "SpinalCord", ""), ("Bowel Sm", "Bowel_Small", ""),
    ("Lt Optic N", "OpticNrv_L", "L"), ("RECTUM WALL", "Rectal_Wall", ""), ("bladder wall", "Bladder_Wall", ""),
    ("Heart PRV", "Heart_PRV", ""), ("Lens R PRV", "Lens_PRV_R", "R"), ("CTV 54", "CTV_5400", ""),
    ("GTV_P", "GTVp", ""), ("BS", "Brainstem", ""), ("L ON", "OpticNrv_L", "L"), ("Constrictor muscles",
    "Musc_Constrict", ""), ("L Brachial Plex", "BrachialPlex_L", "L"), ("chiasma PRV", "OpticChiasm_PRV", ""),
)

NEGATIVE = (
    ("Structure1", ""), ("xyz", ""), ("!!!", ""), ("", ""), ("   ", ""), ("a" * 300, ""), ("ROI_1", ""),
    ("Contour 2", ""), ("test", ""), ("temp", ""), ("New Structure", ""), ("1", ""), ("L", "L"), ("R", "R"),
    ("Left", "L"), ("Right", "R"), ("Bilat", ""), ("PRV", ""), ("ipsi parotid", ""), ("contra parotid", ""),
    ("Parotid L R", ""), ("Left Right Lung", ""), ("Parótida izquierda", "L"), ("Паротида", ""), ("腮腺", ""),
    ("Ŕectum", ""), ("VB S", ""), ("Parotid", ""), ("Kidney", ""), ("Lung", ""), ("Femoral Head", ""),
    ("Hippocampus", ""), ("Submandibular Gland", ""), ("Eye", ""), ("Breast", ""), ("Brachial Plexus", ""),
    ("Ovary", ""), ("Humerus", ""), ("Retina", ""), ("parotid_gland", ""), ("Cord PRV 5.5mm", ""),
    ("\x00\x01", ""), ("DROP TABLE", ""), ("asdfgh", ""), ("12345678", ""), ("zzz", ""), ("SC", ""), ("OC", ""),
)


def _lateral_cases() -> list[NamingCase]:
    """Every organ in several side forms; the forms rotate so each organ meets many of them."""
    cases = []
    forms = itertools.cycle(SIDE_FORMS)
    for organ, root in LATERAL_ORGANS:
        for _ in range(6):
            template, side = next(forms)
            cases.append(NamingCase(template.format(o=organ), f"{root}_{side}", side, "lateral"))
    for organ, root in LATERAL_ORGANS[:6]:  # case and separator permutations
        cases.append(NamingCase(f"{organ.upper().replace(' ', '_')}_L", f"{root}_L", "L", "lateral"))
        cases.append(NamingCase(f"{organ.lower().replace(' ', '.')} rt", f"{root}_R", "R", "lateral"))
        cases.append(NamingCase(f"R_{organ.replace(' ', '')}", f"{root}_R", "R", "lateral"))
    return cases


SIDE_WORDS = {"L": ("L", "Lt", "Left", "LT", "lt", "Sin", "(L)", "left"),
              "R": ("R", "Rt", "Right", "RT", "rt", "Dex", "(R)", "right")}
SEPARATORS = (" ", "_", "-", ".", "")


def _permutation_cases(count: int = 80, seed: int = 263) -> list[NamingCase]:
    """Seeded random spellings: word order, side word and position, separator and case all vary."""
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        organ, root = rng.choice(LATERAL_ORGANS)
        side = rng.choice("LR")
        words = organ.split()
        rng.shuffle(words)
        words.insert(rng.choice((0, len(words))), rng.choice(SIDE_WORDS[side]))
        separator = rng.choice(SEPARATORS)
        style = rng.choice(("upper", "lower", "title", "keep"))
        if separator == "":
            style = "title"  # glued words stay readable only in CamelCase
        words = [_styled(w, style) for w in words]
        cases.append(NamingCase(separator.join(words), f"{root}_{side}", side, "permutation"))
    return cases


def _styled(word: str, style: str) -> str:
    if style == "upper":
        return word.upper()
    if style == "lower":
        return word.lower()
    if style == "title" and word[:1].isalpha():
        return word[0].upper() + word[1:]
    return word


def build_cases() -> list[NamingCase]:
    """The labelled set (deterministic order)."""
    cases = _lateral_cases() + _permutation_cases()
    cases += [NamingCase(v, name, "", "midline") for name, variants in MIDLINE.items() for v in variants]
    cases += [NamingCase(v, name, "", "bilateral") for name, variants in BILATERAL.items() for v in variants]
    cases += [NamingCase(t, e, "", "prv") for t, e in PRV]
    cases += [NamingCase(t, e, e[-1], "prv") for t, e in PRV_SIDED]
    cases += [NamingCase(t, e, "", "target") for t, e in TARGETS]
    cases += [NamingCase(t, e, s, "compound") for t, e, s in COMPOUND]
    cases += [NamingCase(t, e, s, "totalsegmentator") for t, e, s in TOTALSEGMENTATOR]
    cases += [NamingCase(t, e, s, "typo") for t, e, s in TYPOS]
    cases += [NamingCase(t, e, s, "hard") for t, e, s in HARD]
    cases += [NamingCase(t, None, s, "negative") for t, s in NEGATIVE]
    return cases


@dataclass(frozen=True)
class UWCase:
    """One alias of the UW list (GPLv3 test data, read from ../shared, never copied)."""

    text: str
    expected: str
    side: str
    usable: bool
    note: str = ""


def uw_cases(path: Path, official: set[str]) -> list[UWCase]:
    """The UW aliases as test cases; ``usable`` is False where the row cannot be scored fairly.

    A row is not usable when its TG-263 name is not official (UW local names), when the alias does
    not state the side the name has (``LCA`` → ``A_Carotid_L``: a resolver must not guess it), or
    when the alias says the other side (rows with errors, such as ``FemoralHead_L`` listed for
    ``Femur_Head_R``). UW writes PRV sides before the PRV tag; the expected name is converted to
    TG-263's order (``Kidney_L_PRV05`` → ``Kidney_PRV05_L``).
    """
    from OARContourLib.naming.laterality import side_of_name

    cases = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            expected = _tg263_order(row["tg263_primary"].strip() or row["name"].strip())
            for alias in filter(None, (a.strip() for a in row["aliases_pipe_separated"].split("|"))):
                side = side_of_name(expected).value
                stated = stated_side(alias, side)
                usable, note = _usable(expected, official, stated, side, alias)
                cases.append(UWCase(alias, expected, stated, usable, note))
    return cases


def stated_side(alias: str, labelled_side: str) -> str:
    """The side an alias states: a side word (``left_lens``), or a side letter glued to one word
    (``lkidney``, ``breastl``) when it agrees with the list's label."""
    from OARContourLib.naming.laterality import glued_sides, read_side
    from OARContourLib.naming.normalize import raw_tokens

    reading = read_side(raw_tokens(alias))
    if reading.side.value or reading.unknown or not labelled_side:
        return reading.side.value
    glued = {side.value for token in reading.tokens for side, _ in glued_sides(token)}
    return labelled_side if glued == {labelled_side} else ""


def _tg263_order(name: str) -> str:
    """UW's PRV names in TG-263 form: side after the PRV tag (``Kidney_L_PRV05`` → ``Kidney_PRV05_L``) and
    a digit dropped when 16 characters are exceeded (``Bowel_Small_PRV05`` → ``Bowel_Small_PRV5``)."""
    parts = name.split("_")
    if len(parts) >= 3 and parts[-2] in ("L", "R") and parts[-1].upper().startswith("PRV"):
        parts = parts[:-2] + [parts[-1], parts[-2]]
    name = "_".join(parts)
    if len(name) > 16:
        name = re.sub(r"_PRV0(\d)", r"_PRV\1", name)
    return name


def _usable(expected: str, official: set[str], stated: str, side: str, alias: str) -> tuple[bool, str]:
    base = expected.split("_PRV")[0] + (f"_{side}" if side and "_PRV" in expected else "")
    if "xx" in expected.lower() or (expected not in official and base not in official):
        return False, "not an official TG-263 name"
    if side and not stated:
        return False, "alias states no side (must not be guessed)"
    if side and stated and side != stated:
        return False, "alias states the other side (error in the UW list)"
    if not alias.isascii():
        return False, "non-ASCII alias"
    return True, ""
