"""Admin: the shop's settings and the message texts, with a preview of each message (owner only)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectMultipleField, StringField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from admin import admin_blueprint as bp
from admin.access import requires
from checkout.models.store import PAYMENT_METHOD_LABELS, get_store_settings
from checkout.permissions import Permission
from checkout.store_settings import (
    MESSAGE_KEYS,
    MESSAGE_LABELS,
    MESSAGE_PLACEHOLDERS,
    MESSAGE_TEXT_MAX,
    RESERVATION_HOURS,
    InvalidMessageText,
    InvalidSettings,
    SettingsChange,
    check_settings_change,
    editable_values,
    preview_message_text,
    update_store_settings,
)
from checkout.urls import external_url

TEMPLATE = "admin/settings/edit.html"


class SettingsForm(FlaskForm):
    """Parsing only: the rules live in checkout/store_settings.py."""

    name = StringField("Shop name")
    tagline = StringField("Tagline (optional)")
    logo_url = URLField("Logo address (optional)", description="A full https:// address of an image.")
    whatsapp_number = StringField(
        "WhatsApp number",
        description="The number shoppers message. Type it any way; it's stored with the country code.",
    )
    default_region = StringField(
        "Default phone region",
        description="Two letters, e.g. IN: numbers typed without a country code are read as local.",
    )
    currency = StringField(
        "Currency", description="Three letters, e.g. INR. Changing it does not convert the prices in the catalog."
    )
    locale = StringField("Locale", description="How amounts are written, e.g. en_IN or sw_KE.")
    delivery_fee = StringField("Delivery fee", description="In the shop's currency, e.g. 50 or 49.50.")
    free_delivery_threshold = StringField(
        "Free delivery from (optional)", description="Orders of at least this subtotal deliver free. Empty: never free."
    )
    pickup_enabled = BooleanField("Offer pickup")
    pickup_address = TextAreaField("Pickup address", description="Required when pickup is offered.")
    reservation_hours = IntegerField(
        "Hold stock for (hours)",
        validators=[InputRequired(message="Enter a number of hours.")],
        description=f"How long a new order keeps its items: {RESERVATION_HOURS[0]} to {RESERVATION_HOURS[1]} hours.",
    )
    low_stock_threshold = IntegerField(
        "Low-stock warning at",
        validators=[InputRequired(message="Enter a number.")],
        description="Variants with this many or fewer in stock are flagged.",
    )
    reminder_hours = IntegerField(
        "Reminder after (hours)",
        description="One WhatsApp reminder when a customer hasn't confirmed an order after this long.",
        validators=[Optional()],
    )
    staff_alert_numbers = TextAreaField(
        "Staff WhatsApp numbers for new-order alerts (optional)", description="One number per line, at most 5."
    )
    webhook_url = URLField(
        "Webhook address (optional)",
        description="Your own system receives order.created, order.status_changed and payment.recorded here.",
    )
    webhook_secret = StringField("Webhook signing secret", description="At least 16 characters; keep it private.")
    payment_methods = SelectMultipleField(
        "Payment methods offered",
        choices=[SelectChoice(value, label) for value, label in PAYMENT_METHOD_LABELS.items()],
    )


for _key in MESSAGE_KEYS:
    setattr(SettingsForm, f"message_{_key}", TextAreaField(MESSAGE_LABELS[_key]))


def _form_data(values: dict) -> dict:
    texts = values.pop("message_texts")
    return {**values, **{f"message_{key}": text for key, text in texts.items()}}


def _change_from(form: SettingsForm) -> SettingsChange:
    return SettingsChange(
        name=form.name.data or "",
        tagline=form.tagline.data or "",
        logo_url=form.logo_url.data or "",
        whatsapp_number=form.whatsapp_number.data or "",
        currency=form.currency.data or "",
        locale=form.locale.data or "",
        default_region=form.default_region.data or "",
        delivery_fee=form.delivery_fee.data or "",
        free_delivery_threshold=form.free_delivery_threshold.data or "",
        pickup_enabled=bool(form.pickup_enabled.data),
        pickup_address=form.pickup_address.data or "",
        reservation_hours=form.reservation_hours.data,
        low_stock_threshold=form.low_stock_threshold.data,
        payment_methods=tuple(form.payment_methods.data or ()),
        message_texts={key: form[f"message_{key}"].data or "" for key in MESSAGE_KEYS},
        reminder_hours=form.reminder_hours.data,
        staff_alert_numbers=form.staff_alert_numbers.data or "",
        webhook_url=form.webhook_url.data or "",
        webhook_secret=form.webhook_secret.data or "",
    )


def _show_errors(form: SettingsForm, refused: InvalidSettings) -> None:
    """Domain reasons go under their fields, after any parsing error the form already found there."""
    for name, message in refused.errors.items():
        if not form[name].errors:
            form[name].errors.append(message)
    for key, message in refused.message_errors.items():
        form[f"message_{key}"].errors.append(message)


def _preview(key: str, text: str) -> dict:
    """{'text': ...} or {'error': ...}: how the message reads for a sample order."""
    status_url = external_url("storefront.order_status", token="sample-order")
    try:
        return {"text": preview_message_text(key, text, get_store_settings(), status_url=status_url)}
    except InvalidMessageText as error:
        return {"error": error.message}


def _render(form: SettingsForm, status: int = 200, previewing: bool = False):
    previews = {key: _preview(key, form[f"message_{key}"].data or "") for key in MESSAGE_KEYS}
    return render_template(
        TEMPLATE,
        form=form,
        message_keys=MESSAGE_KEYS,
        placeholders=MESSAGE_PLACEHOLDERS,
        text_max=MESSAGE_TEXT_MAX,
        previews=previews,
        previewing=previewing,
    ), status


@bp.route("/settings", methods=["GET", "POST"])
@requires(Permission.EDIT_SETTINGS)
def settings():
    if request.method == "GET":
        return _render(SettingsForm(data=_form_data(editable_values(get_store_settings()))))

    form = SettingsForm()
    form_ok = form.validate()
    if "preview" in request.form:  # the no-JavaScript preview: show every message as typed, save nothing
        return _render(form, previewing=True)
    change = _change_from(form)
    try:
        if form_ok:
            update_store_settings(change)
            flash("Settings saved.", "success")
            return redirect(url_for("admin.settings"), 303)
        check_settings_change(change)  # the parsing failed somewhere: list the other problems too
    except InvalidSettings as refused:
        _show_errors(form, refused)
    return _render(form, status=422)


@bp.post("/settings/messages/<key>/preview")
@requires(Permission.EDIT_SETTINGS)
def settings_message_preview(key: str):
    """The HTMX live preview of one message text; the textarea posts its form, this answers one fragment."""
    if key not in MESSAGE_KEYS:
        abort(404)
    text = request.form.get(f"message_{key}", "")
    return render_template("admin/settings/_message_preview.html", key=key, preview=_preview(key, text))
