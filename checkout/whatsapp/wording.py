"""What the shop's WhatsApp messages say: the texts the shop can edit, their placeholders, and rendering.

Message texts are small templates with named placeholders in braces, e.g.
"Hi {customer_name}, your order {reference} is confirmed." Literal braces are written doubled ({{ and }}).
Only the placeholders listed for a text in MESSAGE_PLACEHOLDERS may appear in it; anything else (an unknown
name, positional `{}`, attribute access, format specs, an unbalanced brace) is refused with InvalidMessageText
when the text is saved (checkout/shop/settings.py), so sending a message never fails on a shop's typo.

Public API used by the message builders (keep it stable):

    render_message_text(key, settings, **values) -> str
        The shop's text for `key` (its own wording, or DEFAULT_MESSAGE_TEXTS[key]) with the values filled in.
    order_message_values(order, settings, status_url=..., reason=...) -> dict
        The placeholder values for one order, ready to pass as **values.
"""

import string
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from checkout.dates import format_day, format_window, zone
from checkout.models.orders import Order
from checkout.models.store import StoreSettings
from checkout.money import format_money, to_minor

MESSAGE_TEXT_MAX = 1000  # WhatsApp template bodies allow 1,024 characters; leave room for the values

_COMMON = ("customer_name", "reference", "store_name", "status_url", "total")
_TRACKING = ("carrier", "tracking_number", "tracking_url", "expected_delivery")
# When the parcel comes and who brings it: "today 2:00 pm–5:00 pm", "Ravi", "+919812345678".
_DOORSTEP = ("delivery_window", "agent_name", "agent_phone")
# Where the customer's money stands; each is empty when it doesn't apply, so its line drops out.
_MONEY = ("paid_in_full", "balance_due")

MESSAGE_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "handoff_greeting": _COMMON,
    "confirmed": _COMMON + ("expected_delivery",),
    "preparing": _COMMON,
    "shipped": _COMMON + _TRACKING + _DOORSTEP,
    "out_for_delivery": _COMMON + _TRACKING + _DOORSTEP,
    "ready_for_pickup": _COMMON + ("pickup_address",),
    "delivered": _COMMON + _MONEY,
    "cancelled": _COMMON + ("reason", "refunded", "amount_held"),
    "payment_received": _COMMON + ("payment_amount",) + _MONEY,
    "refund_issued": _COMMON + ("refund_amount", "refund_timing"),
}
MESSAGE_KEYS: tuple[str, ...] = tuple(MESSAGE_PLACEHOLDERS)
# The status messages a shop may switch off (the status changes all the same). "confirmed" and "cancelled" always
# go: the first is the customer's only word that the order stands (with its link and expected date), the second
# that it doesn't (and what happens to money paid).
SWITCHABLE_STATUS_MESSAGES: tuple[str, ...] = (
    "preparing",
    "shipped",
    "out_for_delivery",
    "ready_for_pickup",
    "delivered",
)

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
    "refund_issued": "Refund issued",
}

DEFAULT_MESSAGE_TEXTS: dict[str, str] = {
    "handoff_greeting": "Hello {store_name}! I'd like to place this order.",
    "confirmed": (
        "Hi {customer_name}, your order {reference} from {store_name} is confirmed. Total: {total}.\n"
        "Expected delivery: {expected_delivery}\n"
        "Follow your order here: {status_url}"
    ),
    "preparing": "Hi {customer_name}, we're preparing your order {reference}.\nOrder status: {status_url}",
    "shipped": (
        "Good news, {customer_name}! Your order {reference} is on its way.\n"
        "Carrier: {carrier}\n"
        "Tracking number: {tracking_number}\n"
        "Track the parcel: {tracking_url}\n"
        "Expected delivery: {expected_delivery}\n"
        "Delivery window: {delivery_window}\n"
        "Delivered by: {agent_name} {agent_phone}\n"
        "Order status: {status_url}"
    ),
    "out_for_delivery": (
        "Hi {customer_name}, your order {reference} is out for delivery. Please keep your phone nearby.\n"
        "Arriving: {delivery_window}\n"
        "Your delivery agent: {agent_name} {agent_phone}\n"
        "Tracking number: {tracking_number}\n"
        "Order status: {status_url}"
    ),
    "ready_for_pickup": (
        "Hi {customer_name}, your order {reference} is ready for pickup.\n"
        "Pickup address: {pickup_address}\n"
        "Order status: {status_url}"
    ),
    "delivered": (
        "Hi {customer_name}, your order {reference} has been delivered. Thank you for shopping with {store_name}!\n"
        "Paid in full: {paid_in_full}\n"
        "Still to pay: {balance_due}"
    ),
    "cancelled": (
        "Hi {customer_name}, we're sorry: your order {reference} has been cancelled.\n"
        "Reason: {reason}\n"
        "We have refunded {refunded} to you.\n"
        "We still hold the {amount_held} you paid and will contact you about returning it.\n"
        "Reply to this message if you have any questions."
    ),
    "payment_received": (
        "Thank you, {customer_name}! We've received {payment_amount} for order {reference}.\n"
        "Still to pay: {balance_due}\n"
        "Your order is paid in full ({paid_in_full}).\n"
        "Order status: {status_url}"
    ),
    "refund_issued": (
        "Hi {customer_name}, we have refunded {refund_amount} for your order {reference}.\n"
        "It should reach you within {refund_timing}.\n"
        "Order status: {status_url}"
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


@dataclass(frozen=True)
class MoneyPosition:
    """Where the customer's money on an order stands, in minor units of the order's currency."""

    paid: int
    balance: int
    refunded: int

    @property
    def paid_in_full(self) -> bool:
        return self.paid > 0 and self.balance == 0


def money_position(order: Order) -> MoneyPosition:
    """What the customer paid (less refunds), still owes, and got back."""
    return MoneyPosition(
        paid=order.amount_paid_minor or 0, balance=order.balance_minor, refunded=order.amount_refunded_minor or 0
    )


def total_with_code(order: Order, settings: StoreSettings) -> str:
    """The order's total as messages say it: "₹1,488.20", or "₹1,488.20 with code WELCOME10" (one line)."""
    total = format_money(order.total_minor, order.currency, settings.locale)
    return f"{total} with code {order.coupon_code}" if order.coupon_code else total


def order_message_values(
    order: Order,
    settings: StoreSettings,
    *,
    status_url: str,
    reason: str = "",
    payment_amount_minor: int = 0,
    refund_amount_minor: int = 0,
    refund_timing: str = "",
    now: datetime | None = None,
) -> dict:
    """The placeholder values for `order`, to pass to render_message_text as **values.

    The money values are empty when they don't apply (nothing refunded, nothing due), so their lines drop out.
    The delivery window is said from `now` (the message's moment: "today 2:00 pm–5:00 pm").
    """
    money = money_position(order)

    def amount(minor: int) -> str:
        return format_money(minor, order.currency, settings.locale) if minor > 0 else ""

    cancelled = order.status == "cancelled"
    return {
        "payment_amount": amount(payment_amount_minor),
        "refund_amount": amount(refund_amount_minor),
        "refund_timing": refund_timing,
        "paid_in_full": amount(money.paid) if money.paid_in_full and not cancelled else "",
        "balance_due": amount(money.balance) if not cancelled else "",
        "refunded": amount(money.refunded) if cancelled else "",
        "amount_held": amount(money.paid) if cancelled else "",
        "customer_name": order.customer_name,
        "reference": order.reference,
        "store_name": settings.name,
        "status_url": status_url,
        "total": total_with_code(order, settings),
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "tracking_url": order.tracking_url,
        "expected_delivery": format_day(order.expected_delivery_date, settings.locale),
        "delivery_window": format_window(
            order.delivery_window_start,
            order.delivery_window_end,
            settings.zone_name,
            settings.locale,
            now or datetime.now(UTC),
        ),
        "agent_name": order.delivery_agent_name or "",
        "agent_phone": order.delivery_agent_phone or "",
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
        amount_paid_minor=to_minor("500", settings.currency),
        carrier="Blue Dart",
        tracking_number="BD123456789IN",
        tracking_url="https://track.example.com/BD123456789IN",
        expected_delivery_date=date.today() + timedelta(days=3),
        delivery_window_start=_sample_window_start(settings),
        delivery_window_end=_sample_window_start(settings) + timedelta(hours=3),
        delivery_agent_name="Ravi",
        delivery_agent_phone="+919812345678",
    )


def _sample_window_start(settings: StoreSettings) -> datetime:
    """2 pm today in the shop's zone, for previews."""
    today = datetime.now(UTC).astimezone(zone(settings.zone_name))
    return today.replace(hour=14, minute=0, second=0, microsecond=0)


def preview_message_text(key: str, text: str, settings: StoreSettings, *, status_url: str) -> str:
    """`text` as message `key` would read for a sample order; an empty text previews the default."""
    values = order_message_values(
        sample_order(settings),
        settings,
        status_url=status_url,
        reason="The item you ordered is out of stock.",
        payment_amount_minor=to_minor("500", settings.currency),
        refund_amount_minor=to_minor("200", settings.currency),
        refund_timing="5–10 business days",
    )
    text = normalise_text(text)
    return render_text(key, text or DEFAULT_MESSAGE_TEXTS[key], **values)


def normalise_text(text: str) -> str:
    """A typed text as it is kept: every line break a plain newline, no blank space around it."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
