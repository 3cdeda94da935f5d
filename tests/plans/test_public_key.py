"""A KPI's `public` key: true or false, false by default, refused on its line otherwise."""

from __future__ import annotations

import pytest
from plantest import BASE, NAME, accepted, errors_of, insert_after

KPI_ANCHOR = "    tolerance: 5"


def test_public_defaults_to_false() -> None:
    plan = accepted(BASE)
    assert plan.kpis[0].is_public is False


@pytest.mark.parametrize("value", ["true", "false"])
def test_public_true_or_false_loads(value: str) -> None:
    text, _ = insert_after(KPI_ANCHOR, f"    public: {value}")
    assert accepted(text).kpis[0].is_public is (value == "true")


@pytest.mark.parametrize(("value", "found"), [
    ("yes please", "'yes please'"), ('"true"', None), ("1", None), ("[true]", None),
])
def test_public_not_a_boolean_is_refused_on_its_line(value: str, found: str | None) -> None:
    text, line = insert_after(KPI_ANCHOR, f"    public: {value}")
    errors = errors_of(text)
    mine = [e for e in errors if e.startswith(f"{NAME}:{line}:") and "public" in e]
    assert mine, errors
    assert "expected true or false" in mine[0]
    if found:
        assert found in mine[0]
