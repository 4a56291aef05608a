"""Brazilian mobiles answer from a wa_id with or without the ninth digit; their orders are found either way.

Mobiles registered on WhatsApp before Brazil put a 9 in front of every mobile number (2012-2016) keep a
wa_id of 55 + area + 8 digits; the number the shopper types, and the order holds, has the 9.
Every message here goes through the signed webhook path.
"""

import pytest
from sqlalchemy import func, select

from checkout import outbox
from checkout.extensions import db
from checkout.models import Contact, Message, Order, WebhookEvent
from checkout.whatsapp import webhooks
from tests.factories import customer, make_order, make_product, make_store
from tests.messaging import payloads

WITH_NINE = "5511987654321"  # +55 11 98765-4321, as typed at checkout
WITHOUT_NINE = "551187654321"  # the same phone's wa_id from before the ninth digit


def place_order(app, phone: str) -> dict:
    with app.app_context():
        make_store(default_region="BR", currency="BRL", locale="pt_BR")
        variant = make_product("Camiseta", price_minor=4990, stock=5).variants[0]
        order = make_order([(variant, 1)], details=customer(name="Ana Souza", phone="+" + phone))
        outbox.run_due()
        data = {"reference": order.reference, "order_id": order.id}
        db.session.remove()
    return data


def receive(client, app, body) -> None:
    """Post a signed webhook, then do what the worker would: process it and deliver the replies."""
    assert payloads.post_signed(client, app, body).status_code == 200
    with app.app_context():
        for event_id in db.session.scalars(select(WebhookEvent.id).where(WebhookEvent.processed_at.is_(None))).all():
            webhooks.process_event(event_id)
        outbox.run_due()


def the_order(app, order_id) -> Order:
    with app.app_context():
        order = db.session.get(Order, order_id)
        db.session.expunge_all()
        return order


def replies_to(app, phone: str) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Message.purpose).where(Message.direction == "out", Message.phone == phone).order_by(Message.id)
            )
        )


@pytest.mark.parametrize(("ordered_with", "answered_from"), [(WITH_NINE, WITHOUT_NINE), (WITHOUT_NINE, WITH_NINE)])
def test_a_tap_from_the_other_form_of_a_brazilian_mobile_confirms_the_order(client, app, ordered_with, answered_from):
    placed = place_order(app, ordered_with)
    receive(client, app, payloads.template_button(f"confirm:{placed['reference']}", wa_id=answered_from, name="Ana"))
    order = the_order(app, placed["order_id"])
    assert order.status == "confirmed" and order.attention in (None, "")


@pytest.mark.parametrize(("ordered_with", "answered_from"), [(WITH_NINE, WITHOUT_NINE), (WITHOUT_NINE, WITH_NINE)])
def test_the_summary_from_the_other_form_verifies_the_number_and_status_finds_the_order(
    client, app, ordered_with, answered_from
):
    placed = place_order(app, ordered_with)
    receive(client, app, payloads.text(f"Olá! Pedido {placed['reference']}", wa_id=answered_from, name="Ana"))
    order = the_order(app, placed["order_id"])
    assert order.phone_verified_at is not None and not order.attention
    receive(client, app, payloads.text("Cadê meu pedido?", wa_id=answered_from, name="Ana"))
    with app.app_context():
        reply = db.session.scalars(
            select(Message).where(Message.direction == "out", Message.purpose == "reply:status")
        ).one()
        assert placed["reference"] in reply.body_text
        assert reply.phone == "+" + WITH_NINE  # sent to the number as Brazil writes it today


def test_a_wa_id_without_the_nine_is_kept_as_the_number_with_it(client, app):
    placed = place_order(app, WITH_NINE)
    receive(client, app, payloads.text(f"Pedido {placed['reference']}", wa_id=WITHOUT_NINE, name="Ana"))
    receive(client, app, payloads.text("obrigada", wa_id=WITH_NINE, name="Ana"))
    with app.app_context():
        assert db.session.scalars(select(Contact.phone)).all() == ["+" + WITH_NINE]  # one contact, one phone
    # the order's template at placing, then the buttons answering the summary: all to the one number
    assert replies_to(app, "+" + WITH_NINE) == ["order_confirmation", "order_confirmation"]
    assert replies_to(app, "+" + WITHOUT_NINE) == []


def test_a_contact_saved_under_the_old_form_is_found_not_duplicated(client, app):
    placed = place_order(app, WITH_NINE)
    with app.app_context():
        db.session.add(Contact(phone="+" + WITHOUT_NINE, wa_id=WITHOUT_NINE, name="Ana"))
        db.session.commit()
    receive(client, app, payloads.text(f"Pedido {placed['reference']}", wa_id=WITHOUT_NINE, name="Ana"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Contact)) == 1
    assert the_order(app, placed["order_id"]).phone_verified_at is not None


def test_a_brazilian_landline_is_not_taken_for_a_mobile(client, app):
    """Landlines start 2-5: +55 11 3456-7890 is not +55 11 93456-7890 (a newer mobile that never lacked its 9)."""
    placed = place_order(app, "5511934567890")
    receive(client, app, payloads.template_button(f"confirm:{placed['reference']}", wa_id="551134567890"))
    order = the_order(app, placed["order_id"])
    assert order.status == "pending" and "+551134567890" in order.attention
