"""Helpers for the KPI tests: the Kingston plan's real KPIs as definitions, and date shorthands."""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from kpis import KpiDefinition
from plans.periods import add_months

ROOT = Path(__file__).resolve().parents[2]
KINGSTON = ROOT / "plans.yaml"


def fy(label: str) -> date:
    """The first day of an April financial year written ``2024/25``."""
    match = re.fullmatch(r"(\d{4})/(\d{2})", label)
    assert match, label
    return date(int(match.group(1)), 4, 1)


def q(label: str) -> date:
    """The first day of an April-year quarter written ``2024/25 Q3``."""
    year, quarter = label.split(" Q")
    return add_months(fy(year), 3 * (int(quarter) - 1))


def quarters(first: str, *values: float) -> dict[date, float]:
    """Consecutive quarterly values from the quarter ``first`` (``2024/25 Q1``)."""
    start = q(first)
    return {add_months(start, 3 * n): value for n, value in enumerate(values)}


def months(first: date, *values: float) -> dict[date, float]:
    """Consecutive monthly values from the month starting on ``first``."""
    return {add_months(first, n): value for n, value in enumerate(values)}


@cache
def _kingston_kpis() -> dict[str, dict[str, Any]]:
    plan = yaml.safe_load(KINGSTON.read_text(encoding="utf-8"))
    return {entry["id"]: entry for entry in plan["kpis"]}


def kingston_refs() -> list[str]:
    return list(_kingston_kpis())


def kingston(ref: str) -> KpiDefinition:
    """The KPI ``ref`` of plans.yaml, read straight from the file (not through ``plans``)."""
    entry = _kingston_kpis()[ref]
    baseline = entry.get("baseline")
    return KpiDefinition(
        ref=entry["id"],
        name=entry["name"],
        unit=entry["unit"],
        better=entry["better"],
        frequency=entry["frequency"],
        tolerance=float(entry["tolerance"]),
        baseline=(fy(str(baseline["period"])), float(baseline["value"])) if baseline else None,
        targets={fy(str(year)): float(value)
                 for year, value in (entry.get("targets") or {}).items()},
        target=entry.get("target"),
    )
