"""The verifier's rules: one small class per check, each with a stable code.

:data:`RULES` is the registry :func:`..verify.verify_rtstruct` runs, in this order (references,
geometry, encoding, naming, semantics, module attributes, round-trip fidelity). To add a rule,
subclass :class:`.base.Rule` in the module of its topic, append it to that module's ``RULES`` and
give it a test that makes it fire and one that does not.
"""

from __future__ import annotations

from . import encoding, fidelity, geometry, modules, naming, references, semantics
from .base import Rule
from .context import VerificationContext

RULES: tuple[type[Rule], ...] = (
    *references.RULES, *geometry.RULES, *encoding.RULES, *naming.RULES, *semantics.RULES, *modules.RULES,
    *fidelity.RULES,
)

__all__ = ["RULES", "Rule", "VerificationContext"]
