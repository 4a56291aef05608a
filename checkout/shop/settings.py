"""The shop's settings: checking and applying a change, message texts included, and storing it.

What the message texts say and how they are filled in lives in checkout/whatsapp/wording.py; here a
changed text is checked and kept.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies

from checkout.dates import UnknownTimeZone, normalise_time_zone
from checkout.models.store import (
    DEFAULT_CONSENT_WORDING,
    PAYMENT_METHOD_LABELS,
    StoreSettings,
    save_store_settings,
)
from checkout.money import InvalidAmount, format_amount_for_input, parse_amount
from checkout.orders.delivery_promise import DELIVERY_DAYS_MAX, InvalidAreaDays, parse_area_days
from checkout.phones import InvalidPhone, normalise_business_phone, normalise_phone
from checkout.shop.quiet_hours import InvalidClockTime, parse_clock
from checkout.whatsapp.wording import (
    DEFAULT_MESSAGE_TEXTS,
    MESSAGE_KEYS,
    MESSAGE_PLACEHOLDERS,
    SWITCHABLE_STATUS_MESSAGES,
    InvalidMessageText,
    check_message_text,
    message_text,
    normalise_text,
)

NAME_MAX = 80
TAGLINE_MAX = 160
LOGO_URL_MAX = 300
PICKUP_ADDRESS_MAX = 500
POLICY_MAX = 2000
RECEIPT_TAX_NUMBER_MAX = 40
RECEIPT_FOOTER_MAX = 500
RESERVATION_HOURS = (1, 168)
LOW_STOCK_THRESHOLD = (0, 100_000)
MAX_PENDING_UNITS_PER_PHONE = (1, 100_000)
RETURN_WINDOW_DAYS = (0, 365)
_LOCALE = re.compile(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8}){0,2}", re.ASCII)


@dataclass(frozen=True)
class SettingsChange:
    """What the owner typed, as text and numbers; nothing here is trusted yet."""

    name: str
    tagline: str
    logo_url: str
    whatsapp_number: str
    currency: str
    locale: str
    default_region: str
    delivery_fee: str  # a decimal amount in `currency`, e.g. "50" or "49.50"
    free_delivery_threshold: str  # the same, or empty for "never free"
    pickup_enabled: bool
    pickup_address: str
    reservation_hours: int | None
    low_stock_threshold: int | None
    payment_methods: tuple[str, ...]
    message_texts: dict[str, str] = field(default_factory=dict)  # key → text; empty or missing means default
    # WhatsApp follow-up and the shop's own systems; None means "not part of this change, keep as is".
    reminder_hours: int | None = None
    staff_alert_numbers: str | None = None  # one number per line, any format
    webhook_url: str | None = None
    webhook_secret: str | None = None
    max_pending_units_per_phone: int | None = None
    # The storefront footer; None means "not part of this change, keep as is".
    address: str | None = None
    returns_policy: str | None = None
    delivery_policy: str | None = None
    time_zone: str | None = None  # e.g. "Asia/Kolkata"; empty: the usual zone of default_region
    # Printed on payment receipts; None means "not part of this change, keep as is".
    receipt_tax_number: str | None = None
    receipt_footer: str | None = None
    # Reminders and the consent they need; None means "not part of this change, keep as is".
    consent_wording: str | None = None  # empty: the standard wording
    consent_ticked_by_default: bool | None = None
    cart_recovery_hours: int | None = None
    cart_expiry_days: int | None = None  # idle carts are deleted after this many days
    quiet_hours_start: str | None = None  # "22:00"; both empty: no quiet hours
    quiet_hours_end: str | None = None
    # The delivery time promised at confirmation; None means "not part of this change, keep as is".
    delivery_days_min: int | None = None
    delivery_days_max: int | None = None
    delivery_area_days: str | None = None  # "area=days" lines
    # After a failed delivery, a new address typed by the customer waits for staff (True) or is used at once.
    address_change_needs_approval: bool | None = None
    # The status messages switched off (keys of SWITCHABLE_STATUS_MESSAGES); None: keep as is.
    silent_statuses: tuple[str, ...] | None = None
    # Days after delivery for the one follow-up (FOLLOW_UP_DAYS), 0 for none; None: keep as is.
    follow_up_after_days: int | None = None
    # Days after delivery a return may be asked in the chat (0: returns go to a person); None: keep as is.
    return_window_days: int | None = None


class InvalidSettings(Exception):
    """The change was refused; nothing was written. `errors` and `message_errors` map a name to a reason."""

    def __init__(self, errors: dict[str, str], message_errors: dict[str, str]):
        super().__init__("The settings were not saved.")
        self.errors = errors
        self.message_errors = message_errors


def format_amount(amount_minor: int | None, currency: str, locale: str = "en") -> str:
    """4950 in INR → '49.50': how an amount is shown in the form for editing, as parse_amount reads it back."""
    return "" if amount_minor is None else format_amount_for_input(amount_minor, currency, locale)


def is_known_currency(code: str) -> bool:
    return len(code) == 3 and code.isascii() and code.upper() in list_currencies()


def normalise_locale(raw: str) -> str:
    """'en-in' → 'en_IN'; raises ValueError for anything Babel doesn't know as written."""
    text = (raw or "").strip()
    if not _LOCALE.fullmatch(text):
        raise ValueError(text)
    try:
        locale = Locale.parse(text.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        raise ValueError(text) from None
    # Babel maps some unknown territories onto a default ('en_ZZ' → 'en_US'); that is not what was asked for.
    if str(locale).lower() != text.replace("-", "_").lower():
        raise ValueError(text)
    return str(locale)


def is_known_region(code: str) -> bool:
    return code in phonenumbers.SUPPORTED_REGIONS


def _check_url(url: str) -> str | None:
    if not url:
        return None
    if len(url) > LOGO_URL_MAX:
        return f"Keep the address to {LOGO_URL_MAX} characters."
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        return "Give a full web address starting with https://"
    return None


def _check_image_url(url: str) -> str | None:
    """A full web address, or a path on this site (the demo's logo is one of our static files)."""
    if not url.startswith("/") or url.startswith("//"):
        return _check_url(url)
    if len(url) > LOGO_URL_MAX or not url.isprintable() or any(c.isspace() for c in url):
        return "Give a path on this site like /static/logo.svg, or a full address starting with https://"
    return None


def _check_footer(change: SettingsChange, values: dict, errors: dict) -> None:
    """The shop's address and policies, shown in the storefront's footer."""
    limits = {"address": PICKUP_ADDRESS_MAX, "returns_policy": POLICY_MAX, "delivery_policy": POLICY_MAX}
    for name, limit in limits.items():
        text = getattr(change, name)
        if text is None:
            continue
        text = normalise_text(text)
        if len(text) > limit:
            errors[name] = f"Keep this to {limit:,} characters."
        values[name] = text


def _check_receipt(change: SettingsChange, values: dict, errors: dict) -> None:
    """The tax number and closing words a payment receipt prints."""
    if change.receipt_tax_number is not None:
        tax_number = " ".join(change.receipt_tax_number.split())
        if len(tax_number) > RECEIPT_TAX_NUMBER_MAX:
            errors["receipt_tax_number"] = f"Keep the tax number to {RECEIPT_TAX_NUMBER_MAX} characters."
        values["receipt_tax_number"] = tax_number
    if change.receipt_footer is not None:
        footer = normalise_text(change.receipt_footer)
        if len(footer) > RECEIPT_FOOTER_MAX:
            errors["receipt_footer"] = f"Keep this to {RECEIPT_FOOTER_MAX:,} characters."
        values["receipt_footer"] = footer


def _check_delivery_time(change: SettingsChange, values: dict, errors: dict) -> None:
    """The days promised at confirmation (0 to 0: no promise) and the areas that differ."""
    for name in ("delivery_days_min", "delivery_days_max"):
        value = getattr(change, name)
        if value is None:
            continue
        if problem := _check_range(value, (0, DELIVERY_DAYS_MAX), "Days"):
            errors[name] = problem
        values[name] = value
    low, high = values.get("delivery_days_min"), values.get("delivery_days_max")
    checked = low is not None and high is not None and not errors.keys() & {"delivery_days_min", "delivery_days_max"}
    if checked and low > high:
        errors["delivery_days_max"] = "The longest delivery time can't be shorter than the shortest."
    if change.delivery_area_days is not None:
        text = normalise_text(change.delivery_area_days)
        try:
            parse_area_days(text)
        except InvalidAreaDays as error:
            errors["delivery_area_days"] = error.message
        values["delivery_area_days"] = text


def _check_range(value: int | None, bounds: tuple[int, int], what: str) -> str | None:
    low, high = bounds
    if value is None or not low <= value <= high:
        return f"{what} must be a whole number from {low} to {high}."
    return None


def _validated_values(change: SettingsChange, current_texts: dict) -> dict:
    """The column values for `change`, or InvalidSettings listing every problem at once."""
    errors: dict[str, str] = {}
    values: dict = {}

    name = change.name.strip()
    if not name or len(name) > NAME_MAX:
        errors["name"] = f"Give the shop a name of at most {NAME_MAX} characters."
    values["name"] = name
    tagline = change.tagline.strip()
    if len(tagline) > TAGLINE_MAX:
        errors["tagline"] = f"Keep the tagline to {TAGLINE_MAX} characters."
    values["tagline"] = tagline
    logo_url = change.logo_url.strip()
    if problem := _check_image_url(logo_url):
        errors["logo_url"] = problem
    values["logo_url"] = logo_url

    region = change.default_region.strip().upper()
    if not is_known_region(region):
        errors["default_region"] = "Use a two-letter country code phone numbers know, like IN, KE or GB."
    values["default_region"] = region
    try:
        # With an unknown region only international (+…) numbers can be read; that error is shown above.
        values["whatsapp_number"] = normalise_business_phone(
            change.whatsapp_number, region if is_known_region(region) else ""
        )
    except InvalidPhone as error:
        errors["whatsapp_number"] = str(error)

    currency = change.currency.strip().upper()
    if not is_known_currency(currency):
        errors["currency"] = "Use a three-letter ISO 4217 currency code, like INR, KES or USD."
    values["currency"] = currency
    try:
        values["locale"] = normalise_locale(change.locale)
    except ValueError:
        errors["locale"] = "Use a language and country code Babel knows, like en_IN, sw_KE or en_GB."

    if change.time_zone is not None:
        try:
            values["time_zone"] = normalise_time_zone(change.time_zone) if change.time_zone.strip() else ""
        except UnknownTimeZone:
            errors["time_zone"] = "Use a time zone name like Asia/Kolkata, Africa/Nairobi or Europe/London."

    if is_known_currency(currency):
        locale = values.get("locale", "en")  # amounts are read as the shop's (new) locale writes them
        try:
            values["delivery_fee_minor"] = parse_amount(change.delivery_fee, currency, locale)
        except InvalidAmount as error:
            errors["delivery_fee"] = error.message
        try:
            threshold = change.free_delivery_threshold.strip()
            values["free_delivery_threshold_minor"] = parse_amount(threshold, currency, locale) if threshold else None
        except InvalidAmount as error:
            errors["free_delivery_threshold"] = error.message

    pickup_address = change.pickup_address.strip()
    if change.pickup_enabled and not pickup_address:
        errors["pickup_address"] = "Give the pickup address, or turn pickup off."
    elif len(pickup_address) > PICKUP_ADDRESS_MAX:
        errors["pickup_address"] = f"Keep the address to {PICKUP_ADDRESS_MAX} characters."
    values["pickup_enabled"] = bool(change.pickup_enabled)
    if change.address_change_needs_approval is not None:
        values["address_change_needs_approval"] = bool(change.address_change_needs_approval)
    values["pickup_address"] = pickup_address

    if problem := _check_range(change.reservation_hours, RESERVATION_HOURS, "Reservation time"):
        errors["reservation_hours"] = problem
    values["reservation_hours"] = change.reservation_hours
    if problem := _check_range(change.low_stock_threshold, LOW_STOCK_THRESHOLD, "The low-stock threshold"):
        errors["low_stock_threshold"] = problem
    values["low_stock_threshold"] = change.low_stock_threshold
    if change.max_pending_units_per_phone is not None:
        if problem := _check_range(
            change.max_pending_units_per_phone, MAX_PENDING_UNITS_PER_PHONE, "The most items one number may hold"
        ):
            errors["max_pending_units_per_phone"] = problem
        values["max_pending_units_per_phone"] = change.max_pending_units_per_phone
    _validate_integrations(change, region if is_known_region(region) else "", values, errors)
    _check_reminders(change, values, errors)
    _check_footer(change, values, errors)
    _check_receipt(change, values, errors)
    _check_delivery_time(change, values, errors)
    _check_follow_up(change, values, errors)
    if change.return_window_days is not None:
        if problem := _check_range(change.return_window_days, RETURN_WINDOW_DAYS, "The return window"):
            errors["return_window_days"] = problem
        values["return_window_days"] = change.return_window_days
    if change.silent_statuses is not None:
        values["silent_statuses"] = [key for key in SWITCHABLE_STATUS_MESSAGES if key in change.silent_statuses]

    methods = [method for method in PAYMENT_METHOD_LABELS if method in change.payment_methods]
    if not methods or len(methods) != len(set(change.payment_methods)):
        errors["payment_methods"] = "Offer at least one of the payment methods listed."
    values["payment_methods"] = methods

    message_errors: dict[str, str] = {}
    values["message_texts"] = _changed_texts(change.message_texts, current_texts, message_errors)

    if errors or message_errors:
        raise InvalidSettings(errors, message_errors)
    return values


REMINDER_HOURS = (1, 72)
STAFF_ALERT_NUMBERS_MAX = 5
WEBHOOK_SECRET_MIN = 16


def _validate_integrations(change: SettingsChange, region: str, values: dict, errors: dict) -> None:
    """The confirmation reminder, staff alert numbers and the shop's outbound webhook."""
    if change.reminder_hours is not None:
        if problem := _check_range(change.reminder_hours, REMINDER_HOURS, "The reminder time"):
            errors["reminder_hours"] = problem
        values["reminder_hours"] = change.reminder_hours
    if change.staff_alert_numbers is not None:
        lines = [line.strip() for line in change.staff_alert_numbers.splitlines() if line.strip()]
        numbers = []
        for line in lines:
            try:
                numbers.append(normalise_phone(line, region))
            except InvalidPhone as error:
                errors["staff_alert_numbers"] = f"{line}: {error}"
        if len(numbers) > STAFF_ALERT_NUMBERS_MAX:
            errors["staff_alert_numbers"] = f"At most {STAFF_ALERT_NUMBERS_MAX} numbers."
        values["staff_alert_numbers"] = list(dict.fromkeys(numbers))
    if change.webhook_url is not None:
        url = change.webhook_url.strip()
        secret = (change.webhook_secret or "").strip()
        if problem := _check_url(url):
            errors["webhook_url"] = problem
        if url and len(secret) < WEBHOOK_SECRET_MIN:
            errors["webhook_secret"] = f"Use a secret of at least {WEBHOOK_SECRET_MIN} characters to sign the webhooks."
        values["webhook_url"], values["webhook_secret"] = url, secret if url else ""


CONSENT_WORDING_MAX = 300
CART_RECOVERY_HOURS = (1, 72)
CART_EXPIRY_DAYS = (1, 365)


def _check_reminders(change: SettingsChange, values: dict, errors: dict) -> None:
    """The consent checkbox's words, the cart recovery delay and the quiet hours."""
    if change.consent_wording is not None:
        wording = " ".join(normalise_text(change.consent_wording).split()) or DEFAULT_CONSENT_WORDING
        if len(wording) > CONSENT_WORDING_MAX:
            errors["consent_wording"] = f"Keep the wording to {CONSENT_WORDING_MAX} characters."
        values["consent_wording"] = wording
    if change.consent_ticked_by_default is not None:
        values["consent_ticked_by_default"] = bool(change.consent_ticked_by_default)
    if change.cart_recovery_hours is not None:
        if problem := _check_range(change.cart_recovery_hours, CART_RECOVERY_HOURS, "The cart reminder time"):
            errors["cart_recovery_hours"] = problem
        values["cart_recovery_hours"] = change.cart_recovery_hours
    if change.cart_expiry_days is not None:
        if problem := _check_range(change.cart_expiry_days, CART_EXPIRY_DAYS, "How long carts are kept"):
            errors["cart_expiry_days"] = problem
        values["cart_expiry_days"] = change.cart_expiry_days
    if change.quiet_hours_start is None and change.quiet_hours_end is None:
        return
    ends = {"quiet_hours_start": change.quiet_hours_start or "", "quiet_hours_end": change.quiet_hours_end or ""}
    for name, text in ends.items():
        try:
            values[name] = parse_clock(text).strftime("%H:%M") if text.strip() else ""
        except InvalidClockTime:
            errors[name] = "Give a time on the 24-hour clock, like 22:00 or 08:30, or leave both empty."
    if not errors.keys() & ends.keys():
        start, end = values["quiet_hours_start"], values["quiet_hours_end"]
        if bool(start) != bool(end):
            errors["quiet_hours_end" if start else "quiet_hours_start"] = "Give both ends, or leave both empty."
        elif start and start == end:
            errors["quiet_hours_end"] = "The quiet hours must end at another time than they start."


FOLLOW_UP_DAYS = (3, 7)


def _check_follow_up(change: SettingsChange, values: dict, errors: dict) -> None:
    """Off (0), or 3 to 7 days: sooner the parcel has barely been opened, later the customer has moved on."""
    if change.follow_up_after_days is None:
        return
    days = change.follow_up_after_days
    if days != 0 and _check_range(days, FOLLOW_UP_DAYS, "The follow-up"):
        errors["follow_up_after_days"] = f"Choose off, or {FOLLOW_UP_DAYS[0]} to {FOLLOW_UP_DAYS[1]} days."
    values["follow_up_after_days"] = days


def _changed_texts(submitted: dict[str, str], current: dict, message_errors: dict[str, str]) -> dict:
    """The texts to store: only those that differ from the default. Keys we don't manage are kept."""
    stored = {key: text for key, text in (current or {}).items() if key not in MESSAGE_PLACEHOLDERS}
    for key in MESSAGE_KEYS:
        if key not in submitted:  # not part of this change: keep what was there
            if key in (current or {}):
                stored[key] = current[key]
            continue
        text = normalise_text(submitted[key])
        if not text or text == DEFAULT_MESSAGE_TEXTS[key]:
            continue
        try:
            check_message_text(key, text)
        except InvalidMessageText as error:
            message_errors[key] = error.message
        stored[key] = text
    return stored


def check_settings_change(change: SettingsChange) -> None:
    """Raise InvalidSettings listing every problem with `change`; writes nothing."""
    _validated_values(change, {})


def update_store_settings(change: SettingsChange) -> StoreSettings:
    """Check `change` and write it in one transaction; raises InvalidSettings and writes nothing if refused."""
    return save_store_settings(lambda settings: _validated_values(change, settings.message_texts))


def editable_values(settings: StoreSettings) -> dict:
    """The settings as the form shows them: amounts as decimals, every message text in its current wording."""
    return {
        "name": settings.name,
        "tagline": settings.tagline,
        "logo_url": settings.logo_url,
        "whatsapp_number": settings.whatsapp_number,
        "currency": settings.currency,
        "locale": settings.locale,
        "default_region": settings.default_region,
        "time_zone": settings.zone_name,
        "delivery_fee": format_amount(settings.delivery_fee_minor, settings.currency, settings.locale),
        "free_delivery_threshold": format_amount(
            settings.free_delivery_threshold_minor, settings.currency, settings.locale
        ),
        "pickup_enabled": settings.pickup_enabled,
        "pickup_address": settings.pickup_address,
        "address": settings.address,
        "returns_policy": settings.returns_policy,
        "receipt_tax_number": settings.receipt_tax_number,
        "receipt_footer": settings.receipt_footer,
        "delivery_policy": settings.delivery_policy,
        "reservation_hours": settings.reservation_hours,
        "low_stock_threshold": settings.low_stock_threshold,
        "max_pending_units_per_phone": settings.max_pending_units_per_phone,
        "payment_methods": list(settings.payment_methods),
        "message_texts": {key: message_text(key, settings) for key in MESSAGE_KEYS},
        "reminder_hours": settings.reminder_hours,
        "consent_wording": settings.consent_wording,
        "consent_ticked_by_default": settings.consent_ticked_by_default,
        "cart_recovery_hours": settings.cart_recovery_hours,
        "cart_expiry_days": settings.cart_expiry_days,
        "quiet_hours_start": settings.quiet_hours_start,
        "quiet_hours_end": settings.quiet_hours_end,
        "staff_alert_numbers": "\n".join(settings.staff_alert_numbers or []),
        "webhook_url": settings.webhook_url,
        "webhook_secret": settings.webhook_secret,
        "delivery_days_min": settings.delivery_days_min,
        "delivery_days_max": settings.delivery_days_max,
        "delivery_area_days": settings.delivery_area_days,
        "address_change_needs_approval": settings.address_change_needs_approval,
        "silent_statuses": list(settings.silent_statuses or []),
        "follow_up_after_days": settings.follow_up_after_days,
        "return_window_days": settings.return_window_days,
    }
