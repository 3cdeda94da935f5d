"""The outbox, for admins: every email queued, sent or failed, and each one as it is sent.

Without SMTP settings (the embedded default) this is where emails are read. A message's HTML
is shown inside a sandboxed ``<iframe srcdoc>``: no scripts run in it, it cannot reach the
page, and the page's Content-Security-Policy applies to it as well.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker import access
from tracker.db import get_session
from tracker.forms.common import ConfirmForm
from tracker.models import OutboxMessage
from tracker.models.base import utcnow
from tracker.services import health, outbox
from tracker.views import pagination, refuse

bp = Blueprint("outbox", __name__, url_prefix="/admin/outbox")

STATE_TAGS = {"queued": ("Queued", "blue"), "sent": ("Sent", "green"), "failed": ("Failed", "red")}


@bp.get("")
@access.admin
def index() -> str:
    state = request.args.get("state", "")
    if state not in outbox.STATES:
        state = ""
    db = get_session()
    page = outbox.find(db, state or None, request.args.get("page", 1, type=int))
    return render_template(
        "admin/outbox.html", page=page, state=state, counts=outbox.counts(db),
        state_tags=STATE_TAGS, pagination=_pagination(page, state),
        is_delivering=bool(current_app.config.get("SMTP_HOST")),
        retry_hours=outbox.RETRY_HOURS, last_sent_at=health.last_email_sent(db),
    )


def _pagination(page: outbox.OutboxPage, state: str) -> dict[str, Any] | None:
    """Parameters for GOV.UK's pagination: first, last, and the pages around this one."""

    def href(number: int) -> str:
        values: dict[str, Any] = {"state": state} if state else {}
        if number > 1:
            values["page"] = number
        return url_for("outbox.index", **values)

    return pagination(page.page, page.pages, href, "Pages of the outbox")


def _message(message_id: int) -> OutboxMessage:
    message = outbox.message(get_session(), message_id)
    if message is None:
        abort(404)
    return message


@bp.get("/<int:message_id>")
@access.admin
def message(message_id: int) -> str:
    found = _message(message_id)
    return render_template(
        "admin/outbox_message.html", message=found, state_tags=STATE_TAGS,
        mail_from=current_app.config.get("MAIL_FROM", ""), form=ConfirmForm(),
        view=request.args.get("view", "html"), retry_hours=outbox.RETRY_HOURS,
    )


@bp.post("/<int:message_id>/retry")
@access.admin
def retry(message_id: int) -> Response:
    found = _message(message_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        outbox.retry(get_session(), current_user, found, utcnow())
    except outbox.OutboxRefused as refused:
        flash(f"{refused}.", "error")
        refuse(redirect(url_for("outbox.message", message_id=found.id)))
    flash(f"The email to {found.to_address} will be tried again with the next delivery.",
          "success")
    return redirect(url_for("outbox.message", message_id=found.id))
