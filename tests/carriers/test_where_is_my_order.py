""" "Where is my order" on WhatsApp (through the signed webhook) answers with the courier's latest event and the
tracking link, within Meta's limits."""

from sqlalchemy import select

from checkout import outbox
from checkout.extensions import db
from checkout.models import Message, WebhookEvent
from checkout.whatsapp import limits, webhooks
from tests.carriers.couriers import (
    ASHA,
    TRACKING_URL,
    add_courier,
    generic_body,
    order_with_the_courier,
    post_signed,
)
from tests.messaging import payloads


def ask(client, app, text: str) -> Message:
    assert payloads.post_signed(client, app, payloads.text(text, wa_id=ASHA[1:])).status_code == 200
    with app.app_context():
        for event_id in db.session.scalars(select(WebhookEvent.id).where(WebhookEvent.processed_at.is_(None))).all():
            webhooks.process_event(event_id)
        outbox.run_due()
        reply = db.session.scalars(
            select(Message).where(Message.direction == "out", Message.phone == ASHA).order_by(Message.id.desc())
        ).first()
        db.session.expunge_all()
        return reply


def test_where_is_my_order_names_the_latest_courier_event_and_the_tracking_link(client, app):
    with app.app_context():
        order_with_the_courier(status="shipped")
        swift = add_courier("generic", name="swift")
        db.session.remove()
    agent = {"name": "Ravi Kumar", "phone": "+919800000001"}
    post_signed(client, *swift, generic_body("MOVING", "evt-1"))
    post_signed(client, *swift, generic_body("OFD", "evt-2", agent=agent, slot="today 14:00–17:00"))
    post_signed(client, *swift, generic_body("WEIGHED", "evt-3"))  # not in the table: not what the customer sees

    reply = ask(client, app, "Where is my order?")

    assert reply.purpose == "reply:status" and "Out for delivery" in reply.body_text
    line = next(line for line in reply.body_text.splitlines() if line.startswith("Courier: "))
    assert line == (
        "Courier: Out for delivery · swift · 2026-12-04T10:00:00+05:30 · agent Ravi Kumar +919800000001; "
        f"window today 14:00–17:00 · track: {TRACKING_URL}"
    )
    limits.check_payload(reply.payload)


def test_without_courier_events_the_tracking_link_alone_is_given(client, app):
    with app.app_context():
        order_with_the_courier(status="shipped")
        db.session.remove()
    reply = ask(client, app, "status")
    assert f"Courier: track: {TRACKING_URL}" in reply.body_text


def test_a_failed_delivery_is_told_with_its_reason_and_a_long_one_is_cut(client, app):
    with app.app_context():
        order_with_the_courier(status="out_for_delivery")
        swift = add_courier("generic", name="swift")
        db.session.remove()
    status = {"code": "NDR", "at": "2026-12-04T18:00:00+05:30", "reason": "Door locked " * 40}
    post_signed(client, *swift, generic_body("NDR", "evt-4", status=status))
    reply = ask(client, app, "where is my order")
    line = next(line for line in reply.body_text.splitlines() if line.startswith("Courier: "))
    assert line.startswith("Courier: Delivery failed · swift · 2026-12-04T18:00:00+05:30 · Door locked")
    assert len(line) < 450 and line.endswith(f"track: {TRACKING_URL}")
