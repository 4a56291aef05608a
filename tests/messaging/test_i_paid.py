"""A customer writes "I paid": answered from the order's payment record, through the signed webhook (sandbox)."""

import json

import pytest
from sqlalchemy import select

from checkout import outbox
from checkout.extensions import db
from checkout.models import Message, Order
from checkout.models.payments import PaymentRequest
from checkout.orders.desk import record_payment
from checkout.payments.requests import request_payment
from checkout.whatsapp.paid_claims import STAFF_NOTE
from tests.admin_helpers import make_staff
from tests.factories import customer, make_order, make_product, make_store
from tests.messaging import payloads
from tests.messaging.test_conversations import ASHA, STRANGER, outbound, receive, the_order


def _shop(app, *, request_payment_now=False, **settings) -> dict:
    with app.app_context():
        make_store(**settings)
        variant = make_product("Cotton Kurta", price_minor=79900, stock=5).variants[0]
        order = make_order([(variant, 2)], details=customer(phone="+" + ASHA, payment_method="transfer"))
        if request_payment_now:
            request_payment(order)
        outbox.run_due()
        data = {"reference": order.reference, "order_id": order.id}
        db.session.remove()
    return data


def _pay(app, order_id, amount_minor=None) -> None:
    """Record a payment by staff; the whole total when no amount is given."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        amount_minor = amount_minor or order.total_minor
        staff = make_staff("owner")
        record_payment(
            order, method="upi", amount_minor=amount_minor, reference="UPI1", staff=staff, expected_version=None
        )
        outbox.run_due()


def _payment_state(app, order_id) -> tuple:
    with app.app_context():
        order = db.session.get(Order, order_id)
        return order.payment_status, order.amount_paid_minor, len(order.payments)


def test_a_paid_order_gets_its_receipt_again_once(client, app):
    shop = _shop(app)
    _pay(app, shop["order_id"])
    before = len(outbound(app))
    body = payloads.text("I paid", wa_id=ASHA)
    receive(client, app, body)
    new = outbound(app)[before:]
    assert [m.kind for m in new] == ["document"]
    (receipt,) = new
    assert receipt.purpose == "receipt" and shop["reference"] in receipt.body_text
    assert "is paid in full" in receipt.body_text and receipt.status == "sent"
    assert receipt.payload["document"]["filename"].endswith(".pdf")
    receive(client, app, body)  # the same webhook again: Meta retried
    assert len(outbound(app)) == before + 1
    assert STAFF_NOTE not in [event.note for event in the_order(app, shop["order_id"]).events]


def test_an_unpaid_order_gets_what_is_owed_the_upi_link_again_and_a_note_for_staff(client, app):
    shop = _shop(
        app,
        payment_provider="upi",
        upi_payee_address="testshop@okaxis",
        upi_payee_name="Test Shop",
        request_payment_now=True,
    )
    with app.app_context():
        (request,) = db.session.scalars(select(PaymentRequest)).all()
        link = request.url
    assert link.startswith("upi://pay?")
    before = len(outbound(app))
    state = _payment_state(app, shop["order_id"])
    receive(client, app, payloads.text("payment done", wa_id=ASHA))
    new = outbound(app)[before:]
    assert "₹1,648.00 is still owed" in new[0].body_text and shop["reference"] in new[0].body_text
    assert any(link in m.body_text for m in new[1:])
    assert _payment_state(app, shop["order_id"]) == state == ("unpaid", 0, 0)
    order = the_order(app, shop["order_id"])
    assert order.attention == STAFF_NOTE
    assert (order.events[-1].kind, order.events[-1].actor, order.events[-1].note) == (
        "whatsapp",
        "customer",
        STAFF_NOTE,
    )


def test_a_partly_paid_order_says_the_rest_in_hinglish(client, app):
    shop = _shop(app)
    _pay(app, shop["order_id"], 59800)
    before = len(outbound(app))
    receive(client, app, payloads.text("maine pay kar diya", wa_id=ASHA))
    (reply,) = outbound(app)[before:]  # no payment request open: nothing else to send
    assert "₹1,050.00 baaki hai" in reply.body_text
    assert _payment_state(app, shop["order_id"]) == ("partially_paid", 59800, 1)
    assert the_order(app, shop["order_id"]).attention == STAFF_NOTE


@pytest.mark.parametrize("claim", ["paid", "nimelipa", "já paguei", "fiz o pix"])
def test_with_no_order_the_claim_reveals_nothing(client, app, claim):
    shop = _shop(app)
    receive(client, app, payloads.text(claim, wa_id=STRANGER))
    receive(client, app, payloads.text("where is my order?", wa_id="254700000001"))
    (claim_answer,) = outbound(app, STRANGER)
    (status_answer,) = outbound(app, "254700000001")
    assert json.dumps(claim_answer.payload) == json.dumps(status_answer.payload)
    assert shop["reference"] not in claim_answer.body_text and "Cotton Kurta" not in claim_answer.body_text
    assert the_order(app, shop["order_id"]).attention in ("", None)


def test_a_confirm_tap_still_confirms(client, app):
    shop = _shop(app)
    receive(client, app, payloads.template_button(f"confirm:{shop['reference']}", wa_id=ASHA))
    assert the_order(app, shop["order_id"]).status == "confirmed"
    receive(client, app, payloads.text("paid", wa_id=ASHA))
    assert outbound(app)[-1].purpose == "reply:paid"


def test_a_picture_sent_after_the_claim_stays_in_the_inbox_and_changes_nothing(client, app):
    shop = _shop(app)
    receive(client, app, payloads.text("I paid", wa_id=ASHA))
    before = len(outbound(app))
    image = payloads.inbound({"type": "image", "image": {"id": "MEDIA1", "mime_type": "image/jpeg"}}, wa_id=ASHA)
    receive(client, app, image)
    assert len(outbound(app)) == before
    assert _payment_state(app, shop["order_id"]) == ("unpaid", 0, 0)
    with app.app_context():
        kinds = db.session.scalars(select(Message.kind).where(Message.direction == "in")).all()
    assert kinds == ["text", "image"]


def _picture(caption: str = "") -> dict:
    part = {"id": "sandbox-" + "ab" * 32, "mime_type": "image/jpeg", "sha256": "ab" * 32, "caption": caption}
    return payloads.inbound({"type": "image", "image": part}, wa_id=ASHA)


def test_a_screenshot_from_a_customer_who_owes_goes_to_staff_and_changes_no_payment(client, app):
    shop = _shop(app)
    before = _payment_state(app, shop["order_id"])
    receive(client, app, _picture("paid via gpay"))
    order = the_order(app, shop["order_id"])
    assert "payment proof" in order.attention
    assert order.events[-1].kind == "whatsapp" and "picture" in order.events[-1].note
    assert _payment_state(app, shop["order_id"]) == before  # a picture is no payment
    with app.app_context():
        picture = db.session.scalar(select(Message).where(Message.kind == "image"))
        assert picture.order_id == shop["order_id"]  # shown beside the order in the inbox


def test_a_picture_after_the_order_is_paid_or_from_a_stranger_flags_nothing(client, app):
    shop = _shop(app)
    _pay(app, shop["order_id"])
    receive(client, app, _picture())
    assert the_order(app, shop["order_id"]).attention == ""
    stranger = payloads.inbound({"type": "image", "image": {"id": "sandbox-" + "cd" * 32}}, wa_id=STRANGER)
    receive(client, app, stranger)
    with app.app_context():
        assert db.session.scalar(select(Order.attention).where(Order.id == shop["order_id"])) == ""
