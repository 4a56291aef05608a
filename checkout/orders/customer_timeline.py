"""What the customer may see of an order's timeline: the one place that decides it.

The timeline (OrderEvent) holds everything that happened to an order, staff notes, assignments and
number mismatches included. The public status page and the public status API show only what this
module returns: the order placed, each status it reached (shipped with carrier, tracking and expected
date; cancelled with its reason) and payments received. Any other kind of event, including kinds added
later, stays internal unless it is added here on purpose.
"""

from dataclasses import dataclass
from datetime import date, datetime

from checkout.dates import format_day, format_window
from checkout.models.orders import Order, OrderEvent
from checkout.orders.lifecycle import OrderStatus

# While the order is in one of these, the status page shows the parcel's details at the top.
PARCEL_STATUSES = frozenset(
    {OrderStatus.SHIPPED, OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELIVERY_FAILED, OrderStatus.RESCHEDULED}
)
# Before that, once confirmed, it shows the date the shop promised (or staff set).
PROMISE_STATUSES = frozenset({OrderStatus.CONFIRMED, OrderStatus.PREPARING})


@dataclass(frozen=True)
class ParcelDetails:
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    expected_delivery_date: date | None = None
    expected_delivery_display: str = ""
    delivery_window_display: str = ""  # "today 2:00 pm–5:00 pm", in the shop's zone
    agent_name: str = ""
    agent_phone: str = ""

    def __bool__(self) -> bool:
        return bool(
            self.carrier
            or self.tracking_number
            or self.tracking_url
            or self.expected_delivery_date
            or self.delivery_window_display
            or self.agent_name
            or self.agent_phone
        )


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the customer's timeline. `kind` is placed, status or payment; `status` is set for status."""

    at: datetime
    kind: str
    title: str
    status: str | None = None
    reason: str = ""
    parcel: ParcelDetails | None = None


def parcel_details(
    order: Order, locale: str = "en", zone_name: str = "UTC", now: datetime | None = None
) -> ParcelDetails:
    """The order's carrier, tracking, expected date, window and agent as the customer sees them (empty when none
    is set); the window said from `now` ("today …") in the shop's zone."""
    return ParcelDetails(
        carrier=order.carrier or "",
        tracking_number=order.tracking_number or "",
        tracking_url=order.tracking_url or "",
        expected_delivery_date=order.expected_delivery_date,
        expected_delivery_display=format_day(order.expected_delivery_date, locale),
        delivery_window_display=format_window(
            order.delivery_window_start, order.delivery_window_end, zone_name, locale, now
        ),
        agent_name=order.delivery_agent_name or "",
        agent_phone=order.delivery_agent_phone or "",
    )


def parcel_on_the_way(
    order: Order, locale: str = "en", zone_name: str = "UTC", now: datetime | None = None
) -> ParcelDetails | None:
    """The parcel's details while it is on its way (shipped, out for delivery) and staff gave some; else None."""
    if order.fulfilment != "delivery" or order.status not in PARCEL_STATUSES:
        return None
    return parcel_details(order, locale, zone_name, now) or None


def promised_delivery(order: Order, locale: str = "en") -> str:
    """The expected delivery date while a confirmed delivery is being readied ('4 Dec 2026'); else ''."""
    if order.fulfilment != "delivery" or order.status not in PROMISE_STATUSES:
        return ""
    return format_day(order.expected_delivery_date, locale)


def _status_entry(order: Order, event: OrderEvent, locale: str) -> TimelineEntry | None:
    try:
        status = OrderStatus(event.to_status)
    except ValueError:
        return None  # a status this version doesn't know: better left out than shown wrong
    reason = event.note if status is OrderStatus.CANCELLED else ""  # other status notes are for staff
    parcel = parcel_details(order, locale) if status is OrderStatus.SHIPPED else None
    return TimelineEntry(event.created_at, "status", status.label, status.value, reason, parcel or None)


def _entry(order: Order, event: OrderEvent, locale: str) -> TimelineEntry | None:
    if event.kind == "created":
        return TimelineEntry(event.created_at, "placed", "Order placed", OrderStatus.PENDING.value)
    if event.kind == "status":
        return _status_entry(order, event, locale)
    if event.kind == "payment":
        return TimelineEntry(event.created_at, "payment", "Payment received")
    return None  # notes, assignments, mismatches, fulfilment edits, refunds, messages: internal


def customer_timeline(order: Order, locale: str = "en") -> list[TimelineEntry]:
    """The customer-facing entries of the order's timeline, oldest first."""
    entries = (_entry(order, event, locale) for event in order.events)
    return [entry for entry in entries if entry is not None]
