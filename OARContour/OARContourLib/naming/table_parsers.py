"""Turn the rows of each naming data file into records, checking every cell and cross-reference.

Each ``parse_*`` function raises an :class:`~OARContourLib.errors.OARContourError` (``BAD_RESOURCE``)
that names the file and line of the first bad row. Files are parsed in dependency order (names,
TotalSegmentator map, aliases, defaults, templates), so a later file is checked against the
earlier ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ..rtstruct.model import RoiType
from .entries import (
    ALIAS_KINDS,
    COLOR_SOURCES,
    NAME_KINDS,
    NAME_STATUSES,
    OFFICIAL,
    SIDE_PLACEHOLDER,
    TARGET_TYPES,
    TEMPLATE,
    TEMPLATE_SOURCES,
    TS_CONSTRUCTED,
    TS_NONE,
    TS_STATUSES,
    UNION,
    Alias,
    StructureDefault,
    TemplateEntry,
    TG263Entry,
    TSMapping,
)
from .table_files import TableFile, TableRow, file_error, parse_choice, parse_rgb

NAMES_COLUMNS = ("primary_name", "reverse_name", "target_type", "major_category", "minor_category",
                 "anatomic_group", "description", "fma_id", "kind")
ALIASES_COLUMNS = ("alias", "tg263_name", "kind")
DEFAULTS_COLUMNS = ("tg263_name", "color_r", "color_g", "color_b", "roi_type", "color_source")
TS_COLUMNS = ("ts_task", "ts_class", "tg263_name", "status", "merge_target", "note")
TEMPLATES_COLUMNS = ("template", "tg263_name", "roi_type", "color_r", "color_g", "color_b", "source", "ts_task",
                     "ts_classes", "required")

NAME_SYNTAX = re.compile(r"[A-Za-z0-9_\-]{1,16}")
CONSTRUCTED_SYNTAX = re.compile(r"[A-Z][A-Za-z0-9]*(_[A-Z0-9][A-Za-z0-9]*)*")
PLACEHOLDER_TOKEN = re.compile(r"(?:PRV|PTV)?x+(?:mm)?")
TS_CLASS = re.compile(r"[A-Za-z0-9_]+")
SIDE_OF_QUALIFIER = {"L": "L", "R": "R", "LUL": "L", "LLL": "L", "RUL": "R", "RML": "R", "RLL": "R"}


def has_placeholder(name: str) -> bool:
    """True for worksheet patterns such as ``SpinalCord_PRVxx`` or ``Bolus_xxmm``."""
    return any(PLACEHOLDER_TOKEN.fullmatch(t) for t in re.split(r"[_-]", name))


def alias_key(text: str) -> str:
    """How aliases are compared: ignoring case, spaces and underscores (not '-', which subtracts)."""
    return re.sub(r"[\s_]+", " ", text.casefold()).strip()


def parse_names(table: TableFile) -> tuple[dict[str, TG263Entry], dict[str, str]]:
    """``tg263_names.csv`` → primary name → entry, and reverse-order name → primary name."""
    names: dict[str, TG263Entry] = {}
    by_key: dict[str, str] = {}
    for row in table.rows:
        entry = _name_entry(row)
        key = entry.primary_name.casefold()
        if key in by_key:
            raise row.error(f"primary name '{entry.primary_name}' repeats '{by_key[key]}' (TG-263 names are unique "
                            "ignoring case)")
        by_key[key] = entry.primary_name
        names[entry.primary_name] = entry
    reverse: dict[str, str] = {}
    for row, entry in zip(table.rows, names.values()):
        owner = by_key.get(entry.reverse_name.casefold())
        if owner not in (None, entry.primary_name) or entry.reverse_name in reverse:
            raise row.error(f"reverse-order name '{entry.reverse_name}' is already used by "
                            f"'{owner or reverse[entry.reverse_name]}'")
        reverse[entry.reverse_name] = entry.primary_name
    return names, reverse


def _name_entry(row: TableRow) -> TG263Entry:
    name, kind = row["primary_name"], parse_choice(row, "kind", NAME_KINDS)
    if not NAME_SYNTAX.fullmatch(name):
        raise row.error(f"primary name {name!r} must be 1-16 characters of A-Z, a-z, 0-9, '_' and '-'")
    if (kind == TEMPLATE) != has_placeholder(name):
        raise row.error(f"'{name}': kind must be 'template' exactly when the name has x/xx/xxxx placeholders")
    if not row["reverse_name"] or " " in row["reverse_name"]:
        raise row.error(f"'{name}': reverse_name must be one word (no spaces)")
    for column in ("fma_id", "sct_code"):
        value = row.cells.get(column, "")
        if value and not value.isdigit():
            raise row.error(f"'{name}': {column} must be digits or empty, not {value!r}")
    extra = {c: row.cells.get(c, "") for c in ("sct_code", "sct_meaning", "sct_qualifiers", "note")}
    return TG263Entry(name, row["reverse_name"], parse_choice(row, "target_type", TARGET_TYPES),
                      row["major_category"], row["minor_category"], row["anatomic_group"], row["description"],
                      row["fma_id"], kind, **extra)


def side_of(name: str) -> str | None:
    """``L``/``R`` from a name's last qualifier (lobes included), else None."""
    return SIDE_OF_QUALIFIER.get(name.rsplit("_", 1)[-1]) if "_" in name else None


def side_of_class(ts_class: str) -> str | None:
    """``L``/``R`` when every class of a (union) label names the same side, ``"LR"`` for both, else None."""
    sides = {("L" if "left" in c.split("_") else "R" if "right" in c.split("_") else "") for c in ts_class.split(UNION)}
    if sides == {"L"} or sides == {"R"}:
        return sides.pop()
    return "LR" if sides == {"L", "R"} else None


def parse_ts_map(table: TableFile, names: Mapping[str, TG263Entry]) -> tuple[TSMapping, ...]:
    """``totalsegmentator_to_tg263.csv`` → mappings, checked against the names and for laterality."""
    rows: list[tuple[TableRow, TSMapping]] = []
    seen: set[tuple[str, str]] = set()
    for row in table.rows:
        mapping = _ts_mapping(row, names)
        key = (mapping.ts_task, mapping.ts_class)
        if key in seen:
            raise row.error(f"{mapping.ts_task}/{mapping.ts_class} is mapped twice")
        seen.add(key)
        rows.append((row, mapping))
    _check_merge_targets(rows)
    return tuple(m for _, m in rows)


def _ts_mapping(row: TableRow, names: Mapping[str, TG263Entry]) -> TSMapping:
    task, ts_class, name = row["ts_task"], row["ts_class"], row["tg263_name"]
    status = parse_choice(row, "status", TS_STATUSES)
    if not task or not all(TS_CLASS.fullmatch(c) for c in ts_class.split(UNION)):
        raise row.error(f"ts_task must be set and ts_class must be class names joined by '{UNION}', not {ts_class!r}")
    if (status == TS_NONE) != (not name):
        raise row.error(f"{ts_class}: tg263_name must be empty exactly when status is {TS_NONE}")
    if name and status != TS_CONSTRUCTED and (name not in names or names[name].kind == TEMPLATE):
        raise row.error(f"{ts_class}: '{name}' is not a TG-263 name in tg263_names.csv (status {status})")
    if status == TS_CONSTRUCTED:
        if any(n.casefold() == name.casefold() for n in names):
            raise row.error(f"{ts_class}: '{name}' is in tg263_names.csv; use status official or approximate")
        if len(name) > 16 or not CONSTRUCTED_SYNTAX.fullmatch(name):
            raise row.error(f"{ts_class}: constructed name '{name}' must follow TG-263 syntax (1-16 characters, "
                            "categories start with a capital, '_' between them)")
    if name:
        _check_laterality(row, ts_class, name)
    return TSMapping(task, ts_class, name or None, status, row["merge_target"] or None, row["note"])


def _check_laterality(row: TableRow, ts_class: str, name: str) -> None:
    class_side, name_side = side_of_class(ts_class), side_of(name)
    if class_side in ("L", "R") and name_side != class_side:
        raise row.error(f"{ts_class} is {'left' if class_side == 'L' else 'right'} but '{name}' is not _{class_side}")
    if class_side in (None, "LR") and name_side is not None:
        raise row.error(f"{ts_class} has no single side but '{name}' is lateral (_{name_side})")


def _check_merge_targets(rows: list[tuple[TableRow, TSMapping]]) -> None:
    composites = {(m.ts_task, m.tg263_name): m for _, m in rows if m.is_composite}
    for row, mapping in rows:
        if mapping.merge_target is None:
            continue
        parent = composites.get((mapping.ts_task, mapping.merge_target))
        if parent is None or not set(mapping.components) <= set(parent.components):
            raise row.error(f"merge_target '{mapping.merge_target}' of {mapping.ts_class} must be a composite row of "
                            f"task {mapping.ts_task} whose union contains it")


def parse_aliases(table: TableFile, names: Mapping[str, TG263Entry], constructed: Iterable[str]) -> tuple[Alias, ...]:
    """``aliases.csv`` → aliases whose targets (both sides of ``{side}``) resolve to known names."""
    known = {n for n, e in names.items() if e.kind != TEMPLATE} | set(constructed)
    taken = {alias_key(n): n for n in known} | {alias_key(e.reverse_name): n for n, e in names.items()}
    aliases: list[tuple[TableRow, Alias]] = []
    seen: dict[str, str] = {}
    for row in table.rows:
        alias = Alias(row["alias"], row["tg263_name"], parse_choice(row, "kind", ALIAS_KINDS), row.cells.get("note", ""))
        key = alias_key(alias.alias)
        if not key or any(ord(ch) < 32 for ch in alias.alias):
            raise row.error("alias must be non-empty printable text")
        if key in taken:
            raise row.error(f"alias '{alias.alias}' is already the TG-263 name (or reverse name) '{taken[key]}' "
                            "ignoring case and spaces; drop the row")
        if key in seen:
            raise row.error(f"alias '{alias.alias}' repeats '{seen[key]}' (aliases compare ignoring case and spaces)")
        if alias.tg263_name.count(SIDE_PLACEHOLDER) > 1:
            raise row.error(f"'{alias.tg263_name}' has more than one {SIDE_PLACEHOLDER}")
        seen[key] = alias.alias
        aliases.append((row, alias))
    direct = {a.alias: a.tg263_name for _, a in aliases if not a.lateral}
    for row, alias in aliases:
        for target in alias.targets():
            if target not in known and direct.get(target) not in known:
                raise row.error(f"alias '{alias.alias}' → '{target}': not a name in tg263_names.csv or a constructed "
                                "name in totalsegmentator_to_tg263.csv")
    return tuple(a for _, a in aliases)


def parse_defaults(table: TableFile, names: Mapping[str, TG263Entry],
                   constructed: Iterable[str]) -> dict[str, StructureDefault]:
    """``structure_defaults.csv`` → one default per non-template name and per constructed name."""
    statuses = {n: e.kind for n, e in names.items() if e.kind != TEMPLATE} | {c: "constructed" for c in constructed}
    defaults: dict[str, StructureDefault] = {}
    for row in table.rows:
        name = row["tg263_name"]
        if name not in statuses:
            raise row.error(f"'{name}' is not a non-template name of tg263_names.csv or a constructed name")
        if name in defaults:
            raise row.error(f"'{name}' has a second row")
        status = statuses[name]
        if "name_status" in row.cells and parse_choice(row, "name_status", NAME_STATUSES) != status:
            raise row.error(f"'{name}': name_status {row['name_status']!r} but the tables say {status!r}")
        defaults[name] = StructureDefault(name, parse_rgb(row), _roi_type(row),
                                          parse_choice(row, "color_source", COLOR_SOURCES), status)
    missing = sorted(set(statuses) - set(defaults))
    if missing:
        raise file_error(table.name, f"no row for {len(missing)} name(s): {', '.join(missing[:8])}"
                                     f"{' ...' if len(missing) > 8 else ''}")
    return defaults


def _roi_type(row: TableRow) -> RoiType:
    return RoiType(parse_choice(row, "roi_type", [t.value for t in RoiType]))


def parse_templates(table: TableFile, known: Iterable[str],
                    ts_map: Iterable[TSMapping]) -> dict[str, tuple[TemplateEntry, ...]]:
    """``site_templates.csv`` → template id → entries in file order."""
    names = set(known)
    ts_names = {(m.ts_task, m.ts_class): m.tg263_name for m in ts_map}
    templates: dict[str, list[TemplateEntry]] = {}
    for row in table.rows:
        entry = _template_entry(row, names, ts_names)
        group = templates.setdefault(entry.template, [])
        if any(e.tg263_name == entry.tg263_name for e in group):
            raise row.error(f"'{entry.tg263_name}' is listed twice in template {entry.template}")
        group.append(entry)
    return {t: tuple(entries) for t, entries in templates.items()}


def _template_entry(row: TableRow, names: set[str], ts_names: Mapping[tuple[str, str], str | None]) -> TemplateEntry:
    template, name = row["template"], row["tg263_name"]
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", template):
        raise row.error(f"template id {template!r} must be a letter then letters, digits or '_'")
    if name not in names:
        raise row.error(f"'{name}' is not a non-template name of tg263_names.csv or a constructed name")
    source = parse_choice(row, "source", TEMPLATE_SOURCES)
    task, classes = row["ts_task"], row["ts_classes"]
    if source == "totalsegmentator":
        if ts_names.get((task, classes)) != name:
            raise row.error(f"'{name}': {task}/{classes} is not a row of totalsegmentator_to_tg263.csv mapped to it")
    elif task or classes:
        raise row.error(f"'{name}': ts_task and ts_classes must be empty for source {source}")
    required = parse_choice(row, "required", ("yes", "no")) == "yes"
    return TemplateEntry(template, name, _roi_type(row), parse_rgb(row), source, task or None,
                         tuple(classes.split(UNION)) if classes else (), required)


__all__ = ["ALIASES_COLUMNS", "DEFAULTS_COLUMNS", "NAMES_COLUMNS", "OFFICIAL", "TEMPLATES_COLUMNS", "TS_COLUMNS",
           "alias_key", "has_placeholder", "parse_aliases", "parse_defaults", "parse_names", "parse_templates",
           "parse_ts_map", "side_of", "side_of_class"]
