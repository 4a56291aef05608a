"""Messages about money say where it stands: a part-payment is not "paid", cash collected on delivery is one
message, and a cancelled order's customer learns what happens to the money paid."""

import pytest
from sqlalchemy import select

from checkout import outbox
from checkout.extensions import db
from checkout.models import Message, Order, WebhookEvent
from checkout.orders.desk import change_status, record_payment
from checkout.orders.errors import RefundDecisionNeeded
from checkout.orders.lifecycle import transition
from checkout.whatsapp import webhooks
from checkout.whatsapp.limits import check_payload
from tests.admin_helpers import make_staff, sign_in
from tests.factories import customer, make_order, make_product, make_store
from tests.messaging import payloads

ASHA = "919876543210"
RUPEES_1000 = 100_000


@pytest.fixture
def order_id(app):
    """A confirmed order of ₹5,844 (₹5,794 + ₹50 delivery), from a customer who wrote to the shop (in window)."""
    with app.app_context():
        make_store(delivery_fee_minor=5000)
        variant = make_product("Silk Saree", price_minor=579_400, stock=5).variants[0]
        order = make_order([(variant, 1)], details=customer(phone="+" + ASHA, payment_method="cod"))
        transition(order, "confirmed", actor="Owner")
        db.session.commit()
        assert order.total_minor == 584_400
        outbox.run_due()
        return order.id


def customer_writes(client, app) -> None:
    """Asha writes to the shop (the signed webhook, processed as the worker does): her 24-hour window opens."""
    assert payloads.post_signed(client, app, payloads.text("hi", wa_id=ASHA)).status_code == 200
    with app.app_context():
        for event_id in db.session.scalars(select(WebhookEvent.id).where(WebhookEvent.processed_at.is_(None))).all():
            webhooks.process_event(event_id)
        outbox.run_due()


def messages_to_asha(app) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(
            select(Message).where(Message.direction == "out", Message.phone == "+" + ASHA).order_by(Message.id)
        ).all()
        db.session.expunge_all()
        return rows


def pay(app, order_id, amount_minor) -> None:
    with app.app_context():
        owner = make_staff("owner", email=f"payer{amount_minor}@sunrise.example.com")
        order = db.session.get(Order, order_id)
        record_payment(
            order, method="upi", amount_minor=amount_minor, reference="UPI", staff=owner, expected_version=None
        )
        outbox.run_due()


def test_a_part_payment_states_the_amount_and_the_balance_still_due(client, app, order_id):
    customer_writes(client, app)
    pay(app, order_id, RUPEES_1000)
    message = messages_to_asha(app)[-1]
    # Inside the window the receipt PDF is the message; the shop's words open its caption.
    assert message.purpose == "receipt" and message.kind == "document"
    assert "We've received ₹1,000.00 for order" in message.body_text
    assert "Still to pay: ₹4,844.00" in message.body_text
    assert "paid in full" not in message.body_text


def test_paying_the_balance_says_the_order_is_paid_in_full(client, app, order_id):
    customer_writes(client, app)
    pay(app, order_id, 584_400)
    text = messages_to_asha(app)[-1].body_text
    assert "We've received ₹5,844.00" in text and "Your order is paid in full (₹5,844.00)." in text
    assert "Still to pay" not in text


def test_outside_the_window_the_template_carries_amount_and_balance(app, order_id):
    pay(app, order_id, RUPEES_1000)
    message = messages_to_asha(app)[-1]
    assert message.kind == "template"
    assert "payment of ₹1,000.00 received; ₹4,844.00 still to pay" in message.body_text


def test_cash_on_delivery_marked_delivered_sends_one_message_that_says_it_is_paid(client, app, order_id):
    customer_writes(client, app)
    with app.app_context():
        owner = make_staff("owner")
        for status in ("preparing", "shipped", "out_for_delivery"):
            change_status(db.session.get(Order, order_id), status, staff=owner, expected_version=None)
        outbox.run_due()
    before = len(messages_to_asha(app))
    with app.app_context():
        order = db.session.get(Order, order_id)
        change_status(
            order, "delivered", staff=make_staff("owner", email="o2@sunrise.example.com"), expected_version=None
        )
        assert (order.payment_status, order.amount_paid_minor) == ("paid", 584_400)
        outbox.run_due()
    after = messages_to_asha(app)[before:]
    assert [m.purpose for m in after] == ["status:delivered"]  # not "payment received" on top of it
    assert "has been delivered" in after[0].body_text and "Paid in full: ₹5,844.00" in after[0].body_text
    assert "rating from 1" in after[0].body_text


def test_cancelling_a_paid_order_needs_a_refund_decision(app, order_id):
    pay(app, order_id, RUPEES_1000)
    with app.app_context():
        owner = make_staff("owner", email="second@sunrise.example.com")
        order = db.session.get(Order, order_id)
        with pytest.raises(RefundDecisionNeeded, match="has paid ₹1,000.00"):
            change_status(order, "cancelled", staff=owner, expected_version=None, note="Out of stock")
        assert db.session.get(Order, order_id).status == "confirmed"


def test_cancelling_with_a_refund_records_it_and_tells_the_customer(client, app, order_id):
    pay(app, order_id, RUPEES_1000)
    customer_writes(client, app)
    with app.app_context():
        owner = make_staff("owner", email="second@sunrise.example.com")
        order = db.session.get(Order, order_id)
        change_status(order, "cancelled", staff=owner, expected_version=None, note="Out of stock", refund_paid=True)
        assert (order.amount_paid_minor, order.payment_status) == (0, "refunded")
        assert [p.kind for p in order.payments] == ["payment", "refund"]
        assert order.payments[-1].amount_minor == RUPEES_1000
        outbox.run_due()
    text = messages_to_asha(app)[-1].body_text
    assert "has been cancelled" in text and "We have refunded ₹1,000.00 to you." in text
    assert "still hold" not in text


def test_cancelling_and_keeping_the_money_says_so(app, order_id):
    pay(app, order_id, RUPEES_1000)
    with app.app_context():
        owner = make_staff("owner", email="second@sunrise.example.com")
        order = db.session.get(Order, order_id)
        change_status(order, "cancelled", staff=owner, expected_version=None, note="Out of stock", refund_paid=False)
        assert order.amount_paid_minor == RUPEES_1000
        outbox.run_due()
    message = messages_to_asha(app)[-1]
    assert message.kind == "template"  # the customer never wrote: outside the window
    assert "we hold the ₹1,000.00 you paid and will contact you about returning it" in message.body_text
    check_payload(message_payload(app, message.id))


def message_payload(app, message_id) -> dict:
    with app.app_context():
        return db.session.get(Message, message_id).payload


# --- the admin's cancel form -----------------------------------------------------------------------------------


def admin(app, client, role):
    with app.app_context():
        email = make_staff(role, email=f"{role}-admin@sunrise.example.com").email
    sign_in(client, email)
    return client


def cancel(client, app, order_id, **form):
    with app.app_context():
        order = db.session.get(Order, order_id)
        reference, version = order.reference, order.version
    data = {"target": "cancelled", "note": "Out of stock", "version": version, **form}
    return client.post(f"/admin/orders/{reference}/status", data=data), reference


def test_the_cancel_form_of_a_paid_order_asks_whether_to_refund(client, app, order_id):
    pay(app, order_id, RUPEES_1000)
    admin(app, client, "owner")
    with app.app_context():
        reference = db.session.get(Order, order_id).reference
    page = client.get(f"/admin/orders/{reference}").get_data(as_text=True)
    assert "The customer has paid ₹1,000.00. Their money:" in page
    assert 'name="refund" value="refund"' in page and 'name="refund" value="keep"' in page

    response, _ = cancel(client, app, order_id)
    assert response.status_code == 422 and "Choose whether to refund it now" in response.get_data(as_text=True)
    response, _ = cancel(client, app, order_id, refund="refund")
    assert response.status_code in (302, 303)
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.status, order.amount_paid_minor) == ("cancelled", 0)


def test_staff_who_may_not_refund_can_only_keep_the_money(client, app, order_id):
    pay(app, order_id, RUPEES_1000)
    admin(app, client, "fulfilment")
    response, reference = cancel(client, app, order_id, refund="refund")
    assert response.status_code == 422
    page = client.get(f"/admin/orders/{reference}").get_data(as_text=True)
    assert 'value="refund"' not in page and 'value="keep"' in page
    response, _ = cancel(client, app, order_id, refund="keep")
    assert response.status_code in (302, 303)
    with app.app_context():
        assert db.session.get(Order, order_id).amount_paid_minor == RUPEES_1000
