"""Compare two structure sets of one CT: a trainee's against a reference, automatic against edited.

:func:`load_structure_set` reads each input (RTSTRUCT, ``.seg.nrrd``, mask folder) onto the CT,
:func:`compare_structure_sets` pairs structures by TG-263 name and measures each pair with
:mod:`OARContourLib.metrics`, :func:`summary_sentences` says in words how a structure differs, and
:func:`.page.write_compare_report` draws both contours where they disagree most on an HTML page.
"""

from __future__ import annotations

from .inputs import StructureSet, check_same_frame, load_structure_set
from .pairing import Pairing, pair_names, parse_mapping
from .result import SCHEMA, ComparisonResult, PairResult
from .run import compare_structure_sets
from .summary import summary_sentences

__all__ = ["SCHEMA", "ComparisonResult", "PairResult", "Pairing", "StructureSet", "check_same_frame",
           "compare_structure_sets", "load_structure_set", "pair_names", "parse_mapping", "summary_sentences"]
