"""Admin: how the shop asks customers to pay — the provider, when to ask, and the provider's own details.

Every rule lives in checkout/payments/providers.py (check_payment_settings); a refusal shows each problem
next to its field and saves nothing. Gateway secrets are not here: they come from the environment.
"""

from flask import flash, redirect, render_template, request, url_for

from admin.access import requires
from admin.blueprint import admin_blueprint as bp
from checkout.models.store import get_store_settings
from checkout.payments.providers import (
    PAYMENT_SETTING_FIELDS,
    REQUEST_WHEN_CHOICES,
    UNPAID_ACTIONS,
    InvalidPaymentSettings,
    payment_setting_values,
    provider_choices,
    save_payment_settings,
)
from checkout.staff.permissions import Permission

TEMPLATE = "admin/settings/payments.html"


def _render(values: dict[str, str], errors: dict[str, str] | None = None, status: int = 200):
    return render_template(
        TEMPLATE,
        values=values,
        errors=errors or {},
        providers=provider_choices(),
        when_choices=REQUEST_WHEN_CHOICES,
        unpaid_actions=UNPAID_ACTIONS,
    ), status


@bp.route("/settings/payments", methods=["GET", "POST"])
@requires(Permission.EDIT_SETTINGS)
def settings_payments():
    settings = get_store_settings()
    if request.method == "GET":
        return _render(payment_setting_values(settings))
    # A field the form did not send keeps its stored value (check_payment_settings reads it from the settings).
    posted = {field: request.form[field] for field in PAYMENT_SETTING_FIELDS if field in request.form}
    try:
        save_payment_settings(posted)
    except InvalidPaymentSettings as refused:
        return _render(payment_setting_values(settings) | posted, refused.errors, 422)
    flash("Payment settings saved.", "success")
    return redirect(url_for("admin.settings_payments"), 303)
