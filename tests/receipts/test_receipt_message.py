"""One payment, one WhatsApp message: inside the 24-hour window the receipt PDF with its summary as caption."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from checkout import events, outbox
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Contact, get_store_settings
from checkout.models.messaging import Message, OutboxItem
from checkout.orders.desk import change_status, record_payment
from checkout.orders.lifecycle import OrderStatus
from checkout.receipts.message import receipt_message
from checkout.whatsapp import attachments
from checkout.whatsapp.limits import PayloadInvalid, check_payload
from tests.admin_helpers import make_staff
from tests.factories import customer, make_order, make_product
from tests.fakes.graph_api import meta_rejections
from tests.messaging.conftest import move_order_to, outbox_items, outgoing_messages, place

ASHA, ASHA_DIGITS = "+919876543210", "919876543210"


def _open_window(phone: str) -> None:
    db.session.add(Contact(phone=phone, wa_id=phone.lstrip("+"), last_inbound_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()


def _pay(order, amount_minor=20_000):
    staff = make_staff(email=f"staff{len(order.payments)}@shop.example")
    record_payment(
        order, method="upi", amount_minor=amount_minor, reference="UPI-5", staff=staff, expected_version=None
    )
    db.session.commit()
    return order.payments[-1]


def test_a_payment_in_the_window_sends_the_receipt_as_one_document_meta_accepts(cloud, graph_api, variant_id):
    _open_window(ASHA)
    order = place(variant_id, name="राहुल 😀 محمد", phone=ASHA)
    outbox.run_due()
    before = len(graph_api.messages_to(ASHA_DIGITS))

    _pay(order)
    assert "failed" not in outbox.run_due()

    sent = graph_api.messages_to(ASHA_DIGITS)[before:]
    assert [m.type for m in sent] == ["document"]  # the receipt replaces the "payment received" text
    document = sent[0].body["document"]
    assert "link" not in document  # uploaded, sent by id: Meta needs no public address for the customer's receipt
    uploaded = graph_api.uploads[document["id"]]
    assert uploaded.mime_type == "application/pdf" and uploaded.data.startswith(b"%PDF-")
    assert uploaded.filename == document["filename"] == f"Receipt-{order.reference}-1.pdf"
    assert document["caption"].startswith(
        "Thank you, राहुल 😀 محمد! We've received ₹200.00 for order"
    )  # the shop's words
    assert f"\n\n*Receipt {order.reference}-1*" in document["caption"]
    assert len(document["caption"]) <= 1024
    assert graph_api.violations == []
    # The message row now names the file WhatsApp holds; the recipe it was made from is gone.
    [row] = [m for m in outgoing_messages() if m.purpose == "receipt"]
    assert row.payload["document"]["id"] == document["id"] and "attachment" not in row.payload


def test_an_upload_that_fails_is_tried_again_and_the_receipt_goes_once(cloud, graph_api, variant_id):
    _open_window(ASHA)
    order = place(variant_id, phone=ASHA)
    outbox.run_due()
    before = len(graph_api.messages_to(ASHA_DIGITS))
    graph_api.upload_failures = 1

    _pay(order)
    outbox.run_due()
    item = db.session.scalar(select(OutboxItem).join(Message).where(Message.purpose == "receipt"))
    assert item.status == "pending" and "upload" in item.last_error
    assert graph_api.messages_to(ASHA_DIGITS)[before:] == []  # nothing reached the customer

    item.next_attempt_at = utcnow()
    db.session.commit()
    outbox.run_due()
    sent = graph_api.messages_to(ASHA_DIGITS)[before:]
    assert [m.type for m in sent] == ["document"] and sent[0].body["document"]["id"] in graph_api.uploads
    assert graph_api.violations == []


def test_a_receipt_whose_payment_is_gone_fails_with_a_reason_and_sends_nothing(cloud, graph_api, variant_id):
    _open_window(ASHA)
    order = place(variant_id, phone=ASHA)
    outbox.run_due()
    payment = _pay(order)
    row = db.session.scalar(select(Message).where(Message.purpose == "receipt"))
    row.payload = {**row.payload, "attachment": {**row.payload["attachment"], "payment_id": payment.id + 1000}}
    db.session.commit()

    outbox.run_due()
    db.session.refresh(row)
    assert row.status == "failed" and "can no longer be made" in row.error_title
    assert graph_api.uploads == {}


def test_the_event_heard_twice_still_queues_one_receipt(cloud, graph_api, variant_id):
    _open_window(ASHA)
    order = place(variant_id, phone=ASHA)
    payment = _pay(order)

    events.publish(events.PAYMENT_RECORDED, order=order, payment=payment, tell_customer=True)
    db.session.commit()

    receipts = [m for m in outgoing_messages() if m.purpose == "receipt"]
    assert len(receipts) == 1
    keys = [item.idempotency_key for item in outbox_items() if item.message_id == receipts[0].id]
    assert keys == [f"receipt:{payment.id}"]


def test_outside_the_window_the_payment_template_goes_instead(cloud, graph_api, variant_id):
    order = place(variant_id, phone=ASHA)
    _pay(order)
    outbox.run_due()

    purposes = [m.purpose for m in outgoing_messages()]
    assert "receipt" not in purposes
    assert purposes.count("status:payment_received") == 1
    assert graph_api.violations == []


def test_cash_collected_on_delivery_is_told_in_the_delivered_message_not_a_receipt(cloud, graph_api, variant_id):
    _open_window(ASHA)
    order = place(variant_id, phone=ASHA, payment_method="cod")
    for status in (OrderStatus.CONFIRMED, OrderStatus.PREPARING, OrderStatus.SHIPPED, OrderStatus.OUT_FOR_DELIVERY):
        move_order_to(order, status)

    change_status(order, OrderStatus.DELIVERED, staff=make_staff(), expected_version=None)
    db.session.commit()

    assert order.payments[-1].method == "cod"
    purposes = [m.purpose for m in outgoing_messages()]
    assert "receipt" not in purposes and purposes.count("status:delivered") == 1


def test_a_long_order_still_makes_a_caption_within_meta_limit(cloud, graph_api, variant_id):
    products = [make_product(f"Hand-woven cotton saree with zari border no. {n}") for n in range(30)]
    order = make_order([(product.variants[0], 1) for product in products], details=customer(phone=ASHA))
    payment = _pay(order)

    message = receipt_message(order, payment, get_store_settings())

    assert len(message.payload["document"]["caption"]) <= 1024
    assert message.payload["document"]["caption"].endswith(f"…\nhttps://shop.example/o/{order.status_token}")
    body = {"messaging_product": "whatsapp", "to": ASHA_DIGITS, **attachments.with_media_id(message.payload, "42")}
    assert meta_rejections(body, {}) == []


@pytest.mark.parametrize(
    "document, problem",
    [
        ({"link": "https://shop.example/r.pdf", "caption": "x" * 1025}, "document caption is 1025 characters"),
        ({"caption": "no file"}, "either an uploaded media id or a link"),
        ({"id": "123", "link": "https://shop.example/r.pdf"}, "either an uploaded media id or a link"),
        ({"link": "ftp://shop.example/r.pdf"}, "http(s) address"),
        ({"link": "https://shop.example/r.pdf", "filename": "../etc/passwd"}, "must not contain a folder"),
    ],
)
def test_limits_refuse_a_document_meta_would_refuse(document, problem):
    with pytest.raises(PayloadInvalid) as refused:
        check_payload({"type": "document", "document": document})
    assert problem in str(refused.value)


def test_the_fake_meta_refuses_what_the_limits_refuse():
    body = {"messaging_product": "whatsapp", "to": ASHA_DIGITS, "type": "document"}
    too_long = {"link": "https://shop.example/r.pdf", "caption": "x" * 1025}
    assert meta_rejections({**body, "document": too_long}, {})
    assert meta_rejections({**body, "document": {"caption": "no file"}}, {})
    assert (
        meta_rejections({**body, "document": {"link": "https://shop.example/r.pdf", "caption": "x" * 1024}}, {}) == []
    )
