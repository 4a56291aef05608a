"""Chat checkouts racing on PostgreSQL: sixty Confirm taps for the last five units make exactly five orders."""

import threading

import pytest
from sqlalchemy import func, select

from checkout.carts import new_cart_token
from checkout.catalog import stock
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Cart, CartLine, Contact, Conversation, Message, Order, OrderLine, Variant, WebhookEvent
from checkout.whatsapp import chat_order, webhooks
from tests.conftest import ON_POSTGRES
from tests.factories import make_product, make_store
from tests.messaging import payloads

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="row locking is exercised on PostgreSQL (DATABASE_URL)"),
]

CUSTOMERS = 60


def _phone_digits(index: int) -> str:
    return f"2547{index:08d}"


def _at_the_summary(variant: Variant, index: int) -> str:
    """A customer whose chat reached the summary of one unit: their contact, conversation, cart and flow."""
    digits = _phone_digits(index)
    contact = Contact(phone="+" + digits, wa_id=digits, name=f"Customer {index}")
    cart = Cart(token=new_cart_token(), channel="whatsapp", phone="+" + digits)
    cart.lines.append(CartLine(variant=variant, quantity=1, seen_price_minor=variant.price_minor))
    flow_id = f"race{index:04d}"
    conversation = Conversation(
        contact=contact,
        phone="+" + digits,
        name=contact.name,
        cart=cart,
        flow_step=chat_order.CONFIRM,
        flow_touched_at=utcnow(),
        flow_data={
            "flow_id": flow_id,
            "name": contact.name,
            "fulfilment": "pickup",
            "payment": "cod",
            "subtotal": variant.price_minor,
        },
    )
    db.session.add_all([contact, cart, conversation])
    return f"{chat_order.CONFIRM_PREFIX}{flow_id}"


def test_sixty_chat_checkouts_racing_for_the_last_five_units_make_exactly_five_orders(app):
    with app.app_context():
        make_store()
        variant = make_product("Last Kanga", price_minor=120000, stock=5).variants[0]
        variant_id = variant.id
        confirm_ids = [_at_the_summary(variant, index) for index in range(CUSTOMERS)]
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    for index, confirm_id in enumerate(confirm_ids):
        body = payloads.reply_button(confirm_id, "Confirm", wa_id=_phone_digits(index))
        assert payloads.post_signed(client, app, body).status_code == 200
    with app.app_context():
        event_ids = list(db.session.scalars(select(WebhookEvent.id).order_by(WebhookEvent.id)))
        db.session.remove()
    assert len(event_ids) == CUSTOMERS

    barrier, results, crashes = threading.Barrier(CUSTOMERS), [], []

    def worker(event_id):
        with app.app_context():
            barrier.wait()
            try:
                results.append(webhooks.process_event(event_id))
            except Exception as error:  # noqa: BLE001 (every error is a failure of the test, reported below)
                crashes.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(event_id,)) for event_id in event_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert crashes == [] and results == ["processed"] * CUSTOMERS
    with app.app_context():
        assert db.session.scalars(select(WebhookEvent.error)).all() == [""] * CUSTOMERS
        assert db.session.scalar(select(func.count(Order.id)).where(Order.source == "whatsapp")) == 5
        assert db.session.scalar(select(func.sum(OrderLine.quantity))) == 5
        variant = db.session.get(Variant, variant_id)
        assert variant.stock_on_hand == 0 and stock.available_quantities([variant])[variant_id] == 0
        refusals = db.session.scalars(
            select(Message.body_text).where(Message.direction == "out", Message.purpose == "chat:cart")
        ).all()
        assert len(refusals) == CUSTOMERS - 5 and all("could not be placed" in text for text in refusals)
        kept = db.session.scalar(
            select(func.count(Conversation.id)).where(
                Conversation.cart_id.is_not(None), Conversation.flow_step == "cart"
            )
        )
        assert kept == CUSTOMERS - 5  # the others keep their carts, to order something else
