"""Payment providers' webhooks: `/webhooks/payments/<provider>`, signed by each provider, CSRF-exempt.

One view serves every provider; what differs is in WEBHOOKS: the signature header, the secret's setting, the
module's check of the raw bytes, and where the provider puts the event's id (Stripe in the body, Razorpay in a
header).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Blueprint, current_app, request

from checkout.extensions import csrf
from checkout.payments import razorpay_links, stripe_checkout
from checkout.payments.events import ACTORS, process_payment_event, store_event
from checkout.web import json_input
from checkout.web.json_errors import error_body

payment_webhooks_blueprint = Blueprint("payment_webhooks", __name__)

EVENT_ID_MAX = 255  # payment_events.event_id


@dataclass(frozen=True)
class Webhook:
    signature_header: str
    secret_setting: str
    verify: Callable[[bytes, str | None, str], None]  # raises the module's BadSignature (a ValueError)
    event_id: Callable[[dict, Mapping[str, str]], object]  # (verified body, headers) → the dedupe key


WEBHOOKS = {
    stripe_checkout.NAME: Webhook(
        "Stripe-Signature", "STRIPE_WEBHOOK_SECRET", stripe_checkout.verify_event, lambda body, headers: body.get("id")
    ),
    razorpay_links.NAME: Webhook(
        razorpay_links.SIGNATURE_HEADER,
        "RAZORPAY_WEBHOOK_SECRET",
        razorpay_links.verify_event,
        lambda body, headers: headers.get(razorpay_links.EVENT_ID_HEADER),
    ),
}


@csrf.exempt
def receive(provider: str):
    """Verify over the raw bytes, store, answer 200; a resend of a stored event id is acknowledged and dropped."""
    webhook = WEBHOOKS[provider]
    raw = request.get_data(cache=False)
    secret = current_app.config[webhook.secret_setting]
    try:
        webhook.verify(raw, request.headers.get(webhook.signature_header), secret)
        body = json_input.loads(raw)
    except ValueError as error:  # a bad signature, or unreadable JSON
        return error_body("bad_signature", f"Not a {ACTORS[provider]} event: {error}"), 400
    event_id = webhook.event_id(body, request.headers) if isinstance(body, dict) else None
    if not isinstance(event_id, str) or not event_id or len(event_id) > EVENT_ID_MAX:
        return error_body("bad_payload", "An event needs an id"), 400
    stored = store_event(provider, event_id, raw)
    if stored is not None:
        process_payment_event(stored.id)  # in the request for now; a failure stays on the row to be retried
    return {"status": "received"}, 200


for _name in WEBHOOKS:
    payment_webhooks_blueprint.add_url_rule(
        f"/webhooks/payments/{_name}",
        endpoint=f"receive_{_name}",
        view_func=receive,
        methods=["POST"],
        defaults={"provider": _name},
    )
