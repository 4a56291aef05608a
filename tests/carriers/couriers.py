"""Helpers for the courier tests: a shop with an order waiting for its courier, couriers, and their POSTs.

Sample bodies follow the couriers' documented shapes (see checkout/carriers/presets.py for the sources).
"""

import json

from checkout.carriers import carriers
from checkout.carriers.carriers import CarrierDraft
from checkout.database import transaction
from checkout.extensions import db
from checkout.models import Order
from checkout.orders.lifecycle import transition
from tests.factories import customer, make_order, make_product, make_store

ASHA = "+919876543210"
AWB = "1490110123456"
TRACKING_URL = "https://track.example/1490110123456"


def order_with_the_courier(tracking_number: str = AWB, status: str = "preparing", fulfilment: str = "delivery") -> int:
    """A placed order moved to `status` by staff, with the courier's tracking number on it; its id."""
    if db.session.scalar(db.select(Order.id).limit(1)) is None:
        make_store(name="Test Shop")
    variant = make_product(f"Kurta {tracking_number}", price_minor=79900, stock=5).variants[0]
    address = "" if fulfilment == "pickup" else "Beth House, Kasarani, House 16"
    order = make_order([(variant, 1)], details=customer(phone=ASHA, fulfilment=fulfilment, address=address))
    path = ["confirmed", "preparing", "shipped", "out_for_delivery", "delivered"]
    if fulfilment == "pickup":
        path = ["confirmed", "preparing", "ready_for_pickup", "delivered"]
    with transaction():
        order.tracking_number, order.tracking_url, order.carrier = tracking_number, TRACKING_URL, "Delhivery"
        steps = [] if status == "pending" else path[: path.index(status) + 1]
        for step in steps:
            transition(order, step, actor="Test Staff")
    return order.id


def add_courier(preset: str = "generic", name: str | None = None, **fields) -> tuple[str, str]:
    """A configured courier; (its name, its secret)."""
    generic = {
        "auth": "hmac",
        "paths": {
            "tracking_number": "data.awb",
            "status": "data.status.code",
            "event_id": "id",
            "time": "data.status.at",
            "agent_name": "data.agent.name",
            "agent_phone": "data.agent.phone",
            "window": "data.slot",
            "reason": "data.status.reason",
        },
        "status_lines": "PICKED = picked_up\nOFD = out_for_delivery\nDLVD = delivered\nNDR = delivery_failed\n"
        "RTO = returned\nMOVING = in_transit",
    }
    draft = CarrierDraft(name=name or preset, preset=preset, **(generic if preset == "generic" else {}) | fields)
    _carrier, secret = carriers.add_carrier(draft)
    return draft.name, secret


def generic_body(code: str, event_id: str, awb: str = AWB, **data) -> dict:
    return {"id": event_id, "data": {"awb": awb, "status": {"code": code, "at": "2026-12-04T10:00:00+05:30"}} | data}


def shiprocket_body(status: str, awb: str = AWB, at: str = "04 12 2026 10:02:11", activity: str = "") -> dict:
    """Shiprocket's tracking webhook, as its documentation shows it (scans shortened to one)."""
    return {
        "awb": awb,
        "courier_name": "Delhivery Surface",
        "current_status": status,
        "current_status_id": 17,
        "shipment_status": status,
        "shipment_status_id": 17,
        "current_timestamp": at,
        "order_id": "ignored-123",
        "sr_order_id": 348456385,
        "awb_assigned_date": "2026-12-02 11:59:16",
        "pickup_scheduled_date": "2026-12-02 11:59:17",
        "etd": "2026-12-05 15:40:19",
        "scans": [
            {
                "date": "2026-12-04 10:02:11",
                "status": "X-DDD3FD",
                "activity": activity or status,
                "location": "Mumbai_Andheri_DC (Maharashtra)",
                "sr-status": "17",
                "sr-status-label": status,
            }
        ],
        "is_return": 0,
        "channel_id": 3422553,
        "pod_status": "",
        "pod": "Not Available",
    }


def delhivery_body(
    status: str, kind: str, awb: str = AWB, at: str = "2026-12-04T10:02:42.767", nsl: str = "X-UCI", note: str = ""
) -> dict:
    """Delhivery's scan push, as its "Tracking via PUSH API" documentation shows it."""
    return {
        "Shipment": {
            "Status": {
                "Status": status,
                "StatusDateTime": at,
                "StatusType": kind,
                "StatusLocation": "Mumbai_Andheri_DC (Maharashtra)",
                "Instructions": note or status,
            },
            "PickUpDate": "2026-12-02T17:10:42.543",
            "NSLCode": nsl,
            "Sortcode": "BOM/ADH",
            "ReferenceNo": "28",
            "AWB": awb,
        }
    }


def post_signed(client, name: str, secret: str, body, header: str = "X-Signature"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        f"/webhooks/carriers/{name}",
        data=raw,
        headers={header: carriers.sign(raw, secret), "Content-Type": "application/json"},
    )


def post_token(client, name: str, token: str | None, body, header: str = "x-api-key", in_query: bool = False):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    url = f"/webhooks/carriers/{name}"
    if token is not None and in_query:
        url += f"?token={token}"
    elif token is not None:
        headers[header] = token
    return client.post(url, data=raw, headers=headers)
