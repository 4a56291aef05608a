"""Conversations that move orders, in the sandbox: confirm, cancel, handshake, "where is my order"."""

import json
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from checkout import outbox
from checkout.catalog import stock
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Message, Order, OutboxItem, StockReservation, Variant, WebhookEvent
from checkout.notifications import EXPIRY_REASON, cancel_expired_orders, send_due_reminders
from checkout.orders.desk import record_payment
from checkout.orders.lifecycle import transition
from checkout.whatsapp import webhooks
from tests.admin_helpers import make_staff
from tests.factories import customer, give_consent, make_order, make_product, make_store
from tests.messaging import payloads

ASHA = "919876543210"
STRANGER = "254712345678"


@pytest.fixture
def shop(app):
    with app.app_context():
        make_store(staff_alert_numbers=["+919812345678"])
        variant = make_product("Cotton Kurta", price_minor=79900, stock=5).variants[0]
        order = make_order([(variant, 2)], details=customer(phone="+" + ASHA))
        outbox.run_due()
        data = {"reference": order.reference, "order_id": order.id, "variant": variant.id}
        db.session.remove()
    return data


def receive(client, app, body) -> None:
    """Post a signed webhook, then do what the worker would: process it and deliver the replies."""
    assert payloads.post_signed(client, app, body).status_code == 200
    with app.app_context():
        for event_id in db.session.scalars(select(WebhookEvent.id).where(WebhookEvent.processed_at.is_(None))).all():
            webhooks.process_event(event_id)
        outbox.run_due()


def outbound(app, phone=ASHA) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(
            select(Message).where(Message.direction == "out", Message.phone == "+" + phone).order_by(Message.id)
        ).all()
        db.session.expunge_all()
        return rows


def the_order(app, order_id) -> Order:
    with app.app_context():
        order = db.session.get(Order, order_id)
        _ = (order.events, order.lines)
        db.session.expunge_all()
        return order


def test_a_new_order_asks_the_customer_to_confirm_and_alerts_staff(app, shop):
    [request] = outbound(app)
    assert (request.purpose, request.kind, request.status) == ("order_confirmation", "template", "sent")
    template = request.payload["template"]
    assert template["name"] == "order_confirmation"
    buttons = [c["parameters"][0]["payload"] for c in template["components"] if c["type"] == "button"]
    assert buttons == [f"confirm:{shop['reference']}", f"cancel:{shop['reference']}"]
    assert shop["reference"] in request.body_text and "[Confirm order]" in request.body_text
    [alert] = outbound(app, "919812345678")
    assert alert.purpose == "staff_alert" and shop["reference"] in alert.body_text


def test_nothing_is_sent_when_messaging_is_off(make_app):
    app = make_app(WHATSAPP_PROVIDER="off")
    with app.app_context():
        make_store()
        make_order([(make_product().variants[0], 1)])
        assert db.session.scalars(select(OutboxItem)).all() == []


def test_confirm_tap_confirms_commits_stock_and_acknowledges(client, app, shop):
    receive(client, app, payloads.template_button(f"confirm:{shop['reference']}", wa_id=ASHA))
    order = the_order(app, shop["order_id"])
    assert order.status == "confirmed"
    assert (order.events[-1].actor, order.events[-1].to_status) == ("customer", "confirmed")
    with app.app_context():
        assert db.session.get(Variant, shop["variant"]).stock_on_hand == 3
    assert [m.purpose for m in outbound(app)] == ["order_confirmation", "status:confirmed"]
    assert outbound(app)[-1].kind == "text"  # the tap opened the 24-hour window


def test_cancel_tap_cancels_releases_stock_and_says_why(client, app, shop):
    receive(client, app, payloads.reply_button(f"cancel:{shop['reference']}", "Cancel order", wa_id=ASHA))
    order = the_order(app, shop["order_id"])
    assert order.status == "cancelled" and order.events[-1].note == "Cancelled by the customer on WhatsApp"
    with app.app_context():
        variant = db.session.get(Variant, shop["variant"])
        assert stock.available_quantities([variant])[variant.id] == 5
    assert "Cancelled by the customer on WhatsApp" in outbound(app)[-1].body_text


def test_a_repeated_or_late_tap_gets_a_polite_status_reply_and_changes_nothing(client, app, shop):
    receive(client, app, payloads.template_button(f"confirm:{shop['reference']}", wa_id=ASHA))
    receive(client, app, payloads.template_button(f"cancel:{shop['reference']}", "Cancel order", wa_id=ASHA))
    assert the_order(app, shop["order_id"]).status == "confirmed"
    last = outbound(app)[-1]
    assert last.purpose == "reply:already" and "already confirmed" in last.body_text


def test_a_tap_from_another_number_is_flagged_not_obeyed(client, app, shop):
    receive(client, app, payloads.template_button(f"confirm:{shop['reference']}", wa_id=STRANGER))
    order = the_order(app, shop["order_id"])
    assert order.status == "pending"
    assert "+254712345678" in order.attention


def test_sending_the_prefilled_summary_verifies_the_number_and_offers_buttons(client, app, shop):
    summary = (
        f"Hello Test Shop! I'd like to place this order.\n\n*Order {shop['reference']}*\n2 × Cotton Kurta — ₹1,598.00"
    )
    receive(client, app, payloads.text(summary, wa_id=ASHA))
    order = the_order(app, shop["order_id"])
    assert order.phone_verified_at is not None
    assert "number verified" in order.events[-1].note
    reply = outbound(app)[-1]
    assert reply.kind == "interactive"
    ids = [b["reply"]["id"] for b in reply.payload["interactive"]["action"]["buttons"]]
    assert ids == [f"confirm:{shop['reference']}", f"cancel:{shop['reference']}"]
    # …and tapping one of those buttons confirms.
    receive(client, app, payloads.reply_button(ids[0], wa_id=ASHA))
    assert the_order(app, shop["order_id"]).status == "confirmed"


def test_the_summary_sent_from_another_number_is_flagged_for_staff(client, app, shop):
    receive(client, app, payloads.text(f"Order {shop['reference']} please", wa_id=STRANGER))
    order = the_order(app, shop["order_id"])
    assert order.phone_verified_at is None and "not the number on the order" in order.attention
    assert outbound(app, STRANGER)[-1].purpose == "reply:reference"


def _answer_to(client, app, sender: str, text: str) -> tuple[str, dict]:
    receive(client, app, payloads.text(text, wa_id=sender))
    (reply,) = outbound(app, sender)
    return reply.purpose, reply.payload


@pytest.mark.parametrize("template", ["Order {} please", "{}", "status of {}?", "hi, where is my order {}"])
def test_a_stranger_cannot_tell_someone_elses_order_from_no_order(client, app, shop, template):
    unknown = "ZZZZ-2222" if shop["reference"] != "ZZZZ-2222" else "YYYY-3333"
    other_stranger = "254700000001"
    existing = _answer_to(client, app, STRANGER, template.format(shop["reference"]))
    missing = _answer_to(client, app, other_stranger, template.format(unknown))
    as_sent = lambda answer, ref: json.dumps(answer).replace(ref, "<REF>")  # noqa: E731
    assert as_sent(existing, shop["reference"]) == as_sent(missing, unknown)
    assert "Cotton Kurta" not in str(existing) and "Waiting" not in str(existing)
    # Staff still see the mismatch on the real order; the unknown reference touches nothing.
    assert "+254712345678" in the_order(app, shop["order_id"]).attention


@pytest.mark.parametrize("question", ["status", "Where is my order?", "order kahan hai", "Mera order?", "STATUS pls"])
def test_where_is_my_order_answers_with_the_latest_status(client, app, shop, question):
    receive(client, app, payloads.text(question, wa_id=ASHA))
    reply = outbound(app)[-1]
    assert reply.purpose == "reply:status"
    assert shop["reference"] in reply.body_text and "Waiting for confirmation" in reply.body_text
    assert "/o/" in reply.body_text and "Cotton Kurta" in reply.body_text


def test_small_talk_gets_no_automatic_reply(client, app, shop):
    receive(client, app, payloads.text("hello there, nice shop", wa_id=ASHA))
    assert [m.purpose for m in outbound(app)] == ["order_confirmation"]


def test_a_days_old_question_arriving_after_an_outage_is_not_answered(client, app, shop):
    body = payloads.text("status", wa_id=ASHA)
    body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(int(time.time()) - 3 * 86400)
    receive(client, app, body)
    assert [m.purpose for m in outbound(app)] == ["order_confirmation"]


def test_one_reminder_after_the_configured_hours_never_a_second(app, shop):
    with app.app_context():
        order = db.session.get(Order, shop["order_id"])
        give_consent(order.customer_phone, order=order)
        order.created_at = utcnow() - timedelta(hours=2)
        db.session.commit()
        assert send_due_reminders() == 1
        assert send_due_reminders() == 0
        outbox.run_due()
    assert [m.purpose for m in outbound(app)] == ["order_confirmation", "order_confirmation_reminder"]


def test_no_reminder_before_the_configured_hours(app, shop):
    with app.app_context():
        assert send_due_reminders() == 0


def test_an_unanswered_order_is_cancelled_when_its_reservation_runs_out(app, shop):
    with app.app_context():
        for reservation in db.session.scalars(select(StockReservation)):
            reservation.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        assert cancel_expired_orders() == 1
        assert cancel_expired_orders() == 0
        outbox.run_due()
    order = the_order(app, shop["order_id"])
    assert order.status == "cancelled" and order.events[-1].actor == "system"
    assert EXPIRY_REASON in outbound(app)[-1].body_text


def test_every_status_change_tells_the_customer(app, shop):
    with app.app_context():
        staff = make_staff("owner")
        order = db.session.get(Order, shop["order_id"])
        for status in ["confirmed", "preparing"]:
            transition(order, status, actor=staff.name)
        order.carrier, order.tracking_number = "Delhivery", "DL123"
        for status in ["shipped", "out_for_delivery", "delivered"]:
            transition(order, status, actor=staff.name)
        db.session.commit()
        outbox.run_due()
    sent = outbound(app)
    assert [m.purpose for m in sent][1:] == [
        "status:confirmed",
        "status:preparing",
        "status:shipped",
        "status:out_for_delivery",
        "status:delivered",
    ]
    assert all(m.kind == "template" and m.payload["template"]["name"] == "order_update" for m in sent[1:])
    shipped = sent[3].payload["template"]["components"][0]["parameters"]
    assert "DL123" in shipped[2]["text"]
    assert all(m.status == "sent" for m in sent)


def test_inside_the_window_status_messages_are_the_shops_own_texts(client, app, shop):
    receive(client, app, payloads.text("hi", wa_id=ASHA))  # opens the 24-hour window
    with app.app_context():
        order = db.session.get(Order, shop["order_id"])
        transition(order, "confirmed", actor="Owner")
        transition(order, "preparing", actor="Owner")
        order.tracking_number = "BD99"
        transition(order, "shipped", actor="Owner")
        transition(order, "out_for_delivery", actor="Owner")
        transition(order, "delivered", actor="Owner")
        db.session.commit()
        outbox.run_due()
    texts = [m.body_text for m in outbound(app) if m.purpose.startswith("status:")]
    assert "is confirmed" in texts[0] and "Tracking number: BD99" in texts[2]
    assert "rating from 1" in texts[-1]  # delivered asks for feedback


def test_payment_received_is_announced(app, shop):
    with app.app_context():
        owner = make_staff("owner")
        order = db.session.get(Order, shop["order_id"])
        record_payment(order, method="upi", amount_minor=5000, reference="UPI1", staff=owner, expected_version=None)
        outbox.run_due()
    assert outbound(app)[-1].purpose == "status:payment_received"


def test_a_failing_provider_never_blocks_the_status_change(make_app):
    app = make_app(WHATSAPP_PROVIDER="cloud", WHATSAPP_ACCESS_TOKEN="", WHATSAPP_PHONE_NUMBER_ID="")
    with app.app_context():
        make_store()
        order = make_order([(make_product().variants[0], 1)])
        transition(order, "confirmed", actor="Owner")
        db.session.commit()
        outbox.run_due()
        order = db.session.get(Order, order.id)
        assert order.status == "confirmed"
        assert "failed" in order.attention
        assert {m.status for m in db.session.scalars(select(Message))} == {"failed"}


def test_delivery_statuses_move_forward_only(client, app, shop):
    [request] = outbound(app)
    for value in ["read", "sent", "delivered"]:
        receive(client, app, payloads.status(request.wamid, value, ASHA))
    [request] = outbound(app)
    assert request.status == "read" and request.read_at and request.delivered_at and request.sent_at
    receive(client, app, payloads.status(request.wamid, "read", ASHA))  # a repeat changes nothing


def test_a_message_that_fails_outside_the_window_is_resent_as_the_template(client, app, shop):
    receive(client, app, payloads.text("hi", wa_id=ASHA))
    with app.app_context():
        transition(db.session.get(Order, shop["order_id"]), "confirmed", actor="Owner")
        db.session.commit()
        outbox.run_due()
    text_message = outbound(app)[-1]
    assert text_message.kind == "text"
    error = {"code": 131047, "title": "Re-engagement message"}
    receive(client, app, payloads.status(text_message.wamid, "failed", ASHA, error=error))
    sent = outbound(app)
    assert sent[-2].status == "failed" and sent[-2].error_code == 131047
    assert sent[-1].kind == "template" and sent[-1].purpose == "status:confirmed"


def _ship(app, order_id, expected: date | None) -> None:
    with app.app_context():
        order = db.session.get(Order, order_id)
        transition(order, "confirmed", actor="Owner")
        transition(order, "preparing", actor="Owner")
        order.carrier, order.tracking_number, order.expected_delivery_date = "Blue Dart", "BD99", expected
        transition(order, "shipped", actor="Owner")
        db.session.commit()
        outbox.run_due()


def test_the_shipped_message_tells_the_expected_delivery_date_in_the_shops_locale(client, app, shop):
    receive(client, app, payloads.text("hi", wa_id=ASHA))  # inside the window: the shop's own text
    _ship(app, shop["order_id"], date(2026, 12, 4))
    shipped = next(m for m in outbound(app) if m.purpose == "status:shipped")
    assert "Carrier: Blue Dart" in shipped.body_text
    assert "Expected delivery: 4 Dec 2026" in shipped.body_text


def test_the_shipped_template_carries_the_expected_date_too(app, shop):
    _ship(app, shop["order_id"], date(2026, 12, 4))
    shipped = next(m for m in outbound(app) if m.purpose == "status:shipped")
    assert shipped.kind == "template"
    assert "tracking number BD99, expected 4 Dec 2026" in shipped.body_text


def test_without_an_expected_date_the_line_is_left_out(client, app, shop):
    receive(client, app, payloads.text("hi", wa_id=ASHA))
    _ship(app, shop["order_id"], None)
    shipped = next(m for m in outbound(app) if m.purpose == "status:shipped")
    assert "Tracking number: BD99" in shipped.body_text and "Expected" not in shipped.body_text
