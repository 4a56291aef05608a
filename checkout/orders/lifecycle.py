"""The order state machine: the one place that says which status may follow which.

    delivery:  pending → confirmed → preparing → shipped → out_for_delivery → delivered
    pickup:    pending → confirmed → preparing → ready_for_pickup → delivered
    both:      pending / confirmed / preparing → cancelled (a reason is required)

Confirming commits the reserved stock and, unless staff set one, fixes the delivery date the shop promises
(checkout/orders/delivery_promise.py); cancelling gives the stock back. Each change is written to the
timeline as an OrderEvent. Callers own the transaction and commit.
"""

import enum

from checkout import events
from checkout.catalog import stock
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.orders import Order, OrderEvent
from checkout.models.store import get_store_settings
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
}

S = OrderStatus
CANCELLABLE = {S.PENDING, S.CONFIRMED, S.PREPARING}
# Statuses an order leaves again: the work staff still have to do. Delivered and cancelled are history.
OPEN_STATUSES = (S.PENDING, S.CONFIRMED, S.PREPARING, S.SHIPPED, S.OUT_FOR_DELIVERY, S.READY_FOR_PICKUP)

TRANSITIONS: dict[str, dict[OrderStatus, set[OrderStatus]]] = {
    "delivery": {
        S.PENDING: {S.CONFIRMED},
        S.CONFIRMED: {S.PREPARING},
        S.PREPARING: {S.SHIPPED},
        S.SHIPPED: {S.OUT_FOR_DELIVERY},
        S.OUT_FOR_DELIVERY: {S.DELIVERED},
    },
    "pickup": {
        S.PENDING: {S.CONFIRMED},
        S.CONFIRMED: {S.PREPARING},
        S.PREPARING: {S.READY_FOR_PICKUP},
        S.READY_FOR_PICKUP: {S.DELIVERED},
    },
}


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
