"""The plan's police_uk keys: accepted as documented, refused on the right line otherwise."""

from __future__ import annotations

import pytest
from plantest import NAME, accepted, errors_of, insert_after

from plans.police_uk import CRIME_TYPES

F = NAME
AREA = '  police_uk: {lsoa_name_prefix: "Testford"}'
KPI_ANCHOR = "    tolerance: 5"


def with_keys(area: str | None, kpi: str | None) -> tuple[str, int, int]:
    text, area_line = insert_after('  year_starts: "04-01"', area) if area else (None, 0)
    if kpi is None:
        assert text is not None
        return text, area_line, 0
    text, kpi_line = insert_after(KPI_ANCHOR, kpi, *([text] if text else []))
    return text, area_line, kpi_line


def test_an_area_and_crime_types_load() -> None:
    text, _, _ = with_keys(AREA, "    police_uk: {crime_types: [Burglary, Robbery]}")
    plan = accepted(text)
    assert plan.partnership.police_uk is not None
    assert plan.partnership.police_uk.contains("E01000001", "Testford 001A")
    assert not plan.partnership.police_uk.contains("E01000001", "Testfordshire 001A")
    assert plan.kpis[0].police_uk == ("Burglary", "Robbery")


def test_lsoa_codes_load() -> None:
    plan = accepted(with_keys("  police_uk: {lsoa_codes: [E01002845, W01000001]}", None)[0])
    assert plan.partnership.police_uk is not None
    assert plan.partnership.police_uk.contains("W01000001", "anything")


@pytest.mark.parametrize(("area", "kpi", "expected"), [
    ('  police_uk: {lsoa_prefix: "Testford"}', None,
     "{a}: partnership police_uk: unknown key 'lsoa_prefix'; did you mean 'lsoa_name_prefix'?"),
    ('  police_uk: {lsoa_name_prefix: "Testford", lsoa_codes: [E01002845]}', None,
     "{a}: partnership police_uk: give exactly one of lsoa_name_prefix"),
    ("  police_uk: {lsoa_codes: [E0100]}", None,
     "{a}: partnership police_uk lsoa_codes: 'E0100' is not an LSOA code"),
    ("  police_uk: Testford", None, "{a}: partnership police_uk: expected a mapping"),
    (AREA, "    police_uk: {crime_types: [Burglary, Burglery]}",
     "{k}: KPI asb police_uk crime_types: police.uk has no crime type 'Burglery'; did you "
     "mean 'Burglary'?"),
    (AREA, "    police_uk: {crime_types: Knife crime}",
     "{k}: KPI asb police_uk crime_types: police.uk has no crime type 'Knife crime'"),
    (AREA, "    police_uk: {types: [Burglary]}",
     "{k}: KPI asb police_uk: unknown key 'types'"),
    (None, "    police_uk: {crime_types: [Burglary]}",
     "{k}: KPI asb police_uk: the partnership has no police_uk area"),
])
def test_bad_keys_are_refused_on_their_line(area: str | None, kpi: str | None,
                                            expected: str) -> None:
    text, area_line, kpi_line = with_keys(area, kpi)
    errors = errors_of(text)
    wanted = expected.format(a=f"{F}:{area_line}", k=f"{F}:{kpi_line}")
    assert any(e.startswith(wanted) for e in errors), errors


def test_the_crime_types_are_police_uks() -> None:
    assert "Anti-social behaviour" in CRIME_TYPES and len(CRIME_TYPES) == 14
