"""Couriers' webhooks: `/webhooks/carriers/<name>`, one per configured courier, CSRF-exempt.

Authenticate over the raw bytes (carriers.authenticated), read, store, process, answer 200. A wrong or missing
signature or token answers 401 and stores nothing; a courier we do not know, or one switched off, 404; a body
that is not a JSON object, 400 with nothing stored. A resend of a stored scan is acknowledged and dropped.
"""

from flask import Blueprint, request

from checkout.carriers import carriers
from checkout.carriers.events import process_carrier_event, store_event
from checkout.extensions import csrf
from checkout.web import json_input
from checkout.web.json_errors import error_body

carrier_webhooks_blueprint = Blueprint("carrier_webhooks", __name__)


@carrier_webhooks_blueprint.post("/webhooks/carriers/<name>")
@csrf.exempt
def receive(name: str):
    carrier = carriers.find_active(name)
    if carrier is None:
        return error_body("not_found", "No courier by that name."), 404
    raw = request.get_data(cache=False)
    if not carriers.authenticated(carrier, raw, request.headers, request.args):
        return error_body("unauthorised", "Wrong or missing signature or token."), 401
    try:
        body = json_input.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return error_body("bad_payload", "The body is not JSON."), 400
    if not isinstance(body, dict):
        return error_body("bad_payload", "The body must be a JSON object."), 400
    reading, mapped_event = carriers.read_body(carrier, body)
    stored = store_event(carrier, raw, reading, mapped_event)
    if stored is None:
        return {"status": "duplicate"}, 200
    outcome = process_carrier_event(stored.id)  # in the request for now; a failure stays on the row to be retried
    return {"status": "received", "outcome": outcome}, 200
