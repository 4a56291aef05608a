"""Presets: the documented webhook shapes of Indian shipping aggregators, so a shop only pastes a secret.

Each preset fixes how the body is read (paths, or a function for a status spread over two fields), how the
courier authenticates, and a first status table that staff may change in the admin.

Sources (payload fields and auth; read 2026-11-30):
- Shiprocket: apidocs.shiprocket.in, "Webhooks" — one tracking webhook set in the panel (Settings > API >
  Webhooks); a JSON body with `awb`, `current_status`, `current_status_id`, `current_timestamp`, `order_id`
  (the shop's order id), `etd`, `scans[]` ({date, status, activity, location, sr-status, sr-status-label}),
  `is_return`…; no signature, an optional security token sent in the `x-api-key` header.
- Delhivery: delhivery-express-api-doc.readme.io, "Tracking Via PUSH API - Web hook" — one scan per POST:
  `{"Shipment": {"AWB", "ReferenceNo", "PickUpDate", "NSLCode", "Sortcode", "Status": {"Status",
  "StatusDateTime", "StatusType", "StatusLocation", "Instructions"}}}`; the client tells Delhivery which
  extra headers to send (e.g. an authorization header): here a token in `Authorization`. Status names follow
  Delhivery's forward and return flows (StatusType UD = on its way, DL = delivered/closed, RT = returning);
  a failed attempt is a Pending scan whose NSL code is an EOD-… code (the NDR API's list), read here as
  "UD/Pending/EOD".
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from checkout.carriers.mapping import (
    DELIVERED,
    DELIVERY_FAILED,
    IN_TRANSIT,
    OUT_FOR_DELIVERY,
    PICKED_UP,
    RETURNED,
    RETURNING,
    value_at,
)

GENERIC = "generic"
HMAC, TOKEN = "hmac", "token"


@dataclass(frozen=True)
class Preset:
    label: str
    auth: str
    auth_header: str
    paths: dict[str, str]
    status_map: dict[str, str]
    status_of: Callable[[dict], str] | None = None  # when the status is not one field
    notes: list[str] = field(default_factory=list)


def _delhivery_status(body) -> str:
    """ "UD/Dispatched", "DL/Delivered", "DL/RTO"…; a Pending scan with an EOD-… code is a failed attempt."""
    kind = value_at(body, "Shipment.Status.StatusType")
    status = value_at(body, "Shipment.Status.Status")
    if not status:
        return ""
    failed_attempt = status.casefold() == "pending" and value_at(body, "Shipment.NSLCode").upper().startswith("EOD")
    return f"{kind}/{status}" + ("/EOD" if failed_attempt else "")


SHIPROCKET = Preset(
    label="Shiprocket",
    auth=TOKEN,
    auth_header="x-api-key",
    paths={
        "tracking_number": "awb",
        "status": "current_status",
        "time": "current_timestamp",
        "order_reference": "order_id",
        "reason": "scans.-1.activity",
    },
    status_map={
        "PICKED UP": PICKED_UP,
        "SHIPPED": PICKED_UP,
        "IN TRANSIT": IN_TRANSIT,
        "REACHED AT DESTINATION HUB": IN_TRANSIT,
        "OUT FOR DELIVERY": OUT_FOR_DELIVERY,
        "DELIVERED": DELIVERED,
        "UNDELIVERED": DELIVERY_FAILED,
        "RTO INITIATED": RETURNING,
        "RTO DELIVERED": RETURNED,
    },
    notes=["In Shiprocket: Settings → API → Webhooks; paste the address and this secret as the security token."],
)

DELHIVERY = Preset(
    label="Delhivery",
    auth=TOKEN,
    auth_header="Authorization",
    paths={
        "tracking_number": "Shipment.AWB",
        "time": "Shipment.Status.StatusDateTime",
        "order_reference": "Shipment.ReferenceNo",
        "reason": "Shipment.Status.Instructions",
    },
    status_map={
        "UD/In Transit": PICKED_UP,
        "UD/Pending": IN_TRANSIT,
        "UD/Dispatched": OUT_FOR_DELIVERY,
        "DL/Delivered": DELIVERED,
        "UD/Pending/EOD": DELIVERY_FAILED,
        "RT/In Transit": RETURNING,
        "DL/RTO": RETURNED,
    },
    status_of=_delhivery_status,
    notes=["Give Delhivery the address and ask them to send this secret in the Authorization header."],
)

PRESETS: dict[str, Preset] = {"shiprocket": SHIPROCKET, "delhivery": DELHIVERY}
PRESET_CHOICES = {GENERIC: "Other courier (set the fields below)"} | {k: p.label for k, p in PRESETS.items()}
