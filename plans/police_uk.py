"""The ``police_uk`` keys of a plan: which data.police.uk street-level crime rows belong to the
partnership (``partnership.police_uk``) and which crime types a KPI counts (``police_uk`` on a
KPI). The crime types police.uk uses are kept here, and only here."""

from __future__ import annotations

import re

from yaml.nodes import Node

from plans._state import State
from plans.yamlsource import suggest

CRIME_TYPES: tuple[str, ...] = (
    "Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson", "Drugs",
    "Other crime", "Other theft", "Possession of weapons", "Public order", "Robbery",
    "Shoplifting", "Theft from the person", "Vehicle crime", "Violence and sexual offences",
)
"""The ``Crime type`` values of data.police.uk street-level crime files."""

LSOA_CODE = re.compile(r"[EW]0[0-9]{7}")


def read_area(state: State, node: Node) -> tuple[str, tuple[str, ...]] | None:
    """``partnership.police_uk``: ``(lsoa_name_prefix, ())`` or ``("", lsoa_codes)``."""
    ctx = state.ctx
    where = "partnership police_uk"
    keys = ctx.mapping(node, where, (), ("lsoa_name_prefix", "lsoa_codes"))
    if keys is None:
        return None
    if ("lsoa_name_prefix" in keys) == ("lsoa_codes" in keys):
        ctx.error(node, f"{where}: give exactly one of lsoa_name_prefix (such as "
                  "\"Kingston upon Thames\") or lsoa_codes (a list such as [E01002xxx])")
        return None
    if "lsoa_name_prefix" in keys:
        prefix = ctx.text(keys["lsoa_name_prefix"], f"{where} lsoa_name_prefix")
        return (prefix, ()) if prefix else None
    codes: list[str] = []
    for item in ctx.sequence(keys["lsoa_codes"], f"{where} lsoa_codes", "LSOA codes"):
        code = ctx.text(item, f"{where} lsoa_codes")
        if code is None:
            continue
        if not LSOA_CODE.fullmatch(code):
            ctx.error(item, f"{where} lsoa_codes: '{code}' is not an LSOA code; write it like "
                      "E01002845 (E or W, then eight digits)")
        elif code in codes:
            ctx.error(item, f"{where} lsoa_codes: '{code}' is listed twice; keep one")
        else:
            codes.append(code)
    if not codes:
        ctx.error(keys["lsoa_codes"], f"{where} lsoa_codes: list at least one LSOA code")
        return None
    return "", tuple(codes)


def read_crime_types(state: State, node: Node, where: str, has_area: bool | None
                     ) -> tuple[str, ...] | None:
    """A KPI's ``police_uk: {crime_types: [...]}``. ``has_area`` is None when the
    partnership itself could not be read (its own error is reported)."""
    ctx = state.ctx
    keys = ctx.mapping(node, f"{where} police_uk", ("crime_types",))
    if keys is None or "crime_types" not in keys:
        return None
    found: list[str] = []
    for item in ctx.sequence(keys["crime_types"], f"{where} police_uk crime_types",
                             "police.uk crime types"):
        name = ctx.text(item, f"{where} police_uk crime_types")
        if name is None:
            continue
        if name not in CRIME_TYPES:
            hint = suggest(name, CRIME_TYPES) or "; police.uk uses: " + ", ".join(CRIME_TYPES)
            ctx.error(item, f"{where} police_uk crime_types: police.uk has no crime type "
                      f"'{name}'{hint}")
        elif name in found:
            ctx.error(item, f"{where} police_uk crime_types: '{name}' is listed twice; keep one")
        else:
            found.append(name)
    if not found:
        ctx.error(keys["crime_types"], f"{where} police_uk crime_types: list at least one "
                  "crime type, such as [Burglary, Robbery]")
        return None
    if has_area is False:
        ctx.error(node, f"{where} police_uk: the partnership has no police_uk area; add "
                  "partnership police_uk: {lsoa_name_prefix: ...} or {lsoa_codes: [...]}")
        return None
    return tuple(found)
