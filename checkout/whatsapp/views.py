"""The WhatsApp webhook endpoint: `/webhooks/whatsapp` (the only CSRF-exempt route)."""

from flask import Blueprint, abort, current_app, request

from checkout import jobs
from checkout.extensions import csrf, db
from checkout.web.json_errors import error_body
from checkout.whatsapp.webhooks import BadPayload, parse, signature_valid, store

webhook_blueprint = Blueprint("whatsapp", __name__)


@webhook_blueprint.get("/webhooks/whatsapp")
def verify():
    """Meta's subscription check: echo the challenge when the verify token matches."""
    token = current_app.config["WHATSAPP_VERIFY_TOKEN"]
    if request.args.get("hub.mode") == "subscribe" and request.args.get("hub.verify_token") == token and token:
        return request.args.get("hub.challenge", ""), 200, {"Content-Type": "text/plain"}
    abort(403)


@webhook_blueprint.post("/webhooks/whatsapp")
@csrf.exempt
def receive():
    raw = request.get_data(cache=False)
    if not signature_valid(raw, request.headers.get("X-Hub-Signature-256"), current_app.config["WHATSAPP_APP_SECRET"]):
        return error_body("bad_signature", "Signature missing or wrong"), 401
    try:
        parse(raw)
    except BadPayload as error:
        return error_body("bad_payload", str(error)), 400
    store(raw)
    db.session.commit()
    jobs.nudge_webhook_processing()
    return {"status": "received"}, 200
