"""An order's delivery details: the expected date, the window the parcel should arrive in, and who brings it.

Staff set them with the fulfilment edit (checkout/orders/desk.py); a courier's update sets them through
`set_delivery_details`. Both check the values here and write the one "fulfilment" timeline event, so a window or
a phone number reaches the order the same way whoever gave it.
"""

import re
from datetime import UTC, date, datetime, time, timedelta

from checkout.dates import format_day, format_window, local, zone
from checkout.models.orders import Order
from checkout.models.store import get_store_settings
from checkout.orders.errors import InvalidFulfilment
from checkout.orders.lifecycle import record_event
from checkout.phones import InvalidPhone, normalise_phone
from checkout.unicode_safety import strip_bidi_controls

AGENT_NAME_MAX = 80  # the column's size
# A window says when to be home: longer than a day says nothing a date doesn't.
WINDOW_LONGEST = timedelta(hours=24)
DELIVERY_FIELDS = (
    "carrier",
    "tracking_number",
    "tracking_url",
    "expected_delivery_date",
    "delivery_window_start",
    "delivery_window_end",
    "delivery_agent_name",
    "delivery_agent_phone",
)


def window_from_local(day: date | None, start: time | None, end: time | None, zone_name: str):
    """A window typed as a day and two clock times in the shop's zone → (start, end) in UTC; all empty → (None, None)."""
    if day is None and start is None and end is None:
        return None, None
    if day is None or start is None or end is None:
        raise InvalidFulfilment(
            "delivery_window", "Give the day and both times of the window, or leave all three empty."
        )
    shop = zone(zone_name)
    return checked_window(datetime.combine(day, start, tzinfo=shop), datetime.combine(day, end, tzinfo=shop))


_CLOCK_SPAN = re.compile(
    r"(?:(\d{4}-\d{2}-\d{2})|(today|tomorrow))?[ T,]*(\d{1,2}:\d{2})\s*(?:-|–|—|to)\s*(\d{1,2}:\d{2})", re.IGNORECASE
)
_MOMENT_SPAN = re.compile(r"(\S+?)\s*(?:/|\s–\s|\s-\s|\sto\s)\s*(\S+)")


def window_from_text(text: str, zone_name: str, now: datetime) -> tuple[datetime, datetime] | None:
    """A window as a courier writes it → (start, end) in UTC, or None when it can't be read (keep it as a note).

    '14:00-17:00' or 'today 14:00–17:00' (in the shop's zone, from `now`; 'tomorrow' too), '2026-12-02 14:00–17:00',
    or two ISO 8601 moments
    with their offsets: '2026-12-02T14:00+05:30/2026-12-02T17:00+05:30'.
    """
    text = (text or "").strip()
    try:
        if found := _CLOCK_SPAN.fullmatch(text):
            day = date.fromisoformat(found.group(1)) if found.group(1) else local(now, zone_name).date()
            if (found.group(2) or "").lower() == "tomorrow":
                day += timedelta(days=1)
            start, end = (time.fromisoformat(found.group(n).zfill(5)) for n in (3, 4))
            return window_from_local(day, start, end, zone_name)
        if found := _MOMENT_SPAN.fullmatch(text):
            start, end = (datetime.fromisoformat(found.group(n)) for n in (1, 2))
            return checked_window(start, end)
    except (ValueError, InvalidFulfilment):
        return None
    return None


def window_in_shop(order: Order, zone_name: str) -> tuple[date | None, time | None, time | None]:
    """The order's window as the form shows it: the day and the two clock times in the shop's zone."""
    if order.delivery_window_start is None or order.delivery_window_end is None:
        return None, None, None
    start, end = local(order.delivery_window_start, zone_name), local(order.delivery_window_end, zone_name)
    return start.date(), start.time().replace(tzinfo=None), end.time().replace(tzinfo=None)


def checked_window(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    """Both ends or neither, aware, in order and at most a day apart; returned in UTC."""
    if start is None and end is None:
        return None, None
    if start is None or end is None:
        raise InvalidFulfilment("delivery_window", "Give both ends of the delivery window, or neither.")
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidFulfilment("delivery_window", "The delivery window needs its time zone.")
    if end <= start:
        raise InvalidFulfilment("delivery_window", "The delivery window must end after it starts.")
    if end - start > WINDOW_LONGEST:
        raise InvalidFulfilment("delivery_window", "Keep the delivery window to at most a day.")
    return start.astimezone(UTC), end.astimezone(UTC)


def checked_agent_name(name: str) -> str:
    name = " ".join(strip_bidi_controls(name or "").split())
    if len(name) > AGENT_NAME_MAX:
        raise InvalidFulfilment("delivery_agent_name", f"At most {AGENT_NAME_MAX} characters.")
    return name


def checked_agent_phone(phone: str, region: str) -> str:
    """The agent's number as the customer can call or WhatsApp it (E.164); empty stays empty."""
    if not (phone or "").strip():
        return ""
    try:
        return normalise_phone(phone, region)
    except InvalidPhone as error:
        raise InvalidFulfilment("delivery_agent_phone", f"Delivery agent's phone: {error}") from None


def apply_delivery_changes(order: Order, values: dict, *, actor: str, staff_user_id: int | None = None) -> list[str]:
    """Write the checked `values` (DELIVERY_FIELDS names) that differ and record one "fulfilment" event saying what.

    The caller checked every value first, holds the order's lock and commits.
    """
    changed = [name for name, value in values.items() if getattr(order, name) != value]
    for name in changed:
        setattr(order, name, values[name])
    if changed:
        record_event(order, "fulfilment", actor, note=_summary(order, changed), staff_user_id=staff_user_id)
    return changed


def _summary(order: Order, changed: list[str]) -> str:
    settings = get_store_settings()
    parts = []
    for name in changed:
        if name == "delivery_window_end" and "delivery_window_start" in changed:
            continue
        if name in ("delivery_window_start", "delivery_window_end"):
            shown = window_text(order, settings.zone_name, settings.locale)
            parts.append(f"delivery window: {shown or '—'}")
        elif name == "expected_delivery_date":
            parts.append(f"expected delivery date: {format_day(order.expected_delivery_date) or '—'}")
        else:
            parts.append(f"{name.replace('_', ' ')}: {getattr(order, name) or '—'}")
    return ", ".join(parts)


def window_text(order: Order, zone_name: str, locale: str, now: datetime | None = None) -> str:
    """The order's window as people read it ('today 2:00 pm–5:00 pm' with `now`); '' when there is none."""
    return format_window(order.delivery_window_start, order.delivery_window_end, zone_name, locale, now)


def agent_text(order: Order) -> str:
    """'Ravi (+919812345678)', 'Ravi', '+919812345678' or ''."""
    name, phone = order.delivery_agent_name or "", order.delivery_agent_phone or ""
    return f"{name} ({phone})" if name and phone else name or phone


def set_delivery_details(
    order: Order,
    *,
    expected_date: date | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    agent_name: str | None = None,
    agent_phone: str | None = None,
    actor: str,
    staff_user_id: int | None = None,
) -> list[str]:
    """Set the delivery details given (None: leave that one as it is), e.g. from a courier's "out for delivery".

    Every value is checked before anything is written (InvalidFulfilment names the field); a window comes with both
    ends. The caller holds the order's lock in its own transaction and commits. Returns the fields that changed;
    a change is one "fulfilment" timeline event by `actor`.
    """
    values: dict = {}
    if expected_date is not None:
        values["expected_delivery_date"] = expected_date
    if window_start is not None or window_end is not None:
        values["delivery_window_start"], values["delivery_window_end"] = checked_window(window_start, window_end)
    if agent_name is not None:
        values["delivery_agent_name"] = checked_agent_name(agent_name)
    if agent_phone is not None:
        values["delivery_agent_phone"] = checked_agent_phone(agent_phone, get_store_settings().default_region)
    return apply_delivery_changes(order, values, actor=actor, staff_user_id=staff_user_id)
