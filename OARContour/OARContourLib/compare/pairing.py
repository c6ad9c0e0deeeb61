"""Pair the structures of two sets by name: exact names, then TG-263 names, then the user's map.

``Parotid L`` in one set pairs with ``Parotid_L`` in the other because both resolve to the same
TG-263 name (only suggestions the resolver would apply on its own count: a side is never guessed).
``--map A=B`` pairs reference ``A`` with test ``B`` whatever their names say. A structure that
finds no partner is listed as unpaired, never dropped; when two names of one set resolve to the
same TG-263 name only the first is paired.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..errors import InputError
from ..naming.normalize import literal_key
from ..naming.resolve import suggest
from ..naming.tables import NamingTables, load_tables


@dataclass(frozen=True)
class Pairing:
    """Reference/test name pairs in reference order, and the names left over on each side."""

    pairs: tuple[tuple[str, str], ...]
    unpaired_reference: tuple[str, ...]
    unpaired_test: tuple[str, ...]


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """``["A=B", ...]`` → ``{"A": "B"}`` (reference name → test name).

    Raises
    ------
    InputError
        An item without ``=`` or with an empty side, or a reference name mapped twice.
    """
    mapping: dict[str, str] = {}
    for item in items:
        reference, sep, test = item.partition("=")
        if not sep or not reference.strip() or not test.strip():
            raise InputError(f"--map '{item}' is not REFERENCE_NAME=TEST_NAME.", hint="Example: --map 'Cord=SpinalCord'.")
        if reference.strip() in mapping:
            raise InputError(f"--map names '{reference.strip()}' twice.", hint="Map each reference structure once.")
        mapping[reference.strip()] = test.strip()
    return mapping


def pair_names(reference: Sequence[str], test: Sequence[str], mapping: Mapping[str, str] | None = None,
               tables: NamingTables | None = None) -> Pairing:
    """Pair reference names with test names (see the module docstring for the order of rules).

    Raises
    ------
    InputError
        ``mapping`` names a structure that is not in its set.
    """
    mapping = dict(mapping or {})
    _check_mapping(mapping, reference, test)
    tables = tables or load_tables()
    partner: dict[str, str] = dict(mapping)
    taken = set(mapping.values())
    for key_of in (literal_key, lambda name: _tg263_key(name, tables)):
        free_test: dict[str, str] = {}
        for name in test:
            if name not in taken:
                free_test.setdefault(key_of(name), name)
        for name in reference:
            match = free_test.pop(key_of(name), None) if name not in partner else None
            if match is not None:
                partner[name] = match
                taken.add(match)
    pairs = tuple((name, partner[name]) for name in reference if name in partner)
    return Pairing(pairs, tuple(n for n in reference if n not in partner), tuple(n for n in test if n not in taken))


def _tg263_key(name: str, tables: NamingTables) -> str:
    """The TG-263 name the resolver would apply unattended, else the literal name."""
    found = suggest(name, tables, limit=1)
    return literal_key(found[0].name if found and found[0].auto_apply else name)


def _check_mapping(mapping: Mapping[str, str], reference: Sequence[str], test: Sequence[str]) -> None:
    for reference_name, test_name in mapping.items():
        if reference_name not in reference:
            raise InputError(f"--map: the reference has no structure '{reference_name}'.",
                             hint=f"Reference structures: {', '.join(reference) or 'none'}.")
        if test_name not in test:
            raise InputError(f"--map: the test set has no structure '{test_name}'.",
                             hint=f"Test structures: {', '.join(test) or 'none'}.")
    if len(set(mapping.values())) != len(mapping):
        raise InputError("--map pairs one test structure with two reference structures.",
                         hint="Map each test structure once.")
