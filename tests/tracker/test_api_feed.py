"""The Power BI / Excel feed, read back as Power BI and pandas read it: flat tables with the
columns the README documents, one row per action and quarter, per KPI and period, and per
escalation, counted here from the database on their own."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.tracker.api_support import bearer, make_token
from tracker.db import get_engine
from tracker.models import KPI, Action, ActionStatus, Escalation, KPIValue

# as the README's tables give them: a change here is a change for every report built on them
COLUMNS = {
    "action-statuses": ["action_ref", "action_title", "commitment_ref", "priority_ref",
                        "group_ref", "lead_ref", "owner", "quarter", "colour", "rule",
                        "reason", "has_update", "computed_at"],
    "kpi-values": ["kpi_ref", "kpi_name", "unit", "better", "frequency", "period",
                   "period_start", "value", "provisional", "data_source", "recorded_at"],
    "escalations": ["escalation_id", "action_ref", "rule", "escalated_to", "quarter_raised",
                    "last_quarter", "reason", "raised_at", "is_open", "resolved_at",
                    "resolution"],
}


def _expected_rows(app: Flask) -> dict[str, int]:
    with Session(get_engine(app)) as s:
        statuses = s.scalar(select(func.count()).select_from(ActionStatus)
                            .join(Action, Action.id == ActionStatus.action_id)
                            .where(Action.retired_at.is_(None)))
        periods = (select(KPIValue.kpi_id, KPIValue.period).distinct()
                   .join(KPI, KPI.id == KPIValue.kpi_id).where(KPI.retired_at.is_(None))
                   .subquery())
        values = s.scalar(select(func.count()).select_from(periods))
        escalations = s.scalar(select(func.count()).select_from(Escalation))
    return {"action-statuses": statuses or 0, "kpi-values": values or 0,
            "escalations": escalations or 0}


@pytest.mark.parametrize("name", list(COLUMNS))
def test_each_feed_reads_back_as_documented(demo_app: Flask, name: str) -> None:
    client = demo_app.test_client()
    headers = bearer(make_token(demo_app, "Power BI"))
    expected = _expected_rows(demo_app)[name]
    assert expected > 10  # the demo has plenty of each

    csv = client.get(f"/api/v1/feed/{name}.csv", headers=headers)
    assert csv.status_code == 200
    assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    table = pd.read_csv(io.BytesIO(csv.get_data()), encoding="utf-8-sig")
    assert list(table.columns) == COLUMNS[name]
    assert len(table) == expected

    as_json = client.get(f"/api/v1/feed/{name}.json", headers=headers)
    assert as_json.status_code == 200 and as_json.is_json
    rows = pd.read_json(io.StringIO(as_json.get_data(as_text=True)), orient="records",
                        dtype=False)
    assert sorted(rows.columns) == sorted(COLUMNS[name])
    assert len(rows) == expected
    # the same rows either way, in the same order
    key = COLUMNS[name][0]
    assert [str(v) for v in rows[key]] == [str(v) for v in table[key]]


def test_feed_values_are_typed_as_power_bi_reads_them(demo_app: Flask) -> None:
    client = demo_app.test_client()
    headers = bearer(make_token(demo_app))
    statuses = pd.read_csv(io.BytesIO(client.get("/api/v1/feed/action-statuses.csv",
                                                 headers=headers).get_data()),
                           encoding="utf-8-sig", parse_dates=["computed_at"])
    assert statuses["has_update"].dtype == bool
    assert str(statuses["computed_at"].dt.tz) == "UTC"  # ISO 8601 with its offset
    assert set(statuses["colour"]) <= {"red", "amber", "green", "complete", "grey", "blue",
                                       "not_started", "no_update", "purple"}
    values = pd.read_csv(io.BytesIO(client.get("/api/v1/feed/kpi-values.csv",
                                               headers=headers).get_data()),
                         encoding="utf-8-sig", parse_dates=["period_start"])
    assert values["value"].dtype == float
    assert values["provisional"].dtype == bool
    assert not values.duplicated(["kpi_ref", "period"]).any()  # the value that counts, once
    escalations = pd.read_csv(io.BytesIO(client.get("/api/v1/feed/escalations.csv",
                                                    headers=headers).get_data()),
                              encoding="utf-8-sig")
    assert escalations["is_open"].dtype == bool
    assert escalations["escalation_id"].is_unique


def test_the_feed_needs_a_token(demo_app: Flask) -> None:
    response = demo_app.test_client().get("/api/v1/feed/action-statuses.csv")
    assert response.status_code == 401 and response.is_json
