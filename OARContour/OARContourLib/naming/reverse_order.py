"""Reverse-order names (TG-263 rule 10): ``Parotid_L`` → ``L_Parotid`` for systems that show few characters.

Table names use the worksheet's reverse-order column. Names built by the resolver follow the
worksheet's templates: ``OpticNrv_PRVxx_L`` reverses to ``L_PRVxx_OpticNrv``, ``Kidney_L-GTV`` to
``L_Kidney-GTV``; targets and ``z`` helpers have no reverse form and stay as they are.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .laterality import Side, split_side

if TYPE_CHECKING:
    from .tables import NamingTables

_PRV = re.compile(r"^(?P<base>.+?)(?P<partial>~?)_PRV(?P<margin>\d*)(?:_(?P<side>[LR]))?$")
_PARTIAL = re.compile(r"^(?P<base>[^~]+)~(?:_(?P<side>[LR]))?$")
_UNCHANGED = re.compile(r"^(?:z|_|E-|IGTV|ICTV|GTV|CTV|ITV|PTV)")


def reverse_order_name(name: str, tables: NamingTables) -> str:
    """The reverse-order form of a primary-order name (the name itself when it has none)."""
    entry = tables.names.get(name)
    if entry is not None:
        return entry.reverse_name or name
    if _UNCHANGED.match(name):
        return name
    if "^" in name:
        core, custom = name.split("^", 1)
        return f"{reverse_order_name(core, tables)}^{custom}"
    if "-" in name:
        left, right = name.split("-", 1)
        return f"{reverse_order_name(left, tables)}-{right}"
    prv = _PRV.match(name)
    if prv:
        side = prv.group("side") or ""
        core = _reverse_root(prv.group("base"), Side(side), tables)
        return f"{side + '_' if side else ''}PRV{prv.group('margin')}_{core}{prv.group('partial')}"
    partial = _PARTIAL.match(name)
    if partial:
        side = partial.group("side") or ""
        return reverse_order_name(f"{partial.group('base')}{'_' + side if side else ''}", tables) + "~"
    return name


def _reverse_root(base: str, side: Side, tables: NamingTables) -> str:
    """The reverse form of a root without its side: ``OpticNrv`` → ``OpticNrv``, ``Femur_Head`` → ``Head_Femur``."""
    for candidate in (base, f"{base}_{side.value}" if side is not Side.NONE else base):
        entry = tables.names.get(candidate)
        if entry is not None and entry.reverse_name:
            reverse = entry.reverse_name
            prefix = f"{side.value}_"
            return reverse[len(prefix):] if candidate != base and reverse.startswith(prefix) else reverse
    return split_side(base)[0]
