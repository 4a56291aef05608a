"""The WhatsApp sandbox simulator through the Flask test client: taps and texts go through the signed webhook."""

import json
import re
import threading
import time

import pytest
from flask import request, request_started
from sqlalchemy import insert, select, text

from checkout.catalog import stock
from checkout.extensions import db
from checkout.models import Contact, Message, Order, OrderEvent, Variant, WebhookEvent, get_store_settings
from checkout.orders.lifecycle import transition
from checkout.whatsapp import sandbox, webhooks
from checkout.whatsapp.links import build_order_summary
from checkout.whatsapp.webhooks import sign, signature_valid
from tests.admin_helpers import PASSWORD, make_staff, sign_in
from tests.conftest import ON_POSTGRES
from tests.factories import customer, make_order, make_product, make_store

SECRET = "sandbox-test-secret"
PHONE = "+919876543210"
DIGITS = "919876543210"
OTHER_PHONE = "+919812345678"
CHAT = f"/sandbox/chat/{DIGITS}"


@pytest.fixture
def app(make_app):
    return make_app(WHATSAPP_PROVIDER="sandbox", WHATSAPP_APP_SECRET=SECRET)


@pytest.fixture
def shop(app):
    """A pending COD order from Asha (+91 98765 43210), an owner, and a client signed in as that owner."""
    with app.app_context():
        make_store(name="Test Shop")
        variant = make_product("Cast Iron Tawa", price_minor=89900, stock=5, sku="TAW").variants[0]
        order = make_order([(variant, 2)], details=customer(name="Asha Kumar", phone=PHONE))
        owner = make_staff("owner")
        data = dict(reference=order.reference, variant_id=variant.id, owner=owner.email)
        db.session.remove()
    client = app.test_client()
    sign_in(client, data["owner"])
    data["client"] = client
    return data


@pytest.fixture
def webhook_signatures(app):
    """The X-Hub-Signature-256 header of every request that reaches the webhook endpoint, in order."""
    seen = []

    def record(sender, **extra):
        if request.path == "/webhooks/whatsapp":
            seen.append(request.headers.get("X-Hub-Signature-256"))

    request_started.connect(record, app)
    yield seen
    request_started.disconnect(record, app)


def load_order(app, reference) -> Order:
    with app.app_context():
        found = db.session.scalar(select(Order).where(Order.reference == reference))
        _ = (found.events, found.reservations)
        db.session.expunge_all()
        return found


def messages_with(app, phone=PHONE) -> list[Message]:
    with app.app_context():
        found = list(db.session.scalars(select(Message).where(Message.phone == phone).order_by(Message.id)))
        db.session.expunge_all()
        return found


def webhook_bodies(app) -> list[tuple[str, dict]]:
    with app.app_context():
        return [
            (e.body, json.loads(e.body)) for e in db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id))
        ]


def value_of(body: dict) -> dict:
    return body["entry"][0]["changes"][0]["value"]


def inbound_messages(bodies) -> list[dict]:
    return [m for _, body in bodies for m in value_of(body).get("messages", [])]


def confirmation_request(app) -> Message:
    """The shop's confirmation message with its buttons, as the sandbox delivered it."""
    return next(m for m in messages_with(app) if m.purpose == "order_confirmation")


def tap(client, message: Message, title: str, **headers):
    index = [o.title for o in sandbox_options(client.application, message.id)].index(title)
    return client.post(f"{CHAT}/tap", data={"message": message.id, "option": index}, headers=headers)


def sandbox_options(app, message_id) -> list[sandbox.ReplyOption]:
    with app.app_context():
        return sandbox.reply_options(db.session.get(Message, message_id))


def type_and_send(client, body: str, digits=DIGITS):
    return client.post(f"/sandbox/chat/{digits}/send", data={"text": body})


def open_chat(client, digits=DIGITS) -> str:
    response = client.get(f"/sandbox/chat/{digits}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- who may use it ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["cloud", "off"])
def test_sandbox_is_not_found_unless_the_provider_is_the_sandbox(make_app, provider):
    app = make_app(WHATSAPP_PROVIDER=provider, WHATSAPP_APP_SECRET=SECRET)
    with app.app_context():
        make_store()
        owner = make_staff("owner").email
    client = app.test_client()
    sign_in(client, owner)

    assert client.get("/sandbox").status_code == 404
    assert client.get(CHAT).status_code == 404
    assert client.post(f"{CHAT}/tap", data={"message": 1, "option": 0}).status_code == 404
    assert client.post(f"{CHAT}/send", data={"text": "hi"}).status_code == 404
    assert client.post("/sandbox/new", data={"phone": PHONE, "text": "hi"}).status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in(app):
    client = app.test_client()
    for response in (client.get("/sandbox"), client.get(CHAT), client.post(f"{CHAT}/send", data={"text": "hi"})):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/admin/login")
    with app.app_context():
        assert db.session.scalar(select(WebhookEvent.id)) is None


@pytest.mark.parametrize("role", ["viewer", "fulfilment"])
def test_staff_who_may_not_act_as_a_customer_cannot_confirm_or_cancel_through_the_sandbox(app, shop, role):
    open_chat(shop["client"])  # the owner opened the chat: the confirmation request with its buttons is there
    tapped = confirmation_request(app)
    with app.app_context():
        email = make_staff(role).email
    client = app.test_client()
    sign_in(client, email)
    before = len(webhook_bodies(app))

    assert client.post(f"{CHAT}/tap", data={"message": tapped.id, "option": 0}).status_code == 403
    assert client.post(f"{CHAT}/tap", data={"message": tapped.id, "option": 1}).status_code == 403
    assert type_and_send(client, f"Cancel {shop['reference']}").status_code == 403
    assert client.post("/sandbox/new", data={"phone": OTHER_PHONE, "text": "hi"}).status_code == 403
    assert client.get("/sandbox").status_code == 403 and client.get(CHAT).status_code == 403

    assert load_order(app, shop["reference"]).status == "pending"
    assert len(webhook_bodies(app)) == before
    assert "WhatsApp sandbox" not in client.get("/admin/orders").get_data(as_text=True)


def test_taps_and_texts_without_the_form_token_are_refused(make_app):
    app = make_app(WHATSAPP_PROVIDER="sandbox", WHATSAPP_APP_SECRET=SECRET, WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_store()
        owner = make_staff("owner").email
    client = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/admin/login").get_data(True))
    client.post("/admin/login", data={"email": owner, "password": PASSWORD, "csrf_token": token.group(1)})
    assert client.get("/sandbox").status_code == 200

    assert client.post(f"{CHAT}/send", data={"text": "where is my order?"}).status_code == 400
    assert client.post(f"{CHAT}/tap", data={"message": 1, "option": 0}).status_code == 400
    assert client.post("/sandbox/new", data={"phone": PHONE, "text": "hi"}).status_code == 400
    assert inbound_messages(webhook_bodies(app)) == []


# --- the chats ---------------------------------------------------------------------------------------------------


def test_chat_list_shows_one_chat_per_number_newest_activity_first(app, shop):
    with app.app_context():
        variant = db.session.get(Variant, shop["variant_id"])
        make_order([(variant, 1)], details=customer(name="Wanjiru Njeri", phone="+254712345678"))
    page = shop["client"].get("/sandbox").get_data(as_text=True)

    chats = re.findall(r'class="chat-name">([^<]+)<', page)
    assert chats == ["Wanjiru Njeri", "Asha Kumar"]
    assert f'href="/sandbox/chat/{DIGITS}"' in page and 'href="/sandbox/chat/254712345678"' in page
    assert "Shop: Hi Asha Kumar, thank you for your order" in page


def test_opening_the_chat_delivers_the_confirmation_request_with_its_buttons_and_marks_it_read(app, shop):
    page = open_chat(shop["client"])

    request_message = confirmation_request(app)
    assert request_message.kind == "template"  # the customer has not written yet: outside the 24-hour window
    assert request_message.wamid and request_message.status == "read"
    assert request_message.delivered_at is not None and request_message.read_at is not None
    assert f"thank you for your order {shop['reference']} at Test Shop" in page
    assert "[Confirm order]" not in page  # the buttons are buttons, not text
    assert re.search(r'<button type="submit" name="option" value="0">Confirm order</button>', page)
    assert re.search(r'<button type="submit" name="option" value="1">Cancel order</button>', page)
    assert 'aria-label="Read"' in page
    statuses = [s for _, body in webhook_bodies(app) for s in value_of(body)["statuses"]]
    assert [(s["id"], s["status"], s["recipient_id"]) for s in statuses] == [
        (request_message.wamid, "delivered", DIGITS),
        (request_message.wamid, "read", DIGITS),
    ]
    assert all(s["biz_opaque_callback_data"].startswith("confirm-request:") for s in statuses)


# --- taps ---------------------------------------------------------------------------------------------------------


def test_tapping_confirm_sends_a_signed_cloud_api_button_reply_and_confirms_the_order(app, shop, webhook_signatures):
    client = shop["client"]
    open_chat(client)
    tapped = confirmation_request(app)

    response = tap(client, tapped, "Confirm order")

    assert response.status_code == 303 and response.headers["Location"] == CHAT
    bodies = webhook_bodies(app)
    assert len(webhook_signatures) == len(bodies)
    for (raw, _), signature in zip(bodies, webhook_signatures, strict=True):
        assert signature == sign(raw.encode(), SECRET) and signature_valid(raw.encode(), signature, SECRET)
    (body,) = [body for _, body in bodies if "messages" in value_of(body)]
    assert body["object"] == "whatsapp_business_account"
    change = body["entry"][0]["changes"][0]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": "919876543210", "phone_number_id": "SANDBOX"}
    assert value["contacts"] == [{"profile": {"name": "Asha Kumar"}, "wa_id": DIGITS}]
    (message,) = value["messages"]
    assert message["from"] == DIGITS
    assert message["id"].startswith("wamid.SANDBOX-IN-")
    assert re.fullmatch(r"\d{10}", message["timestamp"])
    assert message["type"] == "button"
    assert message["button"] == {"payload": f"confirm:{shop['reference']}", "text": "Confirm order"}
    assert message["context"]["id"] == tapped.wamid

    order = load_order(app, shop["reference"])
    assert order.status == "confirmed"
    (confirmed,) = [e for e in order.events if e.to_status == "confirmed"]
    assert (confirmed.actor, confirmed.from_status) == ("customer", "pending")
    page = open_chat(client)
    assert f"your order {shop['reference']} from Test Shop is confirmed" in page
    status_message = next(m for m in messages_with(app) if m.purpose == "status:confirmed")
    assert status_message.kind == "text"  # the tap opened the 24-hour window
    assert status_message.status == "read"


def test_second_tap_on_confirm_gets_a_polite_already_confirmed_reply_and_changes_nothing(app, shop):
    client = shop["client"]
    open_chat(client)
    tapped = confirmation_request(app)
    tap(client, tapped, "Confirm order")
    before = load_order(app, shop["reference"])

    tap(client, tapped, "Confirm order")

    after = load_order(app, shop["reference"])
    assert (after.status, after.version, len(after.events)) == ("confirmed", before.version, len(before.events))
    replies = [m for m in messages_with(app) if m.direction == "out" and m.purpose == "reply:already"]
    assert len(replies) == 1
    assert f"Your order {shop['reference']} is already confirmed, so nothing changed." in open_chat(client)
    assert [m.purpose for m in messages_with(app) if m.purpose.startswith("status:")] == ["status:confirmed"]


def test_tapping_cancel_on_a_pending_order_cancels_it_and_releases_the_stock(app, shop):
    client = shop["client"]
    open_chat(client)

    tap(client, confirmation_request(app), "Cancel order")

    order = load_order(app, shop["reference"])
    assert order.status == "cancelled"
    assert all(r.released_at is not None for r in order.reservations)
    with app.app_context():
        variant = db.session.get(Variant, shop["variant_id"])
        assert stock.available_quantities([variant]) == {variant.id: 5}
    assert "has been cancelled" in open_chat(client)


def test_tap_with_htmx_swaps_the_conversation_in_place(app, shop):
    client = shop["client"]
    open_chat(client)

    response = tap(
        client, confirmation_request(app), "Confirm order", **{"HX-Request": "true", "HX-Target": "conversation"}
    )

    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="conversation"') and "<html" not in fragment
    assert "is confirmed" in fragment


def test_tap_on_a_button_that_is_not_in_this_chat_is_not_found(app, shop):
    client = shop["client"]
    open_chat(client)
    tapped = confirmation_request(app)

    assert client.post("/sandbox/chat/254712345678/tap", data={"message": tapped.id, "option": 0}).status_code == 404
    assert client.post(f"{CHAT}/tap", data={"message": tapped.id, "option": 7}).status_code == 404
    assert load_order(app, shop["reference"]).status == "pending"


def test_tapping_an_interactive_list_row_sends_a_list_reply(app, shop):
    with app.app_context():
        rows = [{"id": "size:M", "title": "Size M", "description": "In stock"}, {"id": "size:L", "title": "Size L"}]
        listed = Message(
            direction="out",
            phone=PHONE,
            kind="interactive",
            purpose="test:list",
            payload={
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "body": {"text": "Which size?"},
                    "action": {"button": "Choose a size", "sections": [{"title": "Sizes", "rows": rows}]},
                },
            },
            body_text="Which size?",
            status="sent",
            wamid="wamid.SANDBOXLIST",
        )
        db.session.add(listed)
        db.session.commit()
        listed_id = listed.id
    page = open_chat(shop["client"])
    assert "<summary>Choose a size</summary>" in page and "In stock" in page

    shop["client"].post(f"{CHAT}/tap", data={"message": listed_id, "option": 0})

    (message,) = inbound_messages(webhook_bodies(app))
    assert message["type"] == "interactive"
    assert message["interactive"] == {
        "type": "list_reply",
        "list_reply": {"id": "size:M", "title": "Size M", "description": "In stock"},
    }
    assert message["context"]["id"] == "wamid.SANDBOXLIST"


# --- typed text ---------------------------------------------------------------------------------------------------


def order_summary(app, reference) -> str:
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.reference == reference))
        return build_order_summary(order, get_store_settings(), status_url="https://shop.example/o/token")


def test_text_with_the_reference_from_the_orders_number_verifies_it_and_gets_the_buttons(app, shop):
    client = shop["client"]

    response = type_and_send(client, order_summary(app, shop["reference"]))

    assert response.status_code == 303
    (message,) = inbound_messages(webhook_bodies(app))
    assert message["type"] == "text" and f"*Order {shop['reference']}*" in message["text"]["body"]
    order = load_order(app, shop["reference"])
    assert order.phone_verified_at is not None and order.status == "pending"
    assert any(e.actor == "customer" and "number verified" in e.note for e in order.events)
    handshake = next(m for m in messages_with(app) if m.purpose == "order_confirmation" and m.kind == "interactive")
    page = open_chat(client)
    assert f'name="message" value="{handshake.id}"' in page
    assert "Confirm order</button>" in page and "Cancel order</button>" in page

    tap(client, handshake, "Confirm order")

    (_, reply) = inbound_messages(webhook_bodies(app))
    assert reply["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": f"confirm:{shop['reference']}", "title": "Confirm order"},
    }
    assert reply["context"]["id"] == handshake.wamid
    assert load_order(app, shop["reference"]).status == "confirmed"


def test_reference_sent_from_another_number_flags_the_order_and_confirms_nothing(app, shop):
    client = shop["client"]

    response = client.post(
        "/sandbox/new", data={"phone": "098123 45678", "name": "Ravi", "text": f"Hi, my order {shop['reference']}"}
    )

    assert response.status_code == 303 and response.headers["Location"] == "/sandbox/chat/919812345678"
    order = load_order(app, shop["reference"])
    assert order.status == "pending" and order.phone_verified_at is None
    assert "not the number on the order" in order.attention
    (reply,) = [m for m in messages_with(app, OTHER_PHONE) if m.direction == "out"]
    assert reply.purpose == "reply:reference"
    assert f"couldn&#39;t find order {shop['reference']} for this WhatsApp number" in open_chat(client, "919812345678")
    assert not [m for m in messages_with(app) if m.direction == "out" and m.purpose.startswith("status:")]


def test_where_is_my_order_gets_the_status_overview(app, shop):
    client = shop["client"]

    type_and_send(client, "Hello, where is my order?")

    (reply,) = [m for m in messages_with(app) if m.purpose == "reply:status"]
    assert reply.body_text.startswith("Your orders at Test Shop:")
    assert f"*{shop['reference']}* — Waiting for confirmation" in reply.body_text
    page = open_chat(client)
    assert f"<strong>{shop['reference']}</strong> — Waiting for confirmation" in page


def test_new_chat_with_an_invalid_number_is_refused_next_to_the_field(app, shop):
    response = shop["client"].post("/sandbox/new", data={"phone": "12345", "text": "hi"})

    assert response.status_code == 422
    assert "That number isn&#39;t valid" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(WebhookEvent.id)) is None


def test_empty_text_is_refused_and_nothing_is_sent(app, shop):
    response = type_and_send(shop["client"], "   ")

    assert response.status_code == 422
    assert "Type a message first." in response.get_data(as_text=True)
    assert inbound_messages(webhook_bodies(app)) == []


# --- polling ------------------------------------------------------------------------------------------------------


def test_poll_gets_204_until_the_chat_changes_then_the_new_conversation(app, shop):
    client = shop["client"]
    htmx = {"HX-Request": "true", "HX-Target": "conversation"}
    page = open_chat(client)
    version = re.search(r"since=(\w+)", page).group(1)

    assert client.get(f"{CHAT}?since={version}", headers=htmx).status_code == 204

    with app.app_context():  # staff confirm the order on the desk: a status message is queued
        order = db.session.scalar(select(Order).where(Order.reference == shop["reference"]))
        transition(order, "confirmed", actor="Owner")
        db.session.commit()
    response = client.get(f"{CHAT}?since={version}", headers=htmx)

    assert response.status_code == 200
    # The customer has not written yet, so the update goes out as the approved template.
    assert f"Update on your order {shop['reference']} at Test Shop: Confirmed." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(OrderEvent.actor).where(OrderEvent.to_status == "confirmed")) == "Owner"


# --- bugs found while building the sandbox --------------------------------------------------------------------------


def test_mexican_customer_whose_whatsapp_id_still_carries_the_mobile_1_can_confirm_their_order(app, shop):
    # Meta still reports Mexican mobiles as 52 1 + ten digits; E.164 (and phonenumbers) dropped the 1 in 2019.
    with app.app_context():
        variant = db.session.get(Variant, shop["variant_id"])
        order = make_order([(variant, 1)], details=customer(name="Lupita Ramírez", phone="+525512345678"))
        sandbox.deliver_queued_messages()
        request_message = db.session.scalar(select(Message).where(Message.order_id == order.id))
        confirm = sandbox.reply_options(request_message)[0]
        body = sandbox.inbound_payload("5215512345678", "Lupita", sandbox.reply_content(confirm, request_message.wamid))

        sandbox.process_now(sandbox.post_webhook(body))

        db.session.refresh(order)
        assert (order.status, order.attention) == ("confirmed", "")


def _wait_until_someone_waits_for_a_lock(engine, timeout=5.0) -> None:
    deadline = time.monotonic() + timeout
    with engine.connect() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query ILIKE '%INSERT INTO contacts%'"
                )
            ).scalar()
            watcher.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("processing never waited for the other transaction's contact")


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite runs one writer at a time: the race needs PostgreSQL")
def test_a_first_message_is_kept_when_another_worker_creates_the_same_contact_at_the_same_moment(app, shop):
    with app.app_context():
        body = sandbox.inbound_payload("254712345678", "Wanjiru", sandbox.text_content("Habari! Where is my order?"))
        event_id = webhooks.store(json.dumps(body).encode())
        db.session.commit()
        wamid = value_of(body)["messages"][0]["id"]
        # Another worker, processing another message from this new number, has just created the contact.
        other_worker = db.engine.connect()
        other_transaction = other_worker.begin()
        other_worker.execute(insert(Contact).values(phone="+254712345678", wa_id="254712345678", name="Wanjiru"))

        def process():
            with app.app_context():
                webhooks.process_event(event_id)
                db.session.remove()

        processing = threading.Thread(target=process)
        processing.start()
        try:
            _wait_until_someone_waits_for_a_lock(db.engine)
        finally:
            other_transaction.commit()
            other_worker.close()
            processing.join(timeout=10)

        assert db.session.scalar(select(Message.id).where(Message.wamid == wamid)) is not None
