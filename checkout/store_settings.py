"""The shop's settings: checking and applying a change, and the message texts the shop can edit.

Message texts are small templates with named placeholders in braces, e.g.
"Hi {customer_name}, your order {reference} is confirmed." Literal braces are written doubled ({{ and }}).
Only the placeholders listed for a text in MESSAGE_PLACEHOLDERS may appear in it; anything else (an unknown
name, positional `{}`, attribute access, format specs, an unbalanced brace) is refused with InvalidMessageText
when the text is saved, so sending a message never fails on a shop's typo.

Public API used by notifications (keep it stable):

    render_message_text(key, settings, **values) -> str
        The shop's text for `key` (its own wording, or DEFAULT_MESSAGE_TEXTS[key]) with the values filled in.
    order_message_values(order, settings, status_url=..., reason=...) -> dict
        The placeholder values for one order, ready to pass as **values.
"""

import re
import string
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlsplit

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies

from checkout.models.orders import Order
from checkout.models.store import PAYMENT_METHOD_LABELS, StoreSettings, save_store_settings
from checkout.money import format_money, from_minor, minor_digits, to_minor
from checkout.phones import InvalidPhone, normalise_phone

# ---------------------------------------------------------------------------------------------------------------
# Message texts
# ---------------------------------------------------------------------------------------------------------------

MESSAGE_TEXT_MAX = 1000  # WhatsApp template bodies allow 1,024 characters; leave room for the values

_COMMON = ("customer_name", "reference", "store_name", "status_url", "total")
_TRACKING = ("carrier", "tracking_number", "tracking_url")

MESSAGE_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "handoff_greeting": _COMMON,
    "confirmed": _COMMON,
    "preparing": _COMMON,
    "shipped": _COMMON + _TRACKING,
    "out_for_delivery": _COMMON + _TRACKING,
    "ready_for_pickup": _COMMON + ("pickup_address",),
    "delivered": _COMMON,
    "cancelled": _COMMON + ("reason",),
    "payment_received": _COMMON,
}
MESSAGE_KEYS: tuple[str, ...] = tuple(MESSAGE_PLACEHOLDERS)

MESSAGE_LABELS = {
    "handoff_greeting": "Greeting at the top of the shopper's WhatsApp order",
    "confirmed": "Order confirmed",
    "preparing": "Order being prepared",
    "shipped": "Order shipped",
    "out_for_delivery": "Out for delivery",
    "ready_for_pickup": "Ready for pickup",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
    "payment_received": "Payment received",
}

DEFAULT_MESSAGE_TEXTS: dict[str, str] = {
    "handoff_greeting": "Hello {store_name}! I'd like to place this order.",
    "confirmed": (
        "Hi {customer_name}, your order {reference} from {store_name} is confirmed. Total: {total}.\n"
        "Follow your order here: {status_url}"
    ),
    "preparing": "Hi {customer_name}, we're preparing your order {reference}.\nOrder status: {status_url}",
    "shipped": (
        "Good news, {customer_name}! Your order {reference} is on its way.\n"
        "Carrier: {carrier}\n"
        "Tracking number: {tracking_number}\n"
        "Track the parcel: {tracking_url}\n"
        "Order status: {status_url}"
    ),
    "out_for_delivery": (
        "Hi {customer_name}, your order {reference} is out for delivery today. Please keep your phone nearby.\n"
        "Tracking number: {tracking_number}\n"
        "Order status: {status_url}"
    ),
    "ready_for_pickup": (
        "Hi {customer_name}, your order {reference} is ready for pickup.\n"
        "Pickup address: {pickup_address}\n"
        "Order status: {status_url}"
    ),
    "delivered": (
        "Hi {customer_name}, your order {reference} has been delivered. Thank you for shopping with {store_name}!"
    ),
    "cancelled": (
        "Hi {customer_name}, we're sorry: your order {reference} has been cancelled.\n"
        "Reason: {reason}\n"
        "Reply to this message if you have any questions."
    ),
    "payment_received": (
        "Thank you, {customer_name}! We've received your payment for order {reference}.\nOrder status: {status_url}"
    ),
}


class InvalidMessageText(ValueError):
    """A message text that cannot be used; `message` says why in words for the shop owner."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UnknownMessageKey(KeyError):
    """A message key that is not one of MESSAGE_KEYS: a programming error, not a shop's typo."""


def _placeholders_for(key: str) -> tuple[str, ...]:
    try:
        return MESSAGE_PLACEHOLDERS[key]
    except KeyError:
        raise UnknownMessageKey(key) from None


def _describe(names) -> str:
    return ", ".join("{" + name + "}" for name in names)


def _parse(key: str, text: str) -> list[tuple[str, str | None]]:
    """The text as (literal, placeholder or None) pieces; raises InvalidMessageText if it can't be used."""
    allowed = _placeholders_for(key)
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        raise InvalidMessageText(
            "A brace is not closed or not opened. Placeholders look like {customer_name}; "
            "write {{ or }} for a brace on its own."
        ) from None
    pieces = []
    for literal, name, format_spec, conversion in parsed:
        if name is None:
            pieces.append((literal, None))
            continue
        if format_spec or conversion:
            raise InvalidMessageText(f"Write placeholders plainly, like {{{name}}}, without extras.")
        if name not in allowed:
            shown = "{" + name + "}" if name.strip() else "{}"
            known_elsewhere = any(name in names for names in MESSAGE_PLACEHOLDERS.values())
            reason = "can't be used in this message" if known_elsewhere else "is not a placeholder we know"
            raise InvalidMessageText(f"{shown} {reason}. You can use: {_describe(allowed)}.")
        pieces.append((literal, name))
    return pieces


def check_message_text(key: str, text: str) -> None:
    """Raise InvalidMessageText unless `text` can be saved as the message `key`."""
    if not text.strip():
        raise InvalidMessageText("The message can't be empty.")
    if len(text) > MESSAGE_TEXT_MAX:
        raise InvalidMessageText(f"Keep the message to {MESSAGE_TEXT_MAX} characters (it has {len(text)}).")
    _parse(key, text)


def render_text(key: str, text: str, **values) -> str:
    """Fill the placeholders of `text` (checked as message `key`); raises InvalidMessageText.

    Missing values render as empty, and a line whose placeholders all came out empty is left out, so
    "Tracking number: {tracking_number}" disappears when there is no tracking number.
    """
    check_message_text(key, text)
    lines = []
    for line in text.split("\n"):
        pieces = _parse(key, line)
        filled = [(literal, _value(values, name)) for literal, name in pieces]
        placeholders = [value for (_, name), (_, value) in zip(pieces, filled, strict=True) if name is not None]
        if placeholders and not any(value.strip() for value in placeholders):
            continue
        lines.append("".join(literal + value for literal, value in filled))
    return "\n".join(lines)


def _value(values: dict, name: str | None) -> str:
    if name is None or values.get(name) is None:
        return ""
    return str(values[name])


def message_text(key: str, settings: StoreSettings) -> str:
    """The wording in use for `key`: the shop's own text if it saved one, else the default."""
    _placeholders_for(key)
    own = (settings.message_texts or {}).get(key)
    return own if isinstance(own, str) and own.strip() else DEFAULT_MESSAGE_TEXTS[key]


def render_message_text(key: str, settings: StoreSettings, **values) -> str:
    """The message `key` for this shop with `values` filled in (store_name and pickup_address are added).

    Never raises on the shop's text: one that no longer checks out (saved before a rule changed) falls back
    to the default wording. Raises UnknownMessageKey for a key that is not in MESSAGE_KEYS.
    """
    values = {"store_name": settings.name, "pickup_address": settings.pickup_address, **values}
    try:
        return render_text(key, message_text(key, settings), **values)
    except InvalidMessageText:
        return render_text(key, DEFAULT_MESSAGE_TEXTS[key], **values)


def order_message_values(order: Order, settings: StoreSettings, *, status_url: str, reason: str = "") -> dict:
    """The placeholder values for `order`, to pass to render_message_text as **values."""
    return {
        "customer_name": order.customer_name,
        "reference": order.reference,
        "store_name": settings.name,
        "status_url": status_url,
        "total": format_money(order.total_minor, order.currency, settings.locale),
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "tracking_url": order.tracking_url,
        "pickup_address": settings.pickup_address,
        "reason": reason,
    }


def sample_order(settings: StoreSettings) -> Order:
    """An order that is never saved, for previews of the message texts."""
    return Order(
        reference="7KQ2-M4XR",
        customer_name="Asha Kumar",
        currency=settings.currency,
        total_minor=to_minor("1499", settings.currency),
        carrier="Blue Dart",
        tracking_number="BD123456789IN",
        tracking_url="https://track.example.com/BD123456789IN",
    )


def preview_message_text(key: str, text: str, settings: StoreSettings, *, status_url: str) -> str:
    """`text` as message `key` would read for a sample order; an empty text previews the default."""
    values = order_message_values(
        sample_order(settings), settings, status_url=status_url, reason="The item you ordered is out of stock."
    )
    text = _normalise_text(text)
    return render_text(key, text or DEFAULT_MESSAGE_TEXTS[key], **values)


# ---------------------------------------------------------------------------------------------------------------
# Changing the settings
# ---------------------------------------------------------------------------------------------------------------

NAME_MAX = 80
TAGLINE_MAX = 160
LOGO_URL_MAX = 300
PICKUP_ADDRESS_MAX = 500
RESERVATION_HOURS = (1, 168)
LOW_STOCK_THRESHOLD = (0, 100_000)
MAX_AMOUNT_MINOR = 2_000_000_000  # stays inside a 32-bit integer column
_AMOUNT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,6})?", re.ASCII)
_LOCALE = re.compile(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8}){0,2}", re.ASCII)


class InvalidAmount(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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


class InvalidSettings(Exception):
    """The change was refused; nothing was written. `errors` and `message_errors` map a name to a reason."""

    def __init__(self, errors: dict[str, str], message_errors: dict[str, str]):
        super().__init__("The settings were not saved.")
        self.errors = errors
        self.message_errors = message_errors


def parse_amount_minor(text: str, currency: str) -> int:
    """'49.50' in INR → 4950. Digits and one decimal point only; raises InvalidAmount with a reason."""
    cleaned = (text or "").strip()
    if not _AMOUNT.fullmatch(cleaned):
        raise InvalidAmount("Enter an amount like 50 or 49.50: digits and a decimal point, no currency sign.")
    try:
        amount_minor = to_minor(Decimal(cleaned), currency)
    except ValueError:
        digits = minor_digits(currency)
        allowed = "no decimals" if digits == 0 else f"at most {digits} decimal{'s' if digits > 1 else ''}"
        raise InvalidAmount(f"{currency} amounts have {allowed}.") from None
    if amount_minor > MAX_AMOUNT_MINOR:
        raise InvalidAmount("That amount is too large.")
    return amount_minor


def format_amount(amount_minor: int | None, currency: str) -> str:
    """4950 in INR → '49.50': how an amount is shown in the form for editing."""
    return "" if amount_minor is None else str(from_minor(amount_minor, currency))


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
    if problem := _check_url(logo_url):
        errors["logo_url"] = problem
    values["logo_url"] = logo_url

    region = change.default_region.strip().upper()
    if not is_known_region(region):
        errors["default_region"] = "Use a two-letter country code phone numbers know, like IN, KE or GB."
    values["default_region"] = region
    try:
        # With an unknown region only international (+…) numbers can be read; that error is shown above.
        values["whatsapp_number"] = normalise_phone(change.whatsapp_number, region if is_known_region(region) else "")
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

    if is_known_currency(currency):
        try:
            values["delivery_fee_minor"] = parse_amount_minor(change.delivery_fee, currency)
        except InvalidAmount as error:
            errors["delivery_fee"] = error.message
        try:
            threshold = change.free_delivery_threshold.strip()
            values["free_delivery_threshold_minor"] = parse_amount_minor(threshold, currency) if threshold else None
        except InvalidAmount as error:
            errors["free_delivery_threshold"] = error.message

    pickup_address = change.pickup_address.strip()
    if change.pickup_enabled and not pickup_address:
        errors["pickup_address"] = "Give the pickup address, or turn pickup off."
    elif len(pickup_address) > PICKUP_ADDRESS_MAX:
        errors["pickup_address"] = f"Keep the address to {PICKUP_ADDRESS_MAX} characters."
    values["pickup_enabled"] = bool(change.pickup_enabled)
    values["pickup_address"] = pickup_address

    if problem := _check_range(change.reservation_hours, RESERVATION_HOURS, "Reservation time"):
        errors["reservation_hours"] = problem
    values["reservation_hours"] = change.reservation_hours
    if problem := _check_range(change.low_stock_threshold, LOW_STOCK_THRESHOLD, "The low-stock threshold"):
        errors["low_stock_threshold"] = problem
    values["low_stock_threshold"] = change.low_stock_threshold
    _validate_integrations(change, region if is_known_region(region) else "", values, errors)

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


def _normalise_text(text: str) -> str:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _changed_texts(submitted: dict[str, str], current: dict, message_errors: dict[str, str]) -> dict:
    """The texts to store: only those that differ from the default. Keys we don't manage are kept."""
    stored = {key: text for key, text in (current or {}).items() if key not in MESSAGE_PLACEHOLDERS}
    for key in MESSAGE_KEYS:
        if key not in submitted:  # not part of this change: keep what was there
            if key in (current or {}):
                stored[key] = current[key]
            continue
        text = _normalise_text(submitted[key])
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
        "delivery_fee": format_amount(settings.delivery_fee_minor, settings.currency),
        "free_delivery_threshold": format_amount(settings.free_delivery_threshold_minor, settings.currency),
        "pickup_enabled": settings.pickup_enabled,
        "pickup_address": settings.pickup_address,
        "reservation_hours": settings.reservation_hours,
        "low_stock_threshold": settings.low_stock_threshold,
        "payment_methods": list(settings.payment_methods),
        "message_texts": {key: message_text(key, settings) for key in MESSAGE_KEYS},
        "reminder_hours": settings.reminder_hours,
        "staff_alert_numbers": "\n".join(settings.staff_alert_numbers or []),
        "webhook_url": settings.webhook_url,
        "webhook_secret": settings.webhook_secret,
    }
