"""The WhatsApp conversation card, messages from staff and the outbox, through the Flask test client."""

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from admin.conversation_words import time_ago
from checkout import outbox
from checkout.database import utcnow
from checkout.dates import format_moment
from checkout.extensions import db
from checkout.models import Contact, Message, Order, OrderEvent, OutboxItem, Variant, get_store_settings
from checkout.staff.conversation import OUTBOX_PAGE_SIZE, purpose_label
from checkout.web.urls import status_url
from checkout.whatsapp import webhooks
from checkout.whatsapp.templates import ORDER_UPDATE
from tests.admin_helpers import PASSWORD, make_staff, sign_in
from tests.factories import customer, make_order, make_product, make_store
from tests.messaging import payloads

PHONE = "+919876543210"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def shop(app):
    """One order from Asha (its confirmation request queued), a shop webhook, three staff; the client is the owner."""
    with app.app_context():
        make_store(webhook_url="https://hooks.sunrise.example.com/chatout", webhook_secret="hook-secret-value")
        variant = make_product("Cotton Kurta", price_minor=50000, stock=100).variants[0]
        order = make_order([(variant, 1)], details=customer(name="Asha Kumar", phone=PHONE))
        owner = make_staff("owner", name="Meera")
        make_staff("viewer", name="Vikram")
        make_staff("fulfilment", name="Ravi")
        data = dict(reference=order.reference, order_id=order.id, variant=variant.id, owner=owner.email)
        db.session.remove()
    client = app.test_client()
    sign_in(client, data["owner"])
    data["client"] = client
    return data


def client_for(app, role):
    client = app.test_client()
    sign_in(client, f"{role}@sunrise.example.com")
    return client


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def customer_wrote(app, ago: timedelta, phone=PHONE):
    with app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.phone == phone))
        if contact is None:
            contact = Contact(phone=phone, wa_id=phone.lstrip("+"))
            db.session.add(contact)
        contact.last_inbound_at = utcnow() - ago
        db.session.commit()
        return contact.last_inbound_at


def add_message(app, direction, body, *, kind="text", status=None, purpose="", ago=timedelta(0), **fields):
    with app.app_context():
        order_id = db.session.scalar(select(Order.id).where(Order.customer_phone == PHONE))
        message = Message(
            direction=direction,
            order_id=order_id if direction == "out" else None,
            phone=PHONE,
            kind=kind,
            purpose=purpose,
            body_text=body,
            status=status or ("received" if direction == "in" else "queued"),
            created_at=utcnow() - ago,
            **fields,
        )
        db.session.add(message)
        db.session.commit()
        return message.id


def send(client, reference, text, headers=HTMX, **extra):
    return client.post(f"/admin/orders/{reference}/messages", data={"text": text, **extra}, headers=headers)


def written(app) -> tuple[int, int, int]:
    """Messages, outbox items and timeline events: what a refused send must leave alone."""
    return count(app, Message), count(app, OutboxItem), count(app, OrderEvent)


# ---------------------------------------------------------------- the conversation card


@pytest.mark.parametrize(
    "purpose,label",
    [
        ("status:shipped", "Status: shipped"),
        ("status:out_for_delivery", "Status: out for delivery"),
        ("order_confirmation", "Order confirmation"),
        ("reply:status", "Reply: status"),
        ("staff_message", "Staff message"),
        ("", ""),
    ],
)
def test_purpose_labels_read_as_words(purpose, label):
    assert purpose_label(purpose) == label


@pytest.mark.parametrize(
    "delta,text",
    [
        (timedelta(seconds=20), "just now"),
        (timedelta(minutes=59), "59 min ago"),
        (timedelta(hours=3, minutes=59), "3 h ago"),
        (timedelta(days=4), "4 days ago"),
    ],
)
def test_time_ago_is_short_and_plain(delta, text):
    assert time_ago(delta) == text


def test_conversation_shows_both_directions_with_ticks_purposes_and_the_failure(app, shop):
    add_message(app, "in", "Is my kurta ready?", ago=timedelta(hours=5))
    add_message(app, "in", "[image]", kind="image", ago=timedelta(hours=4, minutes=30))
    add_message(
        app, "out", "Your order is confirmed", purpose="status:confirmed", status="sent", ago=timedelta(hours=4)
    )
    add_message(app, "out", "Being prepared", purpose="status:preparing", status="delivered", ago=timedelta(hours=3))
    add_message(app, "out", "Shipped with Delhivery", purpose="status:shipped", status="read", ago=timedelta(hours=2))
    add_message(
        app,
        "out",
        "Out for delivery today",
        purpose="status:out_for_delivery",
        status="failed",
        error_code=131047,
        error_title="Re-engagement message",
        ago=timedelta(hours=1),
    )

    page = shop["client"].get(f"/admin/orders/{shop['reference']}").get_data(as_text=True)

    card = page[page.index('id="conversation"') :]
    for text in ("Is my kurta ready?", "Your order is confirmed", "Being prepared", "Out for delivery today"):
        assert text in card
    assert (
        card.index("Is my kurta ready?") < card.index("Your order is confirmed") < card.index("Out for delivery today")
    )
    assert card.count("bubble bubble-in") == 2 and card.count("bubble bubble-out") >= 4
    assert '<span class="message-type">[image]</span>' in card
    assert "Status: shipped" in card and "Status: out for delivery" in card
    assert 'class="tick tick-sent" title="Sent"><span aria-hidden="true">✓</span>' in card
    assert 'class="tick tick-delivered" title="Delivered"><span aria-hidden="true">✓✓</span>' in card
    assert 'class="tick tick-read" title="Read"><span aria-hidden="true">✓✓</span>' in card
    assert 'class="tick tick-failed" title="Failed"><span aria-hidden="true">✗</span>' in card
    assert "131047: Re-engagement message" in card
    # The confirmation request placing the order queued: a template, still waiting.
    assert "Order confirmation" in card and "Template" in card
    assert 'class="tick tick-queued" title="Queued"><span aria-hidden="true">⏳</span>' in card


def test_conversation_shows_the_last_fifty_messages_oldest_first(app, shop):
    for number in range(1, 56):
        add_message(app, "in", f"Message number {number:02d}", ago=timedelta(minutes=200 - number))
    page = shop["client"].get(f"/admin/orders/{shop['reference']}/messages", headers=HTMX).get_data(as_text=True)
    shown = re.findall(r"Message number (\d\d)", page)
    assert shown == [f"{n:02d}" for n in range(7, 56)]  # the 50th is the confirmation request, sent last
    assert page.count('<li class="bubble') == 50 and page.rindex("Order confirmation") > page.rindex("number 55")


def test_messages_with_other_customers_stay_out_of_the_card(app, shop):
    with app.app_context():
        variant = db.session.get(Variant, shop["variant"])
        make_order([(variant, 1)], details=customer(name="Wanjiru", phone="+254712345678"))
    with app.app_context():
        db.session.add(
            Message(direction="in", phone="+254712345678", kind="text", body_text="Habari", status="received")
        )
        db.session.commit()
    page = shop["client"].get(f"/admin/orders/{shop['reference']}").get_data(as_text=True)
    assert "Habari" not in page


def test_open_window_banner_says_until_when_and_offers_the_send_box(app, shop):
    wrote_at = customer_wrote(app, timedelta(hours=3))
    page = shop["client"].get(f"/admin/orders/{shop['reference']}").get_data(as_text=True)
    closes = format_moment(wrote_at + timedelta(hours=24), "Asia/Kolkata", "en_IN", "time")  # the shop's clock
    assert re.search(rf"Customer wrote 3 h ago — you can reply freely until (tomorrow )?{re.escape(closes)}\b", page)
    assert 'class="window-banner window-open"' in page
    assert "Send WhatsApp message" in page and 'name="send_key"' in page


@pytest.mark.parametrize("ago", [timedelta(hours=24, minutes=1), timedelta(days=3), None])
def test_closed_window_banner_says_only_templates_and_hides_the_send_box(app, shop, ago):
    if ago is not None:
        customer_wrote(app, ago)
    page = shop["client"].get(f"/admin/orders/{shop['reference']}").get_data(as_text=True)
    assert 'class="window-banner window-closed"' in page
    assert "Only templates can be sent" in page
    assert "Send WhatsApp message" not in page
    if ago is None:
        assert "hasn&#39;t written to you on WhatsApp yet" in page


def test_order_panel_swaps_keep_the_conversation_card(app, shop):
    response = shop["client"].post(
        f"/admin/orders/{shop['reference']}/notes", data={"note": "Called her"}, headers=HTMX
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="conversation"' in body and "<html" not in body


# ---------------------------------------------------------------- sending


def test_sending_inside_the_window_queues_one_message_and_notes_it_on_the_timeline(app, shop):
    customer_wrote(app, timedelta(hours=2))
    before = written(app)
    text = "Hi Asha, your kurta is packed.\nWe ship it tomorrow morning — " + "more details follow. " * 10

    response = send(shop["client"], shop["reference"], text)

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="card conversation" id="conversation"') and "<html" not in body
    assert "Message queued" in body and "Hi Asha, your kurta is packed." in body
    assert written(app) == (before[0] + 1, before[1] + 1, before[2] + 1)
    with app.app_context():
        item = db.session.scalars(select(OutboxItem).order_by(OutboxItem.id.desc())).first()
        assert item.kind == "whatsapp" and item.status == "pending" and item.idempotency_key.startswith("staff:")
        message = item.message
        assert (message.direction, message.phone, message.purpose, message.status) == (
            "out",
            PHONE,
            "staff_message",
            "queued",
        )
        assert message.order.reference == shop["reference"]
        assert message.payload == {"type": "text", "text": {"body": text.strip(), "preview_url": True}}
        event = db.session.scalars(select(OrderEvent).order_by(OrderEvent.id.desc())).first()
        assert (event.kind, event.actor, event.order_id) == ("whatsapp", "Meera", shop["order_id"])
        assert event.note.startswith("Sent: Hi Asha, your kurta is packed. We ship it") and event.note.endswith("…")
        assert len(event.note) == len("Sent: ") + 120

    with app.app_context():
        outcomes = outbox.run_due()
        assert outcomes.get("sent") == 2  # Asha's confirmation request, then the staff message, in order
        assert db.session.get(Message, message.id).status == "sent"


def test_sending_without_javascript_redirects_back_to_the_conversation(app, shop):
    customer_wrote(app, timedelta(minutes=20))
    response = send(shop["client"], shop["reference"], "Thank you!", headers={})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/orders/{shop['reference']}#conversation")
    page = shop["client"].get(response.headers["Location"]).get_data(as_text=True)
    assert "Message queued" in page and "Thank you!" in page
    assert "Customer wrote 20 min ago" in page


def test_the_same_form_sent_twice_queues_the_message_once(app, shop):
    customer_wrote(app, timedelta(hours=1))
    page = shop["client"].get(f"/admin/orders/{shop['reference']}").get_data(as_text=True)
    key = re.search(r'name="send_key" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    before = written(app)
    assert send(shop["client"], shop["reference"], "On its way", send_key=key).status_code == 200
    assert send(shop["client"], shop["reference"], "On its way", send_key=key).status_code == 200
    assert written(app) == (before[0] + 1, before[1] + 1, before[2] + 1)


def test_sending_outside_the_window_is_refused_and_writes_nothing(app, shop):
    customer_wrote(app, timedelta(hours=25))
    before = written(app)
    response = send(shop["client"], shop["reference"], "Are you there?")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Only templates can be sent" in body and 'role="alert"' in body
    assert written(app) == before


def test_sending_to_a_customer_who_never_wrote_is_refused(app, shop):
    before = written(app)
    assert send(shop["client"], shop["reference"], "Hello", headers={}).status_code == 422
    assert written(app) == before


@pytest.mark.parametrize("text", ["", "   \n  ", "x" * 4097])
def test_empty_or_too_long_text_is_refused(app, shop, text):
    customer_wrote(app, timedelta(hours=1))
    before = written(app)
    response = send(shop["client"], shop["reference"], text)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Write a message first." in body or "at most 4096 characters" in body
    assert written(app) == before


def test_the_longest_whatsapp_text_is_accepted(app, shop):
    customer_wrote(app, timedelta(hours=1))
    assert send(shop["client"], shop["reference"], "é" * 4096).status_code == 200


def test_sending_is_refused_when_messaging_is_off(make_app, app, shop):
    customer_wrote(app, timedelta(hours=1))
    off = make_app(WHATSAPP_PROVIDER="off")
    client = off.test_client()
    sign_in(client, shop["owner"])
    page = client.get(f"/admin/orders/{shop['reference']}").get_data(as_text=True)
    assert "WhatsApp messaging is switched off" in page and "Send WhatsApp message" not in page
    before = written(app)
    response = send(client, shop["reference"], "Hello")
    assert response.status_code == 422 and "switched off" in response.get_data(as_text=True)
    assert written(app) == before


def test_sending_to_an_unknown_order_is_a_404(shop):
    assert send(shop["client"], "NOPE-NOPE", "Hello").status_code == 404


# ---------------------------------------------------------------- the outbox


def fail_everything_due(make_app):
    """Run the queue with messaging off: every WhatsApp item due gives up at once (not retryable)."""
    off = make_app(WHATSAPP_PROVIDER="off")
    with off.app_context():
        return outbox.run_due()


def item_ids(app, **where) -> list[int]:
    with app.app_context():
        query = select(OutboxItem.id).order_by(OutboxItem.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxItem, name) == value)
        return list(db.session.scalars(query))


def test_outbox_tabs_count_and_list_items_newest_first(app, make_app, shop):
    with app.app_context():
        variant = db.session.get(Variant, shop["variant"])
        second = make_order([(variant, 1)], details=customer(name="Wanjiru", phone="+254712345678")).reference
    with app.app_context():
        webhook_ids = item_ids(app, kind="shop_webhook")
        for item in db.session.scalars(select(OutboxItem).where(OutboxItem.id.in_(webhook_ids))):
            item.status, item.done_at = "done", utcnow()
        db.session.commit()
    fail_everything_due(make_app)

    client = shop["client"]
    page = client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert re.search(r'Pending <span class="count">0</span>', page)
    assert re.search(r'Failed <span class="count">2</span>', page)
    assert re.search(r'Done <span class="count">2</span>', page)
    rows = re.findall(r'<tr id="outbox-item-(\d+)">', page)
    assert rows == [str(i) for i in sorted(item_ids(app, status="failed"), reverse=True)]
    assert page.index(second) < page.index(shop["reference"])
    assert "+91 98765 43210" in page and "+254 712 345678" in page and "Order confirmation" in page
    assert "WhatsApp messaging is off" in page  # the last error
    assert page.count(">Retry</button>") == 2

    done = client.get("/admin/outbox?status=done").get_data(as_text=True)
    assert "hooks.sunrise.example.com" in done and "order.created" in done and "Shop webhook" in done
    assert "hook-secret-value" not in done and "/chatout" not in done
    assert ">Retry</button>" not in done

    fragment = client.get("/admin/outbox?status=pending", headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="outbox">') and "Nothing pending" in fragment
    assert client.get("/admin/outbox?status=bogus").status_code == 200


def test_outbox_pages_older_items_by_keyset(app, shop):
    with app.app_context():
        for number in range(OUTBOX_PAGE_SIZE + 5):
            db.session.add(OutboxItem(kind="shop_webhook", payload={}, idempotency_key=f"old:{number}", status="done"))
        db.session.commit()
    seen, url = [], "/admin/outbox?status=done"
    while url:
        page = shop["client"].get(url).get_data(as_text=True)
        seen += re.findall(r'<tr id="outbox-item-(\d+)">', page)
        older = re.search(r'href="([^"]+)"[^>]*>Older', page)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert len(seen) == len(set(seen)) == OUTBOX_PAGE_SIZE + 5


def test_retrying_a_failed_item_queues_it_again_and_the_sandbox_then_delivers_it(app, make_app, shop):
    fail_everything_due(make_app)
    [item_id] = item_ids(app, kind="whatsapp", status="failed")
    with app.app_context():
        assert db.session.get(OutboxItem, item_id).message.status == "failed"

    response = shop["client"].post(f"/admin/outbox/{item_id}/retry", data={"status": "failed"}, headers=HTMX)

    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<div id="outbox">')
    assert f"Item {item_id} is queued again" in body and re.search(r'Failed <span class="count">0</span>', body)
    with app.app_context():
        item = db.session.get(OutboxItem, item_id)
        assert (item.status, item.attempts, item.message.status) == ("pending", 0, "queued")
        assert item.next_attempt_at <= utcnow()
    assert app.config["WHATSAPP_PROVIDER"] == "sandbox"
    with app.app_context():
        assert outbox.run_due() == {"sent": 1}
        item = db.session.get(OutboxItem, item_id)
        assert (item.status, item.attempts, item.last_error) == ("done", 1, "")
        assert item.message.status == "sent" and item.message.wamid.startswith("wamid.SANDBOX")


def test_retrying_without_javascript_redirects_to_the_failed_tab(app, make_app, shop):
    fail_everything_due(make_app)
    [item_id] = item_ids(app, kind="whatsapp", status="failed")
    response = shop["client"].post(f"/admin/outbox/{item_id}/retry", data={"status": "failed"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/outbox?status=failed")


def test_retrying_an_item_that_did_not_fail_is_a_409(app, shop):
    [pending_id] = item_ids(app, kind="whatsapp")
    with app.app_context():
        outbox.run_due()
    response = shop["client"].post(f"/admin/outbox/{pending_id}/retry", data={"status": "done"}, headers=HTMX)
    assert response.status_code == 409
    assert "Only failed items can be retried; this one is done." in response.get_data(as_text=True)
    assert shop["client"].post(f"/admin/outbox/{pending_id}/retry").status_code == 409
    with app.app_context():
        assert db.session.get(OutboxItem, pending_id).status == "done"
    assert shop["client"].post("/admin/outbox/999999/retry").status_code == 404


def make_in_doubt_failure(app) -> tuple[int, str]:
    """The confirmation request timed out on every attempt (it may have reached Meta) and was given up on."""
    with app.app_context():
        item = db.session.scalar(select(OutboxItem).where(OutboxItem.kind == "whatsapp"))
        item.status, item.attempts, item.in_doubt = "failed", 12, True
        item.last_error = "-: WhatsApp did not answer in time"
        item.message.status = "failed"
        db.session.commit()
        return item.id, item.idempotency_key


def deliver_status_webhook(app, key: str, value="delivered") -> None:
    """Meta's status webhook for that send, recognised by the tracker we set at send time."""
    raw = json.dumps(payloads.status("wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgS", value, "919876543210", opaque=key))
    with app.app_context():
        event_id = webhooks.store(raw.encode())
        db.session.commit()
        webhooks.process_event(event_id)


def test_a_failed_send_that_whatsapp_did_accept_cannot_be_retried(app, shop):
    item_id, key = make_in_doubt_failure(app)
    page = shop["client"].get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "In doubt" in page and "hx-confirm" in page  # staff are warned before resending
    deliver_status_webhook(app, key)

    response = shop["client"].post(f"/admin/outbox/{item_id}/retry", data={"status": "failed"}, headers=HTMX)

    # The late confirmation closed the item: there is nothing left to retry, and nothing is resent.
    assert response.status_code == 409
    with app.app_context():
        item = db.session.get(OutboxItem, item_id)
        assert item.status == "done" and item.attempts == 12
        assert item.message.wamid == "wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgS"


def test_a_status_webhook_for_a_timed_out_send_closes_the_failed_item(app, shop):
    item_id, key = make_in_doubt_failure(app)
    deliver_status_webhook(app, key)
    with app.app_context():
        item = db.session.get(OutboxItem, item_id)
        assert (item.status, item.message.status) == ("done", "delivered")


def test_a_send_waiting_for_whatsapps_status_report_shows_as_in_doubt_in_the_pending_tab(app, shop):
    with app.app_context():
        item = db.session.scalar(select(OutboxItem).where(OutboxItem.kind == "whatsapp"))
        item.attempts, item.in_doubt, item.last_error = 1, True, "-: WhatsApp did not answer in time"
        item.last_attempt_at = utcnow()
        item.next_attempt_at = item.last_attempt_at + timedelta(minutes=10)
        db.session.commit()
        item_id = item.id

    page = shop["client"].get("/admin/outbox?status=pending").get_data(as_text=True)

    row = page[page.index(f'<tr id="outbox-item-{item_id}">') :]
    row = row[: row.index("</tr>")]
    assert "In doubt" in row and "Waiting for WhatsApp's status report before sending again" in row
    assert ">Retry</button>" not in row


# ---------------------------------------------------------------- who may do what


def test_viewer_sees_the_conversation_and_outbox_but_cannot_send_or_retry(app, make_app, shop):
    customer_wrote(app, timedelta(hours=1))
    fail_everything_due(make_app)
    [item_id] = item_ids(app, kind="whatsapp", status="failed")
    viewer = client_for(app, "viewer")

    page = viewer.get(f"/admin/orders/{shop['reference']}").get_data(as_text=True)
    assert 'id="conversation"' in page and "Send WhatsApp message" not in page
    outbox_page = viewer.get("/admin/outbox?status=failed")
    assert outbox_page.status_code == 200 and ">Retry</button>" not in outbox_page.get_data(as_text=True)
    assert ">Outbox</a>" in page

    before = written(app)
    assert send(viewer, shop["reference"], "Hello").status_code == 403
    assert viewer.post(f"/admin/outbox/{item_id}/retry").status_code == 403
    assert written(app) == before
    with app.app_context():
        assert db.session.get(OutboxItem, item_id).status == "failed"


def test_fulfilment_staff_may_send_and_retry(app, make_app, shop):
    customer_wrote(app, timedelta(hours=1))
    fail_everything_due(make_app)
    [item_id] = item_ids(app, kind="whatsapp", status="failed")
    mate = client_for(app, "fulfilment")
    assert send(mate, shop["reference"], "Packed!").status_code == 200
    assert mate.post(f"/admin/outbox/{item_id}/retry", headers=HTMX).status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(app, shop):
    anonymous = app.test_client()
    for response in (
        anonymous.get("/admin/outbox"),
        anonymous.get(f"/admin/orders/{shop['reference']}/messages"),
        anonymous.post(f"/admin/orders/{shop['reference']}/messages", data={"text": "Hi"}),
        anonymous.post("/admin/outbox/1/retry"),
    ):
        assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")


def test_a_send_without_the_csrf_token_is_a_400(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_store()
        variant = make_product().variants[0]
        reference = make_order([(variant, 1)], details=customer(phone=PHONE)).reference
        make_staff("owner")
    customer_wrote(app, timedelta(hours=1))
    client = app.test_client()
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/admin/login").get_data(as_text=True)
    )
    signed_in = client.post(
        "/admin/login", data={"email": "owner@sunrise.example.com", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert signed_in.status_code == 302
    before = written(app)

    assert send(client, reference, "Hello", headers={}).status_code == 400
    assert client.post("/admin/outbox/1/retry").status_code == 400
    assert written(app) == before

    page = client.get(f"/admin/orders/{reference}").get_data(as_text=True)
    card = page[page.index('id="conversation"') :]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', card).group(1)
    assert send(client, reference, "Hello", headers={}, csrf_token=token).status_code == 303


# ---------------------------------------------------------------- found on the way


def test_boosted_navigation_to_an_order_gets_the_whole_page(shop):
    response = shop["client"].get(
        f"/admin/orders/{shop['reference']}", headers={"HX-Request": "true", "HX-Boosted": "true"}
    )
    body = response.get_data(as_text=True)
    assert 'aria-label="Admin"' in body and "← All orders" in body and 'id="conversation"' in body


def test_history_restore_of_an_order_gets_the_whole_page(shop):
    response = shop["client"].get(
        f"/admin/orders/{shop['reference']}", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    body = response.get_data(as_text=True)
    assert 'aria-label="Admin"' in body and "← All orders" in body


def test_outside_the_window_staff_words_go_inside_the_order_update_template(app, shop):
    customer_wrote(app, timedelta(hours=30))
    page = shop["client"].get(f"/admin/orders/{shop['reference']}").get_data(as_text=True)
    assert "Send as order update" in page and "Send WhatsApp message" not in page
    response = shop["client"].post(
        f"/admin/orders/{shop['reference']}/messages",
        data={"text": "Your parcel leaves\ntomorrow morning", "as_template": "1"},
        headers=HTMX,
    )
    assert response.status_code == 200
    with app.app_context():
        message = db.session.scalars(select(Message).where(Message.purpose == "staff_message")).one()
        template = message.payload["template"]
        assert template["name"] == "order_update"
        words = template["components"][0]["parameters"][2]["text"]
        assert "Your parcel leaves" in words and "\n" not in words


def test_the_order_update_box_is_bounded_by_what_fits_in_the_filled_in_template(app, shop):
    customer_wrote(app, timedelta(hours=30))
    with app.test_request_context("/"):  # links as the admin's requests make them
        order = db.session.get(Order, shop["order_id"])
        fixed = ORDER_UPDATE.render([order.reference, get_store_settings().name, "", status_url(order)])
    room = 1024 - len(fixed)
    page = shop["client"].get(f"/admin/orders/{shop['reference']}").get_data(as_text=True)
    assert f'maxlength="{room}"' in page and 'maxlength="4096"' not in page
    before = written(app)

    too_long = send(shop["client"], shop["reference"], "w" * (room + 1), as_template="1")

    assert too_long.status_code == 422
    assert f"at most {room} characters" in too_long.get_data(as_text=True)
    assert written(app) == before
    assert send(shop["client"], shop["reference"], "w" * room, as_template="1").status_code == 200
    with app.app_context():
        [message] = db.session.scalars(select(Message).where(Message.purpose == "staff_message")).all()
        assert len(message.body_text) == 1024
