"""Run every QA rule over a structure set on its CT grid."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..ct.model import CTVolume, ImageGeometry
from ..errors import InputError
from ..findings import Finding
from ..naming.tables import load_tables
from ..rtstruct.model import Structure
from .context import QAContext
from .rule import QARule
from .rules_laterality import Laterality, PairConnected, PairSameSide, SwappedPair
from .rules_masks import EmptyStructure, OutsideBody, SliceGap, TinyStructure, VolumeImplausible
from .rules_structure_set import MultipleExternal, NameDuplicate, NameInvalidForTps, TemplateMissing

logger = logging.getLogger(__name__)

#: Every rule, in report order.
RULES: tuple[QARule, ...] = (
    TemplateMissing(), EmptyStructure(), TinyStructure(), Laterality(), SwappedPair(), PairSameSide(), PairConnected(),
    VolumeImplausible(),
    OutsideBody(), SliceGap(), MultipleExternal(), NameInvalidForTps(), NameDuplicate(),
)


def check_structures(structures: Sequence[Structure], ct: CTVolume | ImageGeometry,
                     template: str | None = None, tps: str = "generic") -> list[Finding]:
    """QA findings for structures contoured on one CT.

    Parameters
    ----------
    structures
        The structures; each mask is the CT grid (k, j, i) or a block of it at ``offset_kji``.
    ct
        The CT (anything with a ``geometry``) or its :class:`ImageGeometry`.
    template
        A site template id (``"Thorax"``) whose required structures must be present; None skips that.
    tps
        TPS profile id the names must suit (``"generic"``, ``"eclipse"`` ...).

    Returns
    -------
    list of Finding
        Rule by rule in :data:`RULES` order; empty for a clean structure set.

    Raises
    ------
    InputError
        An unknown template or TPS profile, or a mask that does not fit the CT grid.
    """
    geometry = ct if isinstance(ct, ImageGeometry) else ct.geometry
    tables = load_tables()
    if template is not None:
        tables.require_template(template)
    _check_fit(structures, geometry)
    context = QAContext(structures, geometry, template=template, tps=tps, tables=tables)
    findings = [finding for rule in RULES for finding in rule.check(context)]
    logger.info("QA of %d structures: %d findings", len(structures), len(findings))
    return findings


def _check_fit(structures: Sequence[Structure], geometry: ImageGeometry) -> None:
    for structure in structures:
        shape = structure.mask.shape
        fits = len(shape) == 3 and all(o >= 0 and o + n <= size for o, n, size
                                       in zip(structure.offset_kji, shape, geometry.shape, strict=True))
        if not fits:
            raise InputError(f"The mask of '{structure.name}' ({structure.mask.shape} at {structure.offset_kji}) "
                             f"does not fit the CT grid {geometry.shape}.",
                             hint="Resample the structure onto the CT grid before QA.")
