"""After a failed delivery: the customer's three choices, staff's decision on a new address, and the courier told.

    delivery_failed ──Deliver again + a day──▶ rescheduled (expected_delivery_date = that day)
    delivery_failed ──Change address + the text──▶ waits for staff (requested_address) ──approve──▶ rescheduled
                                                                                       └─reject──▶ stays failed
                     (the shop's address_change_needs_approval off: the new address is used at once)
    delivery_failed ──Cancel and return──▶ returning

Each choice is on the timeline, moves the order through the one state machine (lifecycle.py, whose status
change tells the customer), puts a line on the order's attention for staff, and is queued for the order's courier
when it takes actions (checkout/carriers/actions.py, through the outbox: never inside the request). Callers own
the transaction and have locked the order.
"""

from datetime import date, datetime, timedelta

from checkout import events
from checkout.carriers import actions
from checkout.dates import format_day, local_day
from checkout.models.orders import Order
from checkout.models.store import get_store_settings
from checkout.orders.errors import DeliveryChoiceRefused
from checkout.orders.lifecycle import OrderStatus, record_event, transition
from checkout.orders.validation import ADDRESS_MAX
from checkout.outbox import enqueue_carrier_action
from checkout.unicode_safety import strip_bidi_controls

DAYS_OFFERED = 3
CHOOSING = OrderStatus.DELIVERY_FAILED  # the one status the customer's choices apply to


class AddressRefused(DeliveryChoiceRefused):
    """A typed address that cannot be kept (empty or too long); the customer is asked again."""


def days_offered(now: datetime, zone_name: str) -> list[date]:
    """The next three days in the shop's time zone, tomorrow first (today's round has failed already)."""
    today = local_day(now, zone_name)
    return [today + timedelta(days=offset) for offset in range(1, DAYS_OFFERED + 1)]


def check_choosing(order: Order) -> None:
    if order.status != CHOOSING:
        label = OrderStatus(order.status).label.lower()
        raise DeliveryChoiceRefused(f"Order {order.reference} is {label} now, so that choice no longer applies.")


def _pass_on(order: Order, action: str, key: str, **data) -> None:
    payload = actions.action_payload(order, action, **data)
    if payload is not None:
        enqueue_carrier_action(payload, key=f"carrier-action:{order.id}:{key}")


def reschedule(order: Order, day: date, *, now: datetime, actor: str = "customer") -> None:
    """Deliver again on `day`, one of the days offered; the expected date is that day."""
    check_choosing(order)
    settings = get_store_settings()
    if day not in days_offered(now, settings.zone_name):
        raise DeliveryChoiceRefused("That day is no longer offered: please pick one of the next three days.")
    order.expected_delivery_date = day
    shown = format_day(day, settings.locale)
    order.attention = f"The customer asked to deliver again on {shown}"
    event = transition(order, OrderStatus.RESCHEDULED, actor=actor, note=f"Deliver again on {shown}")
    _pass_on(order, actions.RESCHEDULE, f"reschedule:{event.id}", date=day.isoformat())


def clean_address(text: str) -> str:
    """The address as typed (line breaks and accents kept), without direction controls or NULs; refused when
    empty or longer than an order's address may be."""
    address = strip_bidi_controls(text or "").replace("\x00", "").strip()
    if not address:
        raise AddressRefused("Please type the new address in one message.")
    if len(address) > ADDRESS_MAX:
        raise AddressRefused(f"That address is too long: please keep it under {ADDRESS_MAX} characters.")
    return address


def request_address_change(order: Order, text: str, *, actor: str = "customer") -> bool:
    """Keep the customer's new address; True when it waits for staff, False when it was used at once."""
    check_choosing(order)
    address = clean_address(text)
    if get_store_settings().address_change_needs_approval:
        order.requested_address = address
        order.attention = "The customer sent a new delivery address: approve or reject it"
        record_event(order, "whatsapp", actor, note=f"New delivery address asked for (waits for approval):\n{address}")
        return True
    _use_address(order, address, actor=actor, note="New delivery address from the customer")
    return False


def approve_address_change(order: Order, *, actor: str, staff_user_id: int | None = None) -> None:
    if order.status != CHOOSING or not order.requested_address:
        raise DeliveryChoiceRefused("There is no new address waiting for approval on this order.")
    address, order.requested_address = order.requested_address, ""
    _use_address(order, address, actor=actor, staff_user_id=staff_user_id, note="New delivery address approved")


def reject_address_change(order: Order, *, actor: str, reason: str = "", staff_user_id: int | None = None) -> None:
    """The new address is not used; the customer hears why and may choose again (the order stays failed)."""
    if order.status != CHOOSING or not order.requested_address:
        raise DeliveryChoiceRefused("There is no new address waiting for approval on this order.")
    refused, order.requested_address = order.requested_address, ""
    order.attention = ""
    reason = " ".join((reason or "").split())[:200]
    note = "New delivery address rejected" + (f": {reason}" if reason else "") + f"\n{refused}"
    record_event(order, "fulfilment", actor, note=note, staff_user_id=staff_user_id)
    events.publish(events.ADDRESS_CHANGE_REJECTED, order=order, reason=reason)


def _use_address(order: Order, address: str, *, actor: str, note: str, staff_user_id: int | None = None) -> None:
    previous, order.delivery_address = order.delivery_address, address
    order.attention = "The customer changed the delivery address: deliver again to the new one"
    event = transition(
        order,
        OrderStatus.RESCHEDULED,
        actor=actor,
        note=f"{note}: {address}\n(was: {previous})"[:2000],
        staff_user_id=staff_user_id,
    )
    _pass_on(order, actions.CHANGE_ADDRESS, f"address:{event.id}", address=address)


def return_to_shop(order: Order, *, actor: str = "customer") -> None:
    """Cancel delivery: the parcel goes back to the shop (returned, and stock back, once it arrives)."""
    check_choosing(order)
    order.attention = "The customer asked to cancel delivery: the parcel returns to the shop"
    event = transition(order, OrderStatus.RETURNING, actor=actor, note="Cancel and return, asked by the customer")
    _pass_on(order, actions.RETURN_TO_ORIGIN, f"return:{event.id}")
