"""Admin: the shop's settings and the message texts, with a preview of each message (owner only).

The settings page is a set of sections, each its own form with its own Save: a post names its `section`,
only that section's fields are read and checked, and every other setting keeps its stored value. The message
texts are one more section, on their own page. A new setting is a form field plus its name in SECTIONS.
"""

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from admin.access import requires
from admin.blueprint import admin_blueprint as bp
from checkout.models.store import PAYMENT_METHOD_LABELS, get_store_settings
from checkout.shop.settings import (
    FOLLOW_UP_DAYS,
    MAX_PENDING_UNITS_PER_PHONE,
    RESERVATION_HOURS,
    InvalidSettings,
    SettingsChange,
    check_settings_change,
    editable_values,
    update_store_settings,
)
from checkout.staff.permissions import Permission
from checkout.web.urls import external_url
from checkout.whatsapp.wording import (
    MESSAGE_KEYS,
    MESSAGE_LABELS,
    MESSAGE_PLACEHOLDERS,
    MESSAGE_TEXT_MAX,
    SWITCHABLE_STATUS_MESSAGES,
    InvalidMessageText,
    preview_message_text,
)

TEMPLATE = "admin/settings/edit.html"
MESSAGES_TEMPLATE = "admin/settings/messages.html"


class SettingsForm(FlaskForm):
    """Parsing only: the rules live in checkout/shop/settings.py."""

    name = StringField("Shop name")
    tagline = StringField("Tagline (optional)")
    logo_url = StringField(
        "Logo address (optional)", description="A full https:// address of an image, or a path on this site."
    )
    address = TextAreaField("Shop address (optional)", description="Shown at the foot of every shop page.")
    returns_policy = TextAreaField(
        "Returns policy (optional)", description="What shoppers may return and how; shown at the foot of every page."
    )
    delivery_policy = TextAreaField(
        "Delivery policy (optional)",
        description="Where you deliver and how long it takes; shown at the foot of every page.",
    )
    receipt_tax_number = StringField(
        "Tax number on receipts (optional)", description="Your GSTIN, VAT or tax PIN, printed on every receipt."
    )
    receipt_footer = TextAreaField(
        "Receipt footer (optional)", description="A closing line on every receipt, e.g. thanks or how to return."
    )
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
    time_zone = StringField(
        "Time zone",
        description="Every time staff and customers see is in this zone, e.g. Asia/Kolkata. Empty: your country's.",
    )
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
    max_pending_units_per_phone = IntegerField(
        "Most items one number may hold unconfirmed",
        validators=[InputRequired(message="Enter a number.")],
        description=(
            "Orders waiting for confirmation hold their items; one WhatsApp number may hold at most this many "
            f"at a time ({MAX_PENDING_UNITS_PER_PHONE[0]} to {MAX_PENDING_UNITS_PER_PHONE[1]})."
        ),
    )
    reminder_hours = IntegerField(
        "Order reminder after (hours)",
        description=(
            "One WhatsApp reminder when a customer who agreed to reminders hasn't sent their order from WhatsApp "
            "after this long (1 to 72)."
        ),
        validators=[Optional()],
    )
    consent_wording = StringField(
        "Checkbox at checkout",
        description="What shoppers tick to get updates and reminders; kept with each consent. Empty: the standard.",
    )
    consent_ticked_by_default = BooleanField(
        "Tick the checkbox for shoppers (only where the law allows consent given by default)"
    )
    cart_recovery_hours = IntegerField(
        "Cart reminder after (hours)",
        description=(
            "One WhatsApp message about a cart left at checkout by a shopper who agreed to reminders (1 to 72). "
            "At most one reminder a day per customer."
        ),
        validators=[Optional()],
    )
    cart_expiry_days = IntegerField(
        "Keep unfinished carts for (days)",
        description="A cart nobody has touched for this long is deleted (1 to 365); orders keep their own copy.",
        validators=[Optional()],
    )
    quiet_hours_start = StringField(
        "Quiet from (optional)", description="No reminders from this time of day, e.g. 21:00, in the shop's time zone."
    )
    quiet_hours_end = StringField("Quiet until (optional)", description="…until this time, e.g. 08:00.")
    staff_alert_numbers = TextAreaField(
        "Staff WhatsApp numbers for new-order alerts (optional)", description="One number per line, at most 5."
    )
    webhook_url = URLField(
        "Webhook address (optional)",
        description="Your own system receives order.created, order.status_changed and payment.recorded here.",
    )
    webhook_secret = StringField("Webhook signing secret", description="At least 16 characters; keep it private.")
    delivery_days_min = IntegerField(
        "Delivery takes at least (days)",
        validators=[Optional()],
        description="Counted from confirmation. 0 and 0: the confirmation message promises no date.",
    )
    delivery_days_max = IntegerField(
        "…and at most (days)",
        validators=[Optional()],
        description="The customer is told to expect the order by this many days after confirmation (up to 60).",
    )
    delivery_area_days = TextAreaField(
        "Areas that take another time (optional)",
        description=(
            "One per line: a postcode start or a place name in the address, '=', and days, e.g. 560=1-2 or "
            "Kasarani=2. The most specific match wins."
        ),
    )
    follow_up_after_days = SelectField(
        "Follow-up after delivery",
        choices=[SelectChoice(0, "Off")]
        + [
            SelectChoice(days, f"{days} days after delivery")
            for days in range(FOLLOW_UP_DAYS[0], FOLLOW_UP_DAYS[1] + 1)
        ],
        coerce=int,
        validators=[Optional()],  # not posted (another section, or an older form): kept as it is
        description=(
            "One WhatsApp message asking how the order was, with a rating from 1 to 5 and room for a comment. "
            "Never to a customer who sent STOP, never twice for one order. Turn it on only if your customers "
            "agreed to hear from you after their order."
        ),
    )
    return_window_days = IntegerField(
        "Returns in the chat for (days after delivery)",
        validators=[Optional()],
        description="Customers may ask for a return in WhatsApp this long after delivery; 0: a person handles returns.",
    )
    address_change_needs_approval = BooleanField(
        "Staff approve a new address after a failed delivery",
        description=(
            "When a delivery fails the customer may type a new address in WhatsApp. On: it waits on the order page "
            "for staff to approve or reject. Off: it is used at once and the courier is told."
        ),
    )
    payment_methods = SelectMultipleField(
        "Payment methods offered",
        choices=[SelectChoice(value, label) for value, label in PAYMENT_METHOD_LABELS.items()],
    )


for _key in MESSAGE_KEYS:
    setattr(SettingsForm, f"message_{_key}", TextAreaField(MESSAGE_LABELS[_key]))
for _key in SWITCHABLE_STATUS_MESSAGES:
    setattr(SettingsForm, f"send_{_key}", BooleanField("Send this message"))
# The messages page says it carries the switches; a post without it (every field at once) leaves them as they are.
SWITCHES_MARKER = "message_switches"


@dataclass(frozen=True)
class Section:
    title: str
    fields: tuple[str, ...]  # SettingsForm field names, in the order they are shown


SECTIONS = {
    "shop": Section(
        "Shop",
        (
            "name",
            "tagline",
            "logo_url",
            "address",
            "returns_policy",
            "delivery_policy",
            "receipt_tax_number",
            "receipt_footer",
        ),
    ),
    "whatsapp": Section(
        "WhatsApp, country and currency", ("whatsapp_number", "default_region", "currency", "locale", "time_zone")
    ),
    "delivery": Section(
        "Delivery and pickup",
        (
            "delivery_fee",
            "free_delivery_threshold",
            "pickup_enabled",
            "pickup_address",
            "reservation_hours",
            "max_pending_units_per_phone",
            "delivery_days_min",
            "delivery_days_max",
            "delivery_area_days",
            "return_window_days",
            "address_change_needs_approval",
        ),
    ),
    "payments": Section(
        "Payments and stock",
        (
            "payment_methods",
            "low_stock_threshold",
            "staff_alert_numbers",
            "webhook_url",
            "webhook_secret",
        ),
    ),
    "reminders": Section(
        "Reminders and consent",
        (
            "consent_wording",
            "consent_ticked_by_default",
            "reminder_hours",
            "cart_recovery_hours",
            "cart_expiry_days",
            "quiet_hours_start",
            "quiet_hours_end",
        ),
    ),
    "after_delivery": Section("After delivery", ("follow_up_after_days",)),
    "messages": Section(  # on their own page
        "Messages",
        tuple(f"message_{key}" for key in MESSAGE_KEYS) + tuple(f"send_{key}" for key in SWITCHABLE_STATUS_MESSAGES),
    ),
}
PAGE_SECTIONS = tuple(key for key in SECTIONS if key != "messages")


def _form_data(values: dict) -> dict:
    texts = values.pop("message_texts")
    silent = values.pop("silent_statuses")
    switches = {f"send_{key}": key not in silent for key in SWITCHABLE_STATUS_MESSAGES}
    return {**values, **switches, **{f"message_{key}": text for key, text in texts.items()}}


def _days(field) -> int | None:
    """A days field as posted, empty counting as 0 (no promise); not posted (another section): None, kept as is."""
    if field.name not in request.form:
        return None
    return field.data if field.data is not None else 0


def _silent_statuses(form: SettingsForm) -> tuple[str, ...] | None:
    if SWITCHES_MARKER not in request.form:
        return None
    return tuple(key for key in SWITCHABLE_STATUS_MESSAGES if not form[f"send_{key}"].data)


def _change_from(form: SettingsForm) -> SettingsChange:
    return SettingsChange(
        name=form.name.data or "",
        tagline=form.tagline.data or "",
        logo_url=form.logo_url.data or "",
        address=form.address.data or "",
        returns_policy=form.returns_policy.data or "",
        delivery_policy=form.delivery_policy.data or "",
        receipt_tax_number=form.receipt_tax_number.data or "",
        receipt_footer=form.receipt_footer.data or "",
        whatsapp_number=form.whatsapp_number.data or "",
        currency=form.currency.data or "",
        locale=form.locale.data or "",
        default_region=form.default_region.data or "",
        time_zone=form.time_zone.data or "",
        delivery_fee=form.delivery_fee.data or "",
        free_delivery_threshold=form.free_delivery_threshold.data or "",
        pickup_enabled=bool(form.pickup_enabled.data),
        pickup_address=form.pickup_address.data or "",
        reservation_hours=form.reservation_hours.data,
        low_stock_threshold=form.low_stock_threshold.data,
        max_pending_units_per_phone=form.max_pending_units_per_phone.data,
        payment_methods=tuple(form.payment_methods.data or ()),
        message_texts={key: form[f"message_{key}"].data or "" for key in MESSAGE_KEYS},
        reminder_hours=form.reminder_hours.data,
        consent_wording=form.consent_wording.data or "",
        consent_ticked_by_default=bool(form.consent_ticked_by_default.data),
        cart_recovery_hours=form.cart_recovery_hours.data,
        cart_expiry_days=form.cart_expiry_days.data,
        quiet_hours_start=form.quiet_hours_start.data or "",
        quiet_hours_end=form.quiet_hours_end.data or "",
        staff_alert_numbers=form.staff_alert_numbers.data or "",
        webhook_url=form.webhook_url.data or "",
        webhook_secret=form.webhook_secret.data or "",
        delivery_days_min=_days(form.delivery_days_min),
        delivery_days_max=_days(form.delivery_days_max),
        delivery_area_days=(form.delivery_area_days.data or "") if "delivery_area_days" in request.form else None,
        silent_statuses=_silent_statuses(form),
        follow_up_after_days=form.follow_up_after_days.data,
        return_window_days=_days(form.return_window_days),
        address_change_needs_approval=bool(form.address_change_needs_approval.data),
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


def _render(form: SettingsForm, status: int = 200, failed: str = ""):
    return render_template(
        TEMPLATE,
        form=form,
        sections={key: SECTIONS[key] for key in PAGE_SECTIONS},
        failed=failed,
    ), status


def _render_messages(form: SettingsForm, status: int = 200, previewing: bool = False):
    previews = {key: _preview(key, form[f"message_{key}"].data or "") for key in MESSAGE_KEYS}
    return render_template(
        MESSAGES_TEMPLATE,
        form=form,
        message_keys=MESSAGE_KEYS,
        placeholders=MESSAGE_PLACEHOLDERS,
        switchable=SWITCHABLE_STATUS_MESSAGES,
        switches_marker=SWITCHES_MARKER,
        text_max=MESSAGE_TEXT_MAX,
        previews=previews,
        previewing=previewing,
    ), status


def _render_section_page(form: SettingsForm, status: int):
    return _render(form, status, failed=request.form["section"])


def _render_page_with_the_errors(form: SettingsForm, status: int):
    """Every field was posted at once: show the page where the notes are (message texts have their own)."""
    if any(name.startswith("message_") for name in form.errors):
        return _render_messages(form, status)
    return _render(form, status, failed="all")


def _stored_form() -> SettingsForm:
    return SettingsForm(formdata=None, data=_form_data(editable_values(get_store_settings())))


def _posted_form(field_names) -> tuple[SettingsForm, bool]:
    """The stored settings with the posted fields of one section read over them, and whether those parse.

    Only the section's fields are read and validated; the rest stay as stored. (The CSRF token is checked
    for every POST by CSRFProtect.)
    """
    form = _stored_form()
    valid = True
    for name in field_names:
        form[name].process(request.form)
        valid = form[name].validate(form) and valid
    return form, valid


def _save(section: str, field_names, rerender):
    """Check and save the posted section; redirect on success, the page with every note on a refusal."""
    form, form_ok = _posted_form(field_names)
    if "preview" in request.form and section == "messages":  # no-JavaScript preview: show, save nothing
        return _render_messages(form, previewing=True)
    change = _change_from(form)
    try:
        if form_ok:
            update_store_settings(change)
            flash(f"{SECTIONS[section].title if section else 'Settings'} saved.", "success")
            endpoint = "admin.settings_messages" if section == "messages" else "admin.settings"
            return redirect(url_for(endpoint, _anchor=f"section-{section}" if section in PAGE_SECTIONS else None), 303)
        check_settings_change(change)  # the parsing failed somewhere: list the other problems too
    except InvalidSettings as refused:
        _show_errors(form, refused)
    return rerender(form, 422)


def _all_field_names() -> list[str]:
    return [name for section in SECTIONS.values() for name in section.fields]


@bp.route("/settings", methods=["GET", "POST"])
@requires(Permission.EDIT_SETTINGS)
def settings():
    """The settings sections. A POST saves the section it names; one without a section saves every field."""
    if request.method == "GET":
        return _render(_stored_form())
    section = request.form.get("section", "")
    if section and section not in PAGE_SECTIONS:
        abort(400)
    names = SECTIONS[section].fields if section else _all_field_names()
    if not section and "preview" in request.form:
        return _render_messages(_posted_form(names)[0], previewing=True)
    return _save(section, names, _render_section_page if section else _render_page_with_the_errors)


@bp.route("/settings/messages", methods=["GET", "POST"])
@requires(Permission.EDIT_SETTINGS)
def settings_messages():
    """The message texts, on their own page, with their own Save."""
    if request.method == "GET":
        return _render_messages(_stored_form())
    return _save("messages", SECTIONS["messages"].fields, _render_messages)


@bp.post("/settings/messages/<key>/preview")
@requires(Permission.EDIT_SETTINGS)
def settings_message_preview(key: str):
    """The HTMX live preview of one message text; the textarea posts its form, this answers one fragment."""
    if key not in MESSAGE_KEYS:
        abort(404)
    text = request.form.get(f"message_{key}", "")
    return render_template("admin/settings/_message_preview.html", key=key, preview=_preview(key, text))
