"""Reading a courier's JSON body: dotted paths to our fields, and the courier's status names to our events.

A path is keys and list positions joined by dots: `data.awb`, `scans.0.status`, `scans.-1.activity` (the last
scan). A value that is missing, null, a list or an object reads as "" — a body of another shape is kept and
shown to staff, never an error.
"""

import hashlib
from dataclasses import dataclass

# Our events, in the words staff see. Picked up, out for delivery and delivered move the order; in transit is
# only remembered (the customer's "where is my order" shows it); a failed delivery asks the customer what to do;
# a return moves the order back to the shop (returning, then returned).
PICKED_UP = "picked_up"
IN_TRANSIT = "in_transit"
OUT_FOR_DELIVERY = "out_for_delivery"
DELIVERED = "delivered"
DELIVERY_FAILED = "delivery_failed"
RETURNING = "returning"
RETURNED = "returned"
EVENT_LABELS = {
    PICKED_UP: "Picked up",
    IN_TRANSIT: "In transit",
    OUT_FOR_DELIVERY: "Out for delivery",
    DELIVERED: "Delivered",
    DELIVERY_FAILED: "Delivery failed",
    RETURNING: "On its way back to the shop",
    RETURNED: "Returned to the shop",
}
# The fields a generic mapping names, with what staff see beside each.
PATH_FIELDS = {
    "tracking_number": "Tracking number",
    "status": "Status",
    "event_id": "Event id (for spotting resends)",
    "time": "Time of the event",
    "order_reference": "Our order reference (if the courier sends it)",
    "agent_name": "Delivery agent's name",
    "agent_phone": "Delivery agent's phone",
    "window": "Delivery window",
    "reason": "Reason (failed delivery)",
}
PATH_MAX = 200
VALUE_MAX = {"tracking_number": 80, "status": 80, "time": 40, "event_id": 200}
TEXT_MAX = 120  # agent, window, reason: enough for a note, never a whole body


@dataclass(frozen=True)
class CarrierReading:
    """What one courier body says, in our terms; "" where it says nothing."""

    tracking_number: str = ""
    status: str = ""
    event_id: str = ""
    time: str = ""
    order_reference: str = ""
    agent_name: str = ""
    agent_phone: str = ""
    window: str = ""
    reason: str = ""

    def dedupe_key(self, raw_body: bytes) -> str:
        """The courier's event id; else the scan itself (tracking, status, time); else the body's digest.

        Couriers without event ids resend the same scan with the same three values, so a resend is spotted.
        """
        if self.event_id:
            return "id:" + self.event_id[:200]
        if self.tracking_number and self.status and self.time:
            return f"scan:{self.tracking_number}|{self.status}|{self.time}"[:255]
        return "sha256:" + hashlib.sha256(raw_body).hexdigest()


def value_at(body, path: str) -> str:
    """The text at a dotted path, or "" when the body has nothing (or no text or number) there."""
    current = body
    for part in (path or "").split("."):
        if part == "":
            return ""
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list):
            try:
                current = current[int(part)]
            except (ValueError, IndexError):
                return ""
        else:
            return ""
    if isinstance(current, bool) or current is None or isinstance(current, dict | list):
        return ""
    return str(current).replace("\x00", "").strip()


def read(body, paths: dict[str, str]) -> CarrierReading:
    """Read every named field through its path, each cut to what our columns and notes hold."""
    values = {}
    for field in PATH_FIELDS:
        path = paths.get(field) or ""
        values[field] = value_at(body, path)[: VALUE_MAX.get(field, TEXT_MAX)] if path else ""
    return CarrierReading(**values)


def event_for(status: str, status_map: dict[str, str]) -> str:
    """Our event for a courier's status name ("" when the table has none); case and spacing do not matter."""
    wanted = normalise_status(status)
    for name, event in status_map.items():
        if normalise_status(name) == wanted and event in EVENT_LABELS:
            return event
    return ""


def normalise_status(status: str) -> str:
    return " ".join((status or "").split()).casefold()
