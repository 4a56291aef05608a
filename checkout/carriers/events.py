"""Couriers' webhook events: stored first, then processed once from the store.

The view authenticates the POST and calls `store_event` (one INSERT, committed: a resend of the same scan finds
its dedupe key taken and changes nothing), then `process_carrier_event`, which a queue job can call as well.
Processing locks the stored event, then the order, so two workers (or a resend racing the first) act once.

What an event does to an order is decided here, through the one state machine (orders/lifecycle.py):
picked up → shipped, out for delivery, delivered, delivery failed (its reason in the note: the customer is asked
what to do next, checkout/orders/delivery_exceptions.py) move the order when the machine allows that step;
returned to origin moves it to returning and on to returned (stock back). An event for a status the order has
reached already changes nothing; one the machine does not allow yet (delivered while only shipped) is kept and
put to staff, never forced. Unknown tracking numbers are kept and shown in Settings → Couriers.
"""

import json
import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from checkout.carriers import carriers, mapping
from checkout.carriers.mapping import EVENT_LABELS, CarrierReading
from checkout.database import transaction, utcnow
from checkout.extensions import db
from checkout.models.carriers import Carrier, CarrierEvent
from checkout.models.orders import Order
from checkout.models.store import get_store_settings
from checkout.orders import locks
from checkout.orders.delivery import set_delivery_details, window_from_text
from checkout.orders.errors import InvalidFulfilment
from checkout.orders.lifecycle import TRANSITIONS, OrderStatus, can_transition, record_event, transition

log = logging.getLogger(__name__)

MOVES_TO = {
    mapping.PICKED_UP: OrderStatus.SHIPPED,
    mapping.OUT_FOR_DELIVERY: OrderStatus.OUT_FOR_DELIVERY,
    mapping.DELIVERED: OrderStatus.DELIVERED,
    mapping.DELIVERY_FAILED: OrderStatus.DELIVERY_FAILED,
    mapping.RETURNING: OrderStatus.RETURNING,
    mapping.RETURNED: OrderStatus.RETURNED,
}
RECENT_EVENTS = 50
RETRY_AFTER = timedelta(seconds=30)  # the request that stored an event processes it itself; the sweep comes later


def store_event(carrier: Carrier, raw_body: bytes, reading: CarrierReading, mapped_event: str) -> CarrierEvent | None:
    """Keep an authenticated event (committed); None when this courier sent it before (a resend)."""
    event = CarrierEvent(
        carrier_id=carrier.id,
        dedupe_key=reading.dedupe_key(raw_body),
        body=raw_body.decode("utf-8"),
        tracking_number=reading.tracking_number,
        carrier_status=reading.status,
        mapped_event=mapped_event,
        occurred=reading.time,
    )
    db.session.add(event)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return event


def process_carrier_event(carrier_event_id: int) -> str:
    """Act on one stored event once; its outcome.

    Any failure rolls back all of it and is written on the row ("failed"), which stays unprocessed to be tried
    again: the courier has had its 200, so the event must never be lost to an exception here.
    """
    try:
        with transaction():
            return _process(carrier_event_id)
    except Exception as error:  # noqa: BLE001 (whatever went wrong is kept on the row and logged)
        log.exception("carrier event %s could not be processed", carrier_event_id)
        with transaction():
            stored = db.session.get(CarrierEvent, carrier_event_id)
            if stored is not None:
                stored.error = f"{type(error).__name__}: {error}"[:500]
        return "failed"


def retry_unprocessed_events(limit: int = 100) -> int:
    """The scheduled sweep: process stored events whose processing failed (or never ran), oldest first."""
    query = (
        select(CarrierEvent.id)
        .where(CarrierEvent.processed_at.is_(None), CarrierEvent.received_at <= utcnow() - RETRY_AFTER)
        .order_by(CarrierEvent.id)
        .limit(limit)
    )
    ids = list(db.session.scalars(query))
    db.session.rollback()
    return sum(process_carrier_event(event_id) != "failed" for event_id in ids)


def _lock_event(carrier_event_id: int) -> CarrierEvent | None:
    query = select(CarrierEvent).where(CarrierEvent.id == carrier_event_id).with_for_update(of=CarrierEvent)
    return db.session.scalar(query.execution_options(populate_existing=True))


def _process(carrier_event_id: int) -> str:
    stored = _lock_event(carrier_event_id)
    if stored is None:
        return "missing"
    if stored.processed_at is not None:
        return stored.outcome
    reading, _ = carriers.read_body(stored.carrier, json.loads(stored.body))
    order = _lock_order_for(reading)
    if order is None:
        log.warning("%s event %s names no order we know", stored.carrier.name, stored.id)
        outcome = "unknown_tracking"
    elif not stored.mapped_event:
        outcome = "unmapped_status"
    else:
        outcome = _apply(order, stored, reading)
    stored.order_id = order.id if order is not None else None
    stored.outcome, stored.error, stored.processed_at = outcome, "", utcnow()
    return outcome


def _lock_order_for(reading: CarrierReading) -> Order | None:
    """The order with this tracking number (the newest, if a number was reused), else the reference it names."""
    if reading.tracking_number:
        query = select(Order.id).where(Order.tracking_number == reading.tracking_number).order_by(Order.id.desc())
        order_id = db.session.scalar(query.limit(1))
        if order_id is not None:
            return locks.lock_order(order_id)
    if reading.order_reference:
        return locks.lock_order_by_reference(reading.order_reference.upper())
    return None


def _apply(order: Order, stored: CarrierEvent, reading: CarrierReading) -> str:
    """What one mapped event does to the locked order; the outcome's name."""
    actor = stored.carrier.label or stored.carrier.name
    label = EVENT_LABELS[stored.mapped_event]
    if stored.mapped_event == mapping.IN_TRANSIT:
        return "noted"
    target = MOVES_TO[stored.mapped_event]
    if order.status == OrderStatus.CANCELLED:
        _put_to_staff(order, actor, f"Courier says “{label}” for a cancelled order: check with {actor}")
        return "cancelled_order"
    steps = _steps_to(order, target)
    if steps:
        details = pass_on_delivery_details(
            order, agent_name=reading.agent_name, agent_phone=reading.agent_phone, window=reading.window, actor=actor
        )
        reason = f" — {reading.reason}" if reading.reason else ""
        note = "; ".join(filter(None, [f"Courier: {label}{reason}", details]))
        for step in steps:
            transition(order, step, actor=actor, note=note)
        if target is OrderStatus.DELIVERY_FAILED:
            order.attention = f"Courier: delivery failed{reason} — the customer was asked what to do next"[:300]
        return "moved"
    if _reached_already(order, target):
        return "already"
    current = OrderStatus(order.status).label.lower()
    _put_to_staff(order, actor, f"Courier says “{label}” while the order is {current}: not applied, check it")
    return "out_of_order"


def _steps_to(order: Order, target: OrderStatus) -> list[OrderStatus]:
    """The statuses to pass through to reach `target` now ([] when the machine does not allow it): a parcel back
    at the shop is first on its way back, when the courier skipped saying so."""
    if can_transition(order, target):
        return [target]
    if target is OrderStatus.RETURNED and can_transition(order, OrderStatus.RETURNING):
        return [OrderStatus.RETURNING, OrderStatus.RETURNED]
    return []


def _reached_already(order: Order, target: OrderStatus) -> bool:
    """The order stands at `target` or beyond it on its path: the event is late, and must not move it back."""
    steps = TRANSITIONS[order.fulfilment]
    seen, todo = set(), [target]
    while todo:
        status = todo.pop()
        if status in seen:
            continue
        seen.add(status)
        todo.extend(steps.get(status, ()))
    return OrderStatus(order.status) in seen


def _put_to_staff(order: Order, actor: str, text: str) -> None:
    """On the order's timeline (staff-only) as a courier event, and on its attention line."""
    order.attention = text[:300]
    record_event(order, "courier", actor, note=text[:500])


def pass_on_delivery_details(
    order: Order, *, agent_name: str, agent_phone: str, window: str, actor: str = "Courier"
) -> str:
    """THE one place a courier's delivery agent and window reach the order (checkout/orders/delivery.py).

    What can't be read (a window in words, a number that isn't one) stays in the timeline note this returns.
    """
    moments = window_from_text(window, get_store_settings().zone_name, utcnow()) if window else None
    details = {
        "window_start": moments[0] if moments else None,
        "window_end": moments[1] if moments else None,
        "agent_name": agent_name or None,
        "agent_phone": agent_phone or None,
    }
    try:
        set_delivery_details(order, **details, actor=actor)
    except InvalidFulfilment:  # a number that is no phone number: the rest still reaches the order
        set_delivery_details(order, **{**details, "agent_phone": None}, actor=actor)
    return delivery_details_text(agent_name, agent_phone, window)


def delivery_details_text(agent_name: str, agent_phone: str, window: str) -> str:
    """ "agent Ravi +91…; window 14:00–17:00", or "" when there is neither."""
    agent = " ".join(filter(None, [agent_name, agent_phone]))
    return "; ".join(filter(None, [f"agent {agent}" if agent else "", f"window {window}" if window else ""]))


def latest_courier_lines(order_ids: list[int]) -> dict[int, str]:
    """For "where is my order": each order's latest mapped courier event, in a line, by order id."""
    if not order_ids:
        return {}
    query = (
        select(CarrierEvent)
        .where(CarrierEvent.order_id.in_(order_ids), CarrierEvent.mapped_event != "")
        .order_by(CarrierEvent.id.desc())
        .limit(RECENT_EVENTS)
    )
    lines = {}
    for event in db.session.scalars(query):
        if event.order_id not in lines:
            lines[event.order_id] = _line(event)
    return lines


def _line(event: CarrierEvent) -> str:
    try:
        reading, _ = carriers.read_body(event.carrier, json.loads(event.body))
    except ValueError:
        reading = CarrierReading()
    parts = [EVENT_LABELS[event.mapped_event], event.carrier.label or event.carrier.name, event.occurred]
    if event.mapped_event == mapping.OUT_FOR_DELIVERY:
        parts.append(delivery_details_text(reading.agent_name, reading.agent_phone, reading.window))
    if event.mapped_event == mapping.DELIVERY_FAILED and reading.reason:
        parts.append(reading.reason)
    return " · ".join(filter(None, parts))


def recent_events(limit: int = RECENT_EVENTS) -> list[CarrierEvent]:
    """The newest courier events, for Settings → Couriers (unknown tracking numbers and out-of-order ones too)."""
    query = select(CarrierEvent).order_by(CarrierEvent.id.desc()).limit(limit)
    return list(db.session.scalars(query))
