"""The webhook endpoint: verification, signatures over raw bytes, storage, dedupe, every inbound type."""

import json

import pytest
from sqlalchemy import func, select

from checkout import jobs
from checkout.extensions import db
from checkout.models import Contact, Message, MessageStatusUpdate, WebhookEvent
from checkout.whatsapp import webhooks
from tests.factories import make_store
from tests.messaging import payloads


@pytest.fixture
def hook(app):
    with app.app_context():
        make_store()
    return app


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def count_inbound(app) -> int:
    """Messages from customers (a "hello" now also gets the ordering chat's answer, an outbound message)."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))


def process_all(app) -> None:
    with app.app_context():
        webhooks.process_pending()


def test_verification_echoes_the_challenge_only_for_the_right_token(client, hook):
    token = hook.config["WHATSAPP_VERIFY_TOKEN"]
    ok = client.get(f"/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444")
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "1158201444" and ok.mimetype == "text/plain"
    assert client.get("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1").status_code == 403
    assert client.get("/webhooks/whatsapp").status_code == 403


@pytest.mark.parametrize("header", [None, "", "sha256=", "sha256=" + "0" * 64, "md5=abc"])
def test_missing_or_wrong_signature_is_rejected_and_nothing_stored(client, hook, header):
    raw = json.dumps(payloads.text("status", wa_id="919876543210")).encode()
    headers = {"X-Hub-Signature-256": header} if header is not None else {}
    response = client.post("/webhooks/whatsapp", data=raw, headers=headers)
    assert response.status_code == 401
    assert count(hook, WebhookEvent) == 0


def test_signature_is_checked_over_the_raw_bytes_not_reserialised_json(client, hook):
    # Meta escapes non-ASCII as \u00e4; re-serialising would change the bytes and break the HMAC.
    raw = b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[{"from":"919876543210","id":"wamid.X1","timestamp":"1700000000","type":"text","text":{"body":"Gr\\u00fc\\u00dfe \\ud83d\\ude4f"}}]}}]}]}'
    assert payloads.post_signed(client, hook, raw).status_code == 200
    process_all(hook)
    with hook.app_context():
        assert db.session.scalar(select(Message.body_text)) == "Grüße 🙏"


def test_a_signature_made_with_another_secret_is_rejected(client, hook):
    response = payloads.post_signed(client, hook, payloads.text("hi", wa_id="919876543210"), secret="not-the-secret")
    assert response.status_code == 401 and count(hook, WebhookEvent) == 0


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1,2,3]", b'{"entry": "nope"}', b"\xff\xfe"])
def test_malformed_bodies_are_a_400_and_store_nothing(client, hook, raw):
    assert payloads.post_signed(client, hook, raw).status_code == 400
    assert count(hook, WebhookEvent) == 0


def test_store_first_then_process(client, hook):
    response = payloads.post_signed(client, hook, payloads.text("hello", wa_id="919876543210"))
    assert response.status_code == 200
    assert count(hook, WebhookEvent) == 1 and count(hook, Message) == 0  # stored, not yet processed
    process_all(hook)
    assert count_inbound(hook) == 1


def test_repeated_deliveries_of_the_same_message_are_stored_once(client, hook):
    body = payloads.text("hello", wa_id="919876543210")
    for _ in range(3):
        payloads.post_signed(client, hook, body)
    process_all(hook)
    assert count(hook, WebhookEvent) == 3 and count_inbound(hook) == 1


def test_one_post_with_several_entries_changes_messages_and_statuses_is_handled_whole(client, hook):
    first = payloads.text("one", wa_id="919876543210")
    second = payloads.text("two", wa_id="254712345678", name="Wanjiru")
    third = payloads.text("three", wa_id="254712345678", name="Wanjiru")
    batched = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "W", "changes": [first["entry"][0]["changes"][0], second["entry"][0]["changes"][0]]},
            {
                "id": "W",
                "changes": [
                    third["entry"][0]["changes"][0],
                    payloads.status("wamid.UNKNOWN", "delivered", "1")["entry"][0]["changes"][0],
                ],
            },
        ],
    }
    assert payloads.post_signed(client, hook, batched).status_code == 200
    process_all(hook)
    with hook.app_context():
        assert sorted(db.session.scalars(select(Message.body_text))) == ["one", "three", "two"]
        assert db.session.scalar(select(func.count(Contact.id))) == 2
        assert db.session.scalar(select(Contact.name).where(Contact.phone == "+254712345678")) == "Wanjiru"
        assert db.session.scalar(select(func.count(MessageStatusUpdate.id))) == 1


@pytest.mark.parametrize(
    "message,readable",
    [
        ({"type": "image", "image": {"id": "MEDIA1", "mime_type": "image/jpeg"}}, "📷 Photo"),
        ({"type": "document", "document": {"id": "MEDIA2", "filename": "receipt.pdf"}}, "📄 Document · receipt.pdf"),
        ({"type": "audio", "audio": {"id": "MEDIA3"}}, "🎵 Audio"),
        ({"type": "audio", "audio": {"id": "MEDIA5", "voice": True}}, "🎤 Voice message"),
        ({"type": "image", "image": {"id": "MEDIA6", "caption": "Is this in stock?"}}, "📷 Photo · Is this in stock?"),
        ({"type": "sticker", "sticker": {"id": "MEDIA4"}}, "Sticker"),
        (
            {"type": "location", "location": {"latitude": -1.22, "longitude": 36.89, "name": "Kasarani"}},
            "📍 Kasarani -1.22,36.89",
        ),
        ({"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}}, "👍"),
        ({"type": "order", "order": {"catalog_id": "1", "product_items": []}}, "🛒 Cart: 0 items, 0 units"),
        (
            {
                "type": "order",
                "order": {
                    "catalog_id": "1",
                    "product_items": [
                        {"product_retailer_id": "TEA-1", "quantity": 2, "item_price": 120, "currency": "INR"},
                        {"product_retailer_id": "TEA-2", "quantity": 1, "item_price": 90, "currency": "INR"},
                    ],
                    "text": "Deliver after 6",
                },
            },
            "🛒 Cart: 2 items, 3 units\nDeliver after 6",
        ),
        (
            {"type": "location", "location": {"latitude": 19.07, "longitude": 72.87, "address": "Linking Rd, Mumbai"}},
            "📍 Linking Rd, Mumbai 19.07,72.87",
        ),
        ({"type": "unsupported", "errors": [{"code": 131051, "title": "Message type unknown"}]}, "[unsupported]"),
        ({"type": "something_new_in_2027", "something_new_in_2027": {}}, "[something_new_in_2027]"),
    ],
)
def test_every_inbound_type_is_stored_and_acknowledged(client, hook, message, readable):
    body = payloads.inbound(message, wa_id="919876543210")
    assert payloads.post_signed(client, hook, body).status_code == 200
    process_all(hook)
    with hook.app_context():
        row = db.session.scalars(select(Message).where(Message.direction == "in")).one()
        assert (row.direction, row.body_text, row.phone) == ("in", readable, "+919876543210")
        assert db.session.scalar(select(WebhookEvent.error)) == ""


def test_a_sender_with_only_a_username_id_is_stored_without_a_phone(client, hook):
    body = payloads.text("hi", wa_id="", user_id="BSUID.abc123")
    assert payloads.post_signed(client, hook, body).status_code == 200
    process_all(hook)
    with hook.app_context():
        row = db.session.scalars(select(Message)).one()
        assert (row.phone, row.user_id) == ("", "BSUID.abc123")
        assert db.session.scalar(select(Contact.user_id)) == "BSUID.abc123"


def test_other_webhook_fields_are_acknowledged_and_ignored(client, hook):
    body = payloads.envelope(
        {"event": "APPROVED", "message_template_name": "order_update"}, field="message_template_status_update"
    )
    assert payloads.post_signed(client, hook, body).status_code == 200
    process_all(hook)
    assert count(hook, Message) == 0
    with hook.app_context():
        assert db.session.scalar(select(WebhookEvent.processed_at)) is not None


def test_one_drain_processes_every_stored_event_in_order_and_leaves_processed_ones_alone(client, hook):
    for number in range(7):
        assert (
            payloads.post_signed(client, hook, payloads.text(f"message {number}", wa_id="919876543210")).status_code
            == 200
        )
    with hook.app_context():
        assert webhooks.process_pending() == 7
        texts = db.session.scalars(select(Message.body_text).order_by(Message.id)).all()
        assert texts == [f"message {number}" for number in range(7)]
        assert db.session.scalar(select(func.count()).where(WebhookEvent.processed_at.is_(None))) == 0
        assert webhooks.process_pending() == 0


def test_a_drain_goes_on_past_an_event_that_fails_and_leaves_it_for_later(client, hook, monkeypatch):
    for number in range(3):
        payloads.post_signed(client, hook, payloads.text(f"message {number}", wa_id="919876543210"))
    real = webhooks._handle_message

    def fail_on_the_second(message, contacts):
        if message["text"]["body"] == "message 1":
            raise RuntimeError("the database went away")
        return real(message, contacts)

    monkeypatch.setattr(webhooks, "_handle_message", fail_on_the_second)
    monkeypatch.setattr(webhooks, "_in_savepoint", lambda handler, *args: handler(*args) or [])
    with hook.app_context():
        assert webhooks.process_pending() == 2
        assert db.session.scalars(select(Message.body_text).order_by(Message.id)).all() == ["message 0", "message 2"]
        assert db.session.scalar(select(func.count()).where(WebhookEvent.processed_at.is_(None))) == 1
    monkeypatch.undo()
    with hook.app_context():
        assert webhooks.process_pending() == 1  # the sweep's next drain
        assert "message 1" in db.session.scalars(select(Message.body_text)).all()


def test_a_broken_item_does_not_stop_the_rest_of_the_batch(client, hook):
    good = payloads.text("fine", wa_id="919876543210")
    good["entry"][0]["changes"][0]["value"]["messages"].insert(0, {"type": "text", "from": "9190"})  # no id
    assert payloads.post_signed(client, hook, good).status_code == 200
    process_all(hook)
    with hook.app_context():
        assert db.session.scalar(select(Message.body_text)) == "fine"
        assert "KeyError" in db.session.scalar(select(WebhookEvent.error))


def test_a_drain_job_takes_a_turn_of_events_then_queues_its_continuation(client, hook, monkeypatch):
    monkeypatch.setattr(jobs, "DRAIN_TURN", 2)
    for number in range(3):
        payloads.post_signed(client, hook, payloads.text(f"message {number}", wa_id="919876543210"))
    jobs.huey.flush()
    with hook.app_context():
        assert jobs.process_webhooks_task.call_local() == 2
        assert db.session.scalar(select(func.count()).where(WebhookEvent.processed_at.is_(None))) == 1
        assert jobs.huey.pending_count() == 1  # the continuation, queued after the jobs queued meanwhile
        jobs.huey.flush()
        assert jobs.process_webhooks_task.call_local() == 1
        assert jobs.huey.pending_count() == 0  # a short turn: nothing was left
        assert db.session.scalars(select(Message.body_text).order_by(Message.id)).all() == [
            f"message {number}" for number in range(3)
        ]
