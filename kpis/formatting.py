"""Numbers in words for people: values in their unit, changes and percentages."""

from __future__ import annotations

from kpis.definition import KpiDefinition

MINUS = "\u2212"  # a real minus sign: clearer than a hyphen, and read out as "minus"


def number(value: float, decimals: int = 1) -> str:
    """``1,420``, ``22.8``, ``-3``: thousands separated, at most ``decimals`` places, no
    trailing zeros."""
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def value_text(defn: KpiDefinition, value: float) -> str:
    """A value in the KPI's unit: ``1,420``, ``71%``, ``£12,500``, ``12 days``, ``118.4``."""
    if defn.unit == "percent":
        return f"{number(value)}%"
    if defn.unit == "currency":
        if value == round(value):
            return _signed_money(value, 0)
        return _signed_money(value, 2)
    if defn.unit == "days":
        text = number(value)
        return f"{text} day" if text == "1" else f"{text} days"
    return number(value)


def change_text(defn: KpiDefinition, change: float) -> str:
    """A signed change in the KPI's unit: ``+40``, ``−12``, ``+1.5 points`` (percent KPIs)."""
    sign = "+" if change > 0 else MINUS if change < 0 else ""
    size = abs(change)
    if defn.unit == "percent":
        text = number(size)
        return f"{sign}{text} point" if text == "1" else f"{sign}{text} points"
    return sign + value_text(defn, size)


def percent_text(value: float, decimals: int = 1) -> str:
    """``6.6%``: a size as a percent (no sign)."""
    return f"{number(abs(value), decimals)}%"


def _signed_money(value: float, decimals: int) -> str:
    text = f"\u00a3{abs(value):,.{decimals}f}"
    return f"-{text}" if value < 0 else text
