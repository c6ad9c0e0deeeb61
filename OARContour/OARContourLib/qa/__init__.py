"""Quality assurance of a structure set: one small rule class per check (see :data:`check.RULES`)."""

from __future__ import annotations

from .check import RULES, check_structures
from .context import QAContext
from .rule import QARule

__all__ = ["RULES", "QAContext", "QARule", "check_structures"]
