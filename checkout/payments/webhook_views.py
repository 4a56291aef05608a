"""Payment providers' webhooks: `/webhooks/payments/<provider>`, signed by each provider, CSRF-exempt.

One view serves every signed provider; what differs is in WEBHOOKS: the signature header, the secret's setting,
the module's check of the raw bytes, and where the provider puts the event's id (Stripe in the body, Razorpay in
a header). M-Pesa signs nothing: its callback's address ends in a secret (`/webhooks/payments/mpesa/<secret>`),
and what it says is checked back with Daraja before anything is recorded (checkout/payments/mpesa.py).
"""

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Blueprint, current_app, request

from checkout.extensions import csrf
from checkout.payments import mpesa, razorpay_links, stripe_checkout
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


@payment_webhooks_blueprint.post("/webhooks/payments/mpesa/<secret>")
@csrf.exempt
def receive_mpesa(secret: str):
    """A wrong secret is a page that does not exist; the right one: store, then check with Daraja and act, 200.

    The prompt's CheckoutRequestID is the dedupe key: a resend of a stored callback is acknowledged and dropped.
    """
    expected = current_app.config["MPESA_CALLBACK_SECRET"]
    if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
        return error_body("not_found", "No such page"), 404
    raw = request.get_data(cache=False)
    try:
        body = json_input.loads(raw.decode("utf-8"))  # stored as text: bytes that are not UTF-8 are refused here
    except ValueError as error:
        return error_body("bad_payload", f"Not an M-Pesa callback: {error}"), 400
    checkout_request_id = mpesa.checkout_request_id(body)
    if not checkout_request_id:
        return error_body("bad_payload", "A callback needs Body.stkCallback.CheckoutRequestID"), 400
    stored = store_event(mpesa.NAME, checkout_request_id, raw)
    if stored is not None:
        process_payment_event(stored.id)  # in the request for now; a failure stays on the row to be retried
    return {"ResultCode": 0, "ResultDesc": "Accepted"}, 200
