"""Paid service sessions end to end: a service ordered on the storefront, the chat's signed webhook and the Store
API; payment opens a session that waits; the first staff reply in the inbox starts it; the conversation shows the
time left; when it runs out the customer is asked to renew and replies are refused until a new one is paid.

Time moves by setting the session's timestamps in the database, never by sleeping.
"""

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from checkout import outbox
from checkout.api import keys
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Conversation, Message, Order, ServiceSession, StaffUser, StockReservation, Variant
from checkout.notifications import run_scheduled_work
from checkout.orders import desk
from checkout.service_sessions import RENEWAL_PURPOSE
from tests.admin_helpers import make_staff, sign_in
from tests.factories import customer, make_order, make_product, make_store
from tests.messaging import payloads
from tests.messaging.test_conversations import receive
from tests.sessions.helpers import make_service, pay_in_full, session_of

ASHA = "919876543210"
ENDED = "Session ended — waiting for renewal"


@pytest.fixture
def app(make_app):
    return make_app(WHATSAPP_PROVIDER="sandbox")


@pytest.fixture
def shop(app):
    with app.app_context():
        make_store(name="Wakili Chambers", currency="KES", locale="en_KE", default_region="KE")
        law = make_service("Legal consultation", price_minor=20000, minutes=60)
        tea = make_product("Assam Tea", price_minor=24000, stock=5)
        make_staff("owner", name="Meera")
        make_staff("fulfilment", name="Ravi")
        ids = {"law": law.variants[0].id, "law_slug": law.slug, "tea": tea.variants[0].id}
        db.session.remove()
    return ids


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def chat_id(app, digits: str = ASHA) -> int:
    with app.app_context():
        return db.session.scalar(select(Conversation.id).where(Conversation.phone == "+" + digits))


def order_and_pay(app, variant_id: int) -> str:
    """The customer orders the service (pickup: nothing to deliver) and staff record the payment."""
    with app.app_context():
        order = make_order(
            [(db.session.get(Variant, variant_id), 1)], details=customer(fulfilment="pickup", address="")
        )
        reference = order.reference
        pay_in_full(reference)
        outbox.run_due()
        db.session.remove()
    return reference


def reply(client, conversation_id: int, text: str, key: str):
    return client.post(f"/admin/inbox/{conversation_id}/reply", data={"text": text, "send_key": key})


def move_session_back(app, reference: str, minutes: int) -> None:
    """As if the session had started `minutes` earlier."""
    with app.app_context():
        session = session_of(reference)
        session.started_at -= timedelta(minutes=minutes)
        session.ends_at -= timedelta(minutes=minutes)
        db.session.commit()
        db.session.remove()


def sweep(app) -> None:
    with app.app_context():
        run_scheduled_work()
        outbox.run_due()
        db.session.remove()


def renewal_messages(app) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(select(Message).where(Message.purpose == RENEWAL_PURPOSE)).all()
        db.session.expunge_all()
        return list(rows)


def test_a_paid_session_waits_starts_with_the_first_reply_runs_out_and_is_renewed(app, client, shop):
    reference = order_and_pay(app, shop["law"])
    with app.app_context():
        session = session_of(reference)
        assert (session.minutes, session.started_at, session.customer_phone) == (60, None, "+" + ASHA)
        assert db.session.scalar(select(Order).where(Order.reference == reference)).events[-1].kind == "session"
    receive(client, app, payloads.text("Good morning, about my tenancy case", wa_id=ASHA))
    sign_in(client, "owner@sunrise.example.com")
    conversation = chat_id(app)

    waiting = text_of(client.get(f"/admin/inbox/{conversation}"))
    assert "Paid for 60 minutes, not started" in waiting and "Send reply" in waiting

    # Waiting time is not charged: an hour later the session has still not started.
    with app.app_context():
        session = session_of(reference)
        session.created_at -= timedelta(hours=1)
        db.session.commit()
    sweep(app)
    assert reply(client, conversation, "Hello Asha, I am Meera. Tell me about the lease.", "k1").status_code == 303
    with app.app_context():
        session = session_of(reference)
        assert session.staff_name == "Meera" and session.ended_at is None
        assert session.ends_at - session.started_at == timedelta(minutes=60)
        assert abs((session.started_at - utcnow()).total_seconds()) < 60

    move_session_back(app, reference, 45)
    running = text_of(client.get(f"/admin/inbox/{conversation}"))
    left = int(re.search(r'id="session-time-left" data-seconds-left="(\d+)"', running).group(1))
    assert 14 * 60 <= left <= 15 * 60
    assert re.search(r'id="session-time-left"[^>]*>1[45]:\d\d<', running)
    assert reply(client, conversation, "A second answer, still inside the hour.", "k2").status_code == 303

    move_session_back(app, reference, 16)  # 61 minutes since the first reply
    sweep(app)
    sweep(app)  # a second sweep asks nothing more
    [renewal] = renewal_messages(app)
    assert renewal.phone == "+" + ASHA and renewal.status != "failed"
    assert (
        "Your paid session (Legal consultation" in renewal.body_text and f"/p/{shop['law_slug']}" in renewal.body_text
    )
    sandbox = text_of(client.get(f"/sandbox/chat/{ASHA}"))
    assert "has ended. To continue, renew it" in sandbox

    refused = reply(client, conversation, "One more thing…", "k3")
    assert refused.status_code == 422 and ENDED in text_of(refused)
    page = text_of(client.get(f"/admin/inbox/{conversation}"))
    assert ENDED in page and 'id="inbox-reply"' not in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Message.id)).where(Message.body_text == "One more thing…")) == 0

    # The customer renews: a new paid order opens a new session, and the next reply starts it.
    renewed = order_and_pay(app, shop["law"])
    assert "Paid for 60 minutes, not started" in text_of(client.get(f"/admin/inbox/{conversation}"))
    assert reply(client, conversation, "Welcome back, let us continue.", "k4").status_code == 303
    with app.app_context():
        assert session_of(renewed).started_at is not None and session_of(renewed).staff_name == "Meera"
        assert db.session.scalar(select(func.count(ServiceSession.id))) == 2


def test_staff_whose_role_may_not_run_sessions_cannot_answer_a_paid_session(app, client, shop):
    reference = order_and_pay(app, shop["law"])
    receive(client, app, payloads.text("Good morning, about my tenancy case", wa_id=ASHA))
    sign_in(client, "fulfilment@sunrise.example.com")
    conversation = chat_id(app)
    page = text_of(client.get(f"/admin/inbox/{conversation}"))
    assert "only staff who may run sessions answer it" in page and 'id="inbox-reply"' not in page
    refused = reply(client, conversation, "Hello from Ravi", "r1")
    assert refused.status_code == 422 and "your role may not run sessions" in text_of(refused)
    with app.app_context():
        assert session_of(reference).started_at is None  # still waiting: the refused reply started nothing


def test_the_order_page_also_refuses_a_message_once_the_session_ended(app, client, shop):
    reference = order_and_pay(app, shop["law"])
    receive(client, app, payloads.text("Good morning, about my tenancy case", wa_id=ASHA))
    sign_in(client, "owner@sunrise.example.com")
    assert reply(client, chat_id(app), "Hello", "o1").status_code == 303
    move_session_back(app, reference, 61)
    sweep(app)
    refused = client.post(f"/admin/orders/{reference}/messages", data={"text": "From the order page"})
    assert refused.status_code == 422 and ENDED in text_of(refused)


def test_goods_and_part_payments_open_no_session_and_replies_stay_free(app, client, shop):
    with app.app_context():
        goods = make_order([(db.session.get(Variant, shop["tea"]), 1)], details=customer())
        pay_in_full(goods.reference)
        law = make_order([(db.session.get(Variant, shop["law"]), 1)], details=customer(fulfilment="pickup", address=""))
        desk.record_payment(
            law,
            method="upi",
            amount_minor=law.balance_minor // 2,
            reference="half",
            staff=db.session.scalar(select(StaffUser).where(StaffUser.role == "owner")),
            expected_version=None,
        )
        assert db.session.scalar(select(func.count(ServiceSession.id))) == 0
        db.session.remove()
    receive(client, app, payloads.text("Good morning", wa_id=ASHA))
    sign_in(client, "fulfilment@sunrise.example.com")
    assert reply(client, chat_id(app), "Hello from Ravi", "g1").status_code == 303


def test_a_service_is_ordered_on_the_storefront_without_stock(app, client, shop):
    page = text_of(client.get(f"/p/{shop['law_slug']}"))
    assert "60 minutes with us in WhatsApp" in page and "Sold out" not in page
    client.post("/cart/add", data={"variant_id": shop["law"], "quantity": 2})
    checkout_page = client.get("/checkout").get_data(as_text=True)
    hidden = dict(
        re.findall(
            r'<input id="(checkout_key|expected_subtotal)" name="\1" type="hidden" value="([^"]*)"', checkout_page
        )
    )
    form = {"name": "Asha Kumar", "phone": "0712 345678", "fulfilment": "pickup", "payment_method": "cod", **hidden}
    assert client.post("/checkout", data=form).status_code == 303
    with app.app_context():
        order = db.session.scalars(select(Order)).one()
        assert [(line.product_name, line.quantity) for line in order.lines] == [("Legal consultation", 2)]
        assert order.total_minor == 40000 and order.customer_phone == "+254712345678"
        assert db.session.scalar(select(func.count(StockReservation.id))) == 0
        pay_in_full(order.reference)
        assert session_of(order.reference).minutes == 120  # two units of an hour


def test_a_service_is_ordered_through_the_store_api(app, shop):
    with app.app_context():
        _, secret = keys.create_key("Shop backend", "secret")
        db.session.commit()
    body = {
        "items": [{"sku": "LAW-1", "quantity": 1}],
        "customer": {"name": "Asha Kumar", "phone": "0712 345678"},
        "delivery": "pickup",
        "payment_method": "cod",
    }
    client = app.test_client()
    response = client.post("/api/v1/orders", json=body, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 201, response.get_json()
    products = client.get("/api/v1/products", headers={"Authorization": f"Bearer {secret}"}).get_json()
    law = next(p for p in products["products"] if p["name"] == "Legal consultation")
    assert law["variants"][0]["available"] > 0  # never sold out
    assert (law["kind"], law["duration_minutes"]) == ("service", 60)
    with app.app_context():
        assert db.session.scalar(select(func.count(StockReservation.id))) == 0


def test_the_order_page_and_the_order_csv_carry_the_session(app, client, shop):
    reference = order_and_pay(app, shop["law"])
    receive(client, app, payloads.text("Good morning, about my tenancy case", wa_id=ASHA))
    sign_in(client, "owner@sunrise.example.com")
    page = text_of(client.get(f"/admin/orders/{reference}"))
    assert 'id="service-session"' in page and "Waiting for the first staff reply" in page
    assert reply(client, chat_id(app), "Hello", "c1").status_code == 303
    page = text_of(client.get(f"/admin/orders/{reference}"))
    assert re.search(r'id="session-state">Running, 59:\d\d left', page) and "Meera" in page
    export = client.get("/admin/orders/export.csv")
    rows = list(csv.DictReader(io.StringIO(export.data.decode("utf-8-sig"), newline="")))
    row = next(row for row in rows if row["reference"] == reference)
    with app.app_context():
        session = session_of(reference)
        started, ends = (moment.strftime("%Y-%m-%d %H:%M:%S") for moment in (session.started_at, session.ends_at))
    assert (row["session_minutes"], row["session_staff"]) == ("60", "Meera")
    assert (row["session_started_at_utc"], row["session_ends_at_utc"]) == (started, ends)
    assert all(r["session_minutes"] == "" for r in rows if r["reference"] != reference)


def last_payload(app) -> dict:
    with app.app_context():
        query = select(Message.payload).where(Message.direction == "out", Message.phone == "+" + ASHA)
        return db.session.scalars(query.order_by(Message.id.desc())).first()


def tap(client, app, reply_id: str, kind: str = "list_reply") -> None:
    interactive = {"type": kind, kind: {"id": reply_id, "title": "tap"}}
    receive(client, app, payloads.inbound({"type": "interactive", "interactive": interactive}, wa_id=ASHA))


def test_a_service_is_ordered_in_the_chat_and_paying_it_opens_a_session(app, client, shop):
    receive(client, app, payloads.text("I want a legal consultation", wa_id=ASHA))
    listed = last_payload(app)["interactive"]["action"]["sections"][0]["rows"]
    assert [(row["title"], row["description"]) for row in listed] == [("Legal consultation", "Ksh200.00 · 60 minutes")]
    tap(client, app, listed[0]["id"])
    tap(client, app, "qty:1")
    for button in ("go:checkout", "name:whatsapp", "fulfil:pickup", "pay:cod"):
        tap(client, app, button, kind="button_reply")
    confirm = last_payload(app)["interactive"]["action"]["buttons"][0]["reply"]["id"]
    assert confirm.startswith("chat-confirm:")
    tap(client, app, confirm, kind="button_reply")
    with app.app_context():
        order = db.session.scalars(select(Order)).one()
        assert (order.source, order.status, order.total_minor) == ("whatsapp", "confirmed", 20000)
        assert db.session.scalar(select(func.count(StockReservation.id))) == 0
        pay_in_full(order.reference)
        assert session_of(order.reference).minutes == 60
