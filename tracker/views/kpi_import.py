"""Importing KPI values from a CSV or XLSX file (admins): check it, then import or not."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from plans import Plan
from tracker import access, clock
from tracker.db import get_session
from tracker.forms.kpis import KpiImportForm, PoliceImportForm
from tracker.models import KPI
from tracker.services import plan_pages
from tracker.services.calendar import reporting
from tracker.services.kpi_import import (
    MAX_NOTE,
    MAX_ROWS,
    ImportRefused,
    Problem,
    import_values,
    read_limited,
)
from tracker.services.kpi_values import ValueRefused
from tracker.services.plan_load import current_plan
from tracker.services.police_import import import_police
from tracker.views import refuse

bp = Blueprint("kpi_import", __name__)
PROBLEMS_LISTED = 500  # on the page; the command line lists them all
POLICE_MAX_BYTES = 200 * 1024 * 1024  # police.uk files: a force's month is about 30 MB


def _plan() -> Plan:
    plan = current_plan(get_session())
    if plan is None:
        abort(404)
    return plan


@bp.route("/kpis/import", methods=["GET", "POST"])
@access.admin
def upload() -> tuple[str, int]:
    plan = _plan()
    form = KpiImportForm()
    refused: ImportRefused | None = None
    report = None
    status = 200
    if form.validate_on_submit():
        upload_file = form.file.data
        data = read_limited(upload_file.stream)
        try:
            report = import_values(get_session(), plan, current_user, data,
                                   upload_file.filename or "",
                                   dry_run=bool(form.dry_run.data), today=clock.today())
        except ImportRefused as error:
            refused = error
        except ValueRefused as error:  # the checks should have caught it: refuse all the same
            refused = ImportRefused([Problem(None, str(error))])
        if refused is not None:
            form.file.errors = [_field_error(refused)]
            refuse(_page(plan, form, refused=refused), 400)
    elif form.is_submitted():
        status = 400
    return _page(plan, form, refused=refused, report=report), status


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge) -> tuple[str, int]:
    """A file over the request limit never reaches the view: say so on the page itself."""
    plan = _plan()
    if request.endpoint == "kpi_import.police":
        police_form = PoliceImportForm(formdata=None)
        police_form.files.errors = ["The files are larger than 200 MB in all: import them a "
                                    "few at a time"]
        return _police_page(plan, police_form, None, None), 413
    form = KpiImportForm(formdata=None)
    form.file.errors = ["The file is larger than 5 MB: split it into smaller files"]
    return _page(plan, form), 413


def _field_error(refused: ImportRefused) -> str:
    headline = refused.headline
    if refused.rows:
        return (f"The file was refused: {headline} (listed below). Nothing was saved: "
                "correct the file and upload it again")
    return f"The file was refused: {headline}. Nothing was saved"


def _page(plan: Plan, form: KpiImportForm, *, refused: ImportRefused | None = None,
          report: Any = None) -> str:
    calendar = plan.partnership.calendar
    day = clock.today()
    quarter = reporting(plan, day).quarter
    year = calendar.year_of(quarter.start)
    previous_year = calendar.year(year.start.year - 1).label
    kpis = plan_pages.current(get_session(), KPI)
    quarterly = next((k for k in kpis if k.frequency == "quarterly" and k.unit != "percent"),
                     None)
    percent = next((k for k in kpis if k.frequency == "quarterly" and k.unit == "percent"),
                   None)
    annual = next((k for k in kpis if k.frequency == "annual"), None)
    example_rows = [row for row in (
        (quarterly.ref, quarter.label, "1,234", "") if quarterly else None,
        (percent.ref, quarter.label, "32.5%", "Corrected figure from the data return")
        if percent else None,
        (annual.ref, previous_year, "72", "") if annual else None,
    ) if row is not None]
    return render_template(
        "kpis/import.html", form=form, refused=refused, report=report, kpis=kpis,
        example_rows=example_rows, quarter_example=quarter.label, year_example=year.label,
        month_example=f"{quarter.start:%Y-%m}",
        max_rows=MAX_ROWS, max_note=MAX_NOTE, problems_listed=PROBLEMS_LISTED,
        kpis_url=url_for("kpis.index") if "kpis.index" in current_app.view_functions
        else None,
    )


def _police_limit() -> None:
    """police.uk files are larger than spreadsheets: this page alone takes up to 200 MB
    (checked before the CSRF check reads the form)."""
    if request.endpoint == "kpi_import.police":
        request.max_content_length = POLICE_MAX_BYTES


@bp.record_once
def _larger_uploads(state: BlueprintSetupState) -> None:
    state.app.before_request_funcs.setdefault(None, []).insert(0, _police_limit)


@bp.route("/kpis/import-police", methods=["GET", "POST"])
@access.admin
def police() -> tuple[str, int]:
    plan = _plan()
    form = PoliceImportForm()
    refused: ImportRefused | None = None
    report = None
    status = 200
    if form.validate_on_submit():
        files = [(f.filename or "upload.csv", f.stream) for f in form.files.data]
        try:
            report = import_police(get_session(), plan, current_user, files,
                                   dry_run=bool(form.dry_run.data), today=clock.today())
        except ImportRefused as error:
            refused = error
            form.files.errors = [f"The files were refused: {error.headline}. Nothing was saved"]
            refuse(_police_page(plan, form, refused, None), 400)
    elif form.is_submitted():
        status = 400
    return _police_page(plan, form, refused, report), status


def _police_page(plan: Plan, form: PoliceImportForm, refused: ImportRefused | None,
                 report: Any) -> str:
    mapped = [k for k in plan.kpis if k.police_uk]
    return render_template("kpis/import_police.html", form=form, refused=refused,
                           report=report, mapped=mapped, area=plan.partnership.police_uk,
                           problems_listed=PROBLEMS_LISTED)
