"""Passing the customer's choice after a failed delivery on to the courier: deliver on a day, to a new address, or
bring the parcel back.

`CarrierActions` is the small interface a courier's API is driven through; `HttpCarrierActions` is the generic one:
a JSON POST to the courier's action URL (Settings → Couriers), with its token as a bearer. Nothing here runs in a
web request: the use case queues an outbox item (outbox.enqueue_carrier_action) in its own transaction, and a
worker calls `perform` with retries; the timeline says when the courier took it, or when it gave up for good.
"""

from dataclasses import dataclass
from datetime import date
from typing import Protocol

import requests
from sqlalchemy import select

from checkout.extensions import db
from checkout.models.carriers import Carrier, CarrierEvent
from checkout.models.orders import Order
from checkout.orders import locks
from checkout.orders.lifecycle import record_event

RESCHEDULE, CHANGE_ADDRESS, RETURN_TO_ORIGIN = "reschedule", "change_address", "return_to_origin"
ACTION_LABELS = {
    RESCHEDULE: "deliver again",
    CHANGE_ADDRESS: "deliver to a new address",
    RETURN_TO_ORIGIN: "return the parcel to the shop",
}
TIMEOUT_SECONDS = 10


class CarrierActionFailed(Exception):
    """The courier did not take the action; `retryable` when trying again later may work."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


class CarrierActions(Protocol):
    def reschedule(self, order: "ActionOrder", day: date) -> None: ...
    def change_address(self, order: "ActionOrder", address: str) -> None: ...
    def return_to_origin(self, order: "ActionOrder") -> None: ...


@dataclass(frozen=True)
class ActionOrder:
    """What a courier needs to know of the order, read out before the call (no transaction stays open)."""

    reference: str
    tracking_number: str


@dataclass(frozen=True)
class HttpCarrierActions:
    """POST {"action", "tracking_number", "order_reference", …} to the courier's action URL; 2xx is taken."""

    url: str
    token: str = ""

    def reschedule(self, order: ActionOrder, day: date) -> None:
        self._post(RESCHEDULE, order, date=day.isoformat())

    def change_address(self, order: ActionOrder, address: str) -> None:
        self._post(CHANGE_ADDRESS, order, address=address)

    def return_to_origin(self, order: ActionOrder) -> None:
        self._post(RETURN_TO_ORIGIN, order)

    def _post(self, action: str, order: ActionOrder, **data) -> None:
        body = {"action": action, "tracking_number": order.tracking_number, "order_reference": order.reference}
        headers = {"User-Agent": "Chatout-Carriers/1"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = requests.post(self.url, json={**body, **data}, headers=headers, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as error:
            raise CarrierActionFailed(f"courier unreachable ({type(error).__name__})", retryable=True) from None
        if 200 <= response.status_code < 300:
            return
        # A 4xx says the courier refused this request: sending it again will not change its mind (429 aside).
        retryable = response.status_code >= 500 or response.status_code == 429
        raise CarrierActionFailed(f"courier answered {response.status_code}", retryable=retryable)


def carrier_for(order: Order) -> Carrier | None:
    """The courier an order's choice goes to: the one whose events name the order, else the one named on it."""
    carrier_id = db.session.scalar(
        select(CarrierEvent.carrier_id)
        .where(CarrierEvent.order_id == order.id)
        .order_by(CarrierEvent.id.desc())
        .limit(1)
    )
    if carrier_id is not None:
        return db.session.get(Carrier, carrier_id)
    name = (order.carrier or "").strip().casefold()
    if not name:
        return None
    for carrier in db.session.scalars(select(Carrier).where(Carrier.active.is_(True))):
        if name in (carrier.name.casefold(), (carrier.label or "").casefold()):
            return carrier
    return None


def action_payload(order: Order, action: str, **data) -> dict | None:
    """The outbox item's payload for passing `action` on, or None when the order's courier takes no actions."""
    carrier = carrier_for(order)
    if carrier is None or not carrier.action_url:
        return None
    return {
        "carrier_id": carrier.id,
        "action": action,
        "order_id": order.id,
        "reference": order.reference,
        "tracking_number": order.tracking_number,
        **data,
    }


def perform(payload: dict) -> None:
    """Call the courier's API for one queued action (the worker, with no transaction open); raises on failure."""
    carrier = db.session.get(Carrier, payload["carrier_id"])
    db.session.rollback()
    if carrier is None or not carrier.action_url:
        raise CarrierActionFailed("the courier's action URL was removed", retryable=False)
    client: CarrierActions = HttpCarrierActions(carrier.action_url, carrier.action_token)
    order = ActionOrder(payload["reference"], payload["tracking_number"])
    action = payload["action"]
    if action == RESCHEDULE:
        client.reschedule(order, date.fromisoformat(payload["date"]))
    elif action == CHANGE_ADDRESS:
        client.change_address(order, payload["address"])
    elif action == RETURN_TO_ORIGIN:
        client.return_to_origin(order)
    else:
        raise CarrierActionFailed(f"unknown action {action!r}", retryable=False)


def record_outcome(payload: dict, error: str = "") -> None:
    """On the order's timeline (staff-only): the courier took the action, or it gave up trying (and why)."""
    order = locks.lock_order(payload["order_id"])  # staff may be changing the order at the same moment
    carrier = db.session.get(Carrier, payload["carrier_id"])
    if order is None:
        return
    who = (carrier.label or carrier.name) if carrier else "Courier"
    what = ACTION_LABELS.get(payload["action"], payload["action"])
    if error:
        note = f"Could not pass “{what}” to {who}: {error}. Tell the courier yourself."
        order.attention = note[:300]
    else:
        note = f"Passed “{what}” to {who}" + (f" ({payload['date']})" if payload.get("date") else "")
    record_event(order, "courier", who, note=note[:500])
