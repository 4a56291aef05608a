"""Admin: Settings → Couriers — the couriers that post their scans to Chatout, and what they sent lately.

Every rule lives in checkout/carriers/carriers.py; a refusal shows each problem next to its field and saves
nothing. A courier's secret is made by us and shown once, on the page that answers its creation (or a new
secret): never stored in the session, never shown again.
"""

from flask import abort, flash, redirect, render_template, request, url_for

from admin.access import requires
from admin.blueprint import admin_blueprint as bp
from checkout.carriers import carriers
from checkout.carriers.events import recent_events
from checkout.carriers.mapping import EVENT_LABELS, PATH_FIELDS
from checkout.carriers.presets import GENERIC, HMAC, PRESET_CHOICES, PRESETS, TOKEN
from checkout.extensions import db
from checkout.models.carriers import Carrier
from checkout.staff.permissions import Permission
from checkout.web.urls import external_url

TEMPLATE = "admin/settings/couriers.html"
AUTH_CHOICES = {TOKEN: "A secret token (header or ?token=)", HMAC: "An HMAC-SHA256 signature of the body"}


def _posted_draft() -> carriers.CarrierDraft:
    form = request.form
    return carriers.CarrierDraft(
        name=form.get("name", ""),
        label=form.get("label", ""),
        preset=form.get("preset", GENERIC),
        auth=form.get("auth", TOKEN),
        auth_header=form.get("auth_header", ""),
        paths={key: form.get(f"path_{key}", "") for key in PATH_FIELDS},
        status_lines=form.get("status_lines", ""),
        active=form.get("active") == "on" if "edit" in form else True,
        action_url=form.get("action_url", ""),
        action_token=form.get("action_token", ""),
    )


def _render(draft=None, errors=None, status: int = 200, secret_for: Carrier | None = None, secret: str = ""):
    return render_template(
        TEMPLATE,
        carriers=carriers.all_carriers(),
        events=recent_events(),
        draft=draft or carriers.CarrierDraft(),
        errors=errors or {},
        presets=PRESET_CHOICES,
        preset_details=PRESETS,
        auth_choices=AUTH_CHOICES,
        path_fields=PATH_FIELDS,
        event_labels=EVENT_LABELS,
        status_lines=carriers.status_lines,
        auth_of=carriers.auth_of,
        webhook_url=lambda carrier: external_url("carrier_webhooks.receive", name=carrier.name),
        secret_for=secret_for,
        secret=secret,
    ), status


@bp.route("/settings/couriers", methods=["GET", "POST"])
@requires(Permission.EDIT_SETTINGS)
def settings_couriers():
    if request.method == "GET":
        return _render()
    draft = _posted_draft()
    try:
        carrier, secret = carriers.add_carrier(draft)
    except carriers.InvalidCarrier as refused:
        return _render(draft, refused.errors, 422)
    return _render(secret_for=carrier, secret=secret)


@bp.post("/settings/couriers/<int:carrier_id>")
@requires(Permission.EDIT_SETTINGS)
def settings_courier_edit(carrier_id: int):
    draft = _posted_draft()
    try:
        carrier = carriers.update_carrier(carrier_id, draft)
    except LookupError:
        abort(404)
    except carriers.InvalidCarrier as refused:
        flash("Nothing was saved: " + "; ".join(refused.errors.values()), "error")
        return _render(status=422)
    flash(f"{carrier.label} saved.", "success")
    return redirect(url_for("admin.settings_couriers"), 303)


@bp.post("/settings/couriers/<int:carrier_id>/secret")
@requires(Permission.EDIT_SETTINGS)
def settings_courier_secret(carrier_id: int):
    try:
        secret = carriers.new_secret(carrier_id)
    except LookupError:
        abort(404)
    return _render(secret_for=db.session.get(Carrier, carrier_id), secret=secret)
