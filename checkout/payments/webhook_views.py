"""Payment providers' webhooks: `/webhooks/payments/<provider>`, signed by each provider, CSRF-exempt."""

from flask import Blueprint, current_app, request

from checkout.extensions import csrf
from checkout.payments import stripe_checkout
from checkout.payments.events import process_payment_event, store_event
from checkout.web import json_input
from checkout.web.json_errors import error_body

payment_webhooks_blueprint = Blueprint("payment_webhooks", __name__)


@payment_webhooks_blueprint.post("/webhooks/payments/stripe")
@csrf.exempt
def receive_stripe():
    """Verify over the raw bytes, store, answer 200; a resend of a stored event id is acknowledged and dropped."""
    raw = request.get_data(cache=False)
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    try:
        stripe_checkout.verify_event(raw, request.headers.get("Stripe-Signature"), secret)
        body = json_input.loads(raw)
    except (stripe_checkout.BadSignature, ValueError) as error:
        return error_body("bad_signature", f"Not a Stripe event: {error}"), 400
    if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not body["id"]:
        return error_body("bad_payload", "An event needs an id"), 400
    stored = store_event(stripe_checkout.NAME, body["id"], raw)
    if stored is not None:
        process_payment_event(stored.id)  # in the request for now; a failure stays on the row to be retried
    return {"status": "received"}, 200
