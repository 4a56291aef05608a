"""The order state machine: the one place that says which status may follow which.

    delivery:  pending → confirmed → preparing → shipped → out_for_delivery → delivered
               shipped / out_for_delivery → delivery_failed → rescheduled | returning | out_for_delivery
               rescheduled → out_for_delivery | delivery_failed | returning;  returning → returned
    pickup:    pending → confirmed → preparing → ready_for_pickup → delivered
    both:      pending / confirmed / preparing → cancelled (a reason is required)

Confirming commits the reserved stock and, unless staff set one, fixes the delivery date the shop promises
(checkout/orders/delivery_promise.py); cancelling gives the stock back, and so does a parcel returned to the shop (a paid one is flagged for a
refund, which staff decide: nothing is refunded by itself). Each change is written to the
timeline as an OrderEvent. Callers own the transaction and commit.
"""

import enum

from checkout import events
from checkout.catalog import stock
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.orders import Order, OrderEvent
from checkout.models.store import get_store_settings
from checkout.money import format_money
from checkout.orders.delivery_promise import promised_delivery_date
from checkout.orders.errors import ReasonRequired, TransitionNotAllowed


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    PREPARING = "preparing"
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    READY_FOR_PICKUP = "ready_for_pickup"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    DELIVERY_FAILED = "delivery_failed"
    RESCHEDULED = "rescheduled"
    RETURNING = "returning"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    OrderStatus.PENDING: "Waiting for confirmation",
    OrderStatus.CONFIRMED: "Confirmed",
    OrderStatus.PREPARING: "Being prepared",
    OrderStatus.SHIPPED: "Shipped",
    OrderStatus.OUT_FOR_DELIVERY: "Out for delivery",
    OrderStatus.READY_FOR_PICKUP: "Ready for pickup",
    OrderStatus.DELIVERED: "Delivered",
    OrderStatus.CANCELLED: "Cancelled",
    OrderStatus.DELIVERY_FAILED: "Delivery failed",
    OrderStatus.RESCHEDULED: "Delivery rescheduled",
    OrderStatus.RETURNING: "Returning to the shop",
    OrderStatus.RETURNED: "Returned to the shop",
}

S = OrderStatus
CANCELLABLE = {S.PENDING, S.CONFIRMED, S.PREPARING}
# Statuses an order leaves again: the work staff still have to do. Delivered, cancelled and returned are history.
# checkout/models/orders.py OPEN_STATUSES_SQL says the same for the partial indexes (a test holds them together).
OPEN_STATUSES = (
    S.PENDING,
    S.CONFIRMED,
    S.PREPARING,
    S.SHIPPED,
    S.OUT_FOR_DELIVERY,
    S.READY_FOR_PICKUP,
    S.DELIVERY_FAILED,
    S.RESCHEDULED,
    S.RETURNING,
)
# A failed delivery and what follows it: the customer's choices (checkout/orders/delivery_exceptions.py).
DELIVERY_EXCEPTION_STATUSES = frozenset({S.DELIVERY_FAILED, S.RESCHEDULED, S.RETURNING, S.RETURNED})

TRANSITIONS: dict[str, dict[OrderStatus, set[OrderStatus]]] = {
    "delivery": {
        S.PENDING: {S.CONFIRMED},
        S.CONFIRMED: {S.PREPARING},
        S.PREPARING: {S.SHIPPED},
        S.SHIPPED: {S.OUT_FOR_DELIVERY, S.DELIVERY_FAILED},
        S.OUT_FOR_DELIVERY: {S.DELIVERED, S.DELIVERY_FAILED},
        S.DELIVERY_FAILED: {S.RESCHEDULED, S.RETURNING, S.OUT_FOR_DELIVERY},
        S.RESCHEDULED: {S.OUT_FOR_DELIVERY, S.DELIVERY_FAILED, S.RETURNING},
        S.RETURNING: {S.RETURNED},
    },
    "pickup": {
        S.PENDING: {S.CONFIRMED},
        S.CONFIRMED: {S.PREPARING},
        S.PREPARING: {S.READY_FOR_PICKUP},
        S.READY_FOR_PICKUP: {S.DELIVERED},
    },
}


def refund_due_note(order: Order) -> str:
    """The attention line of a paid order that came back: staff decide the refund, none is made by itself."""
    paid = format_money(order.amount_paid_minor, order.currency, get_store_settings().locale)
    return f"Returned to the shop: {paid} was paid — refund due (refund it from the order's payments)"


def allowed_transitions(order: Order) -> list[OrderStatus]:
    """The statuses this order may move to next, in the order a person would take them."""
    current = OrderStatus(order.status)
    targets = set(TRANSITIONS[order.fulfilment].get(current, set()))
    if current in CANCELLABLE:
        targets.add(S.CANCELLED)
    return [status for status in OrderStatus if status in targets]


def can_transition(order: Order, target: OrderStatus | str) -> bool:
    return OrderStatus(target) in allowed_transitions(order)


def record_event(order: Order, kind: str, actor: str, note: str = "", staff_user_id=None, **statuses):
    event = OrderEvent(kind=kind, actor=actor, note=note, staff_user_id=staff_user_id, **statuses)
    order.events.append(event)
    return event


def transition(
    order: Order, target: OrderStatus | str, *, actor: str, note: str = "", staff_user_id: int | None = None
) -> OrderEvent:
    """Move the order to `target` or raise TransitionNotAllowed; keeps stock in step."""
    target = OrderStatus(target)
    current = OrderStatus(order.status)
    if target not in allowed_transitions(order):
        raise TransitionNotAllowed(current, target)
    if target is S.CANCELLED and not note.strip():
        raise ReasonRequired()

    if target is S.CONFIRMED:
        stock.commit_reservations(order, by=actor, staff_user_id=staff_user_id)
        if order.expected_delivery_date is None:
            order.expected_delivery_date = promised_delivery_date(order, get_store_settings(), utcnow())
    elif target is S.CANCELLED:
        stock.release_reservations(order, by=actor, staff_user_id=staff_user_id)
    elif target is S.RETURNED:
        reason = f"Order {order.reference} returned to the shop: back on the shelf"
        stock.release_reservations(order, by=actor, staff_user_id=staff_user_id, reason=reason)
        if order.amount_paid_minor > 0:
            order.attention = refund_due_note(order)

    order.status = target
    event = record_event(
        order,
        "status",
        actor,
        note=note.strip(),
        staff_user_id=staff_user_id,
        from_status=current.value,
        to_status=target.value,
    )
    db.session.flush()
    events.publish(events.ORDER_STATUS_CHANGED, order=order, event=event)
    return event
