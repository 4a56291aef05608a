"""Cloud API webhook bodies as Meta sends them, built for tests, and a helper to post them signed."""

import itertools
import json
import time

from checkout.whatsapp.webhooks import sign

_ids = itertools.count(1)
PHONE_NUMBER_ID = "106540352242922"


def wamid() -> str:
    return f"wamid.TEST{next(_ids):06d}"


def inbound(message: dict, *, wa_id: str, name: str = "Asha", user_id: str = "") -> dict:
    """One inbound message wrapped in entry/changes/value, with `from` and a timestamp filled in."""
    message = {"from": wa_id, "id": wamid(), "timestamp": str(int(time.time())), **message}
    contact = {"profile": {"name": name}, "wa_id": wa_id}
    if user_id:
        contact["user_id"] = user_id
    return envelope({"contacts": [contact], "messages": [message]})


def envelope(value: dict, field: str = "messages") -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA1", "changes": [{"field": field, "value": value}]}],
    }


def text(body: str, **kw) -> dict:
    return inbound({"type": "text", "text": {"body": body}}, **kw)


def template_button(payload: str, title: str = "Confirm order", **kw) -> dict:
    return inbound({"type": "button", "button": {"payload": payload, "text": title}}, **kw)


def reply_button(reply_id: str, title: str = "Confirm order", **kw) -> dict:
    return inbound(
        {
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}},
        },
        **kw,
    )


def status(message_wamid: str, value: str, recipient: str, *, error: dict | None = None, opaque: str = "") -> dict:
    entry = {"id": message_wamid, "status": value, "timestamp": str(int(time.time())), "recipient_id": recipient}
    if error:
        entry["errors"] = [error]
    if opaque:
        entry["biz_opaque_callback_data"] = opaque
    return envelope({"statuses": [entry]})


def post_signed(client, app, body: dict | bytes, *, secret: str | None = None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signature = sign(raw, secret if secret is not None else app.config["WHATSAPP_APP_SECRET"])
    return client.post(
        "/webhooks/whatsapp", data=raw, headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"}
    )


def list_reply(row_id: str, title: str = "⭐⭐⭐⭐⭐ 5", **kw) -> dict:
    return inbound(
        {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": row_id, "title": title}}},
        **kw,
    )
