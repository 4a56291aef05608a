"""Orders asked to pay through the fake Stripe, and time moved for them in the database (never by sleeping)."""

from datetime import timedelta

from sqlalchemy import select

from checkout.extensions import db
from checkout.models import Message, Order, PaymentRequest
from checkout.models.catalog import Variant
from tests.factories import customer, make_order, make_product, make_store

ASHA, ASHA_DIGITS = "+919876543210", "919876543210"
PRICE = 89_900


def stripe_shop(**settings) -> int:
    """A shop asking for payment through Stripe when the order is placed; the id of its one variant (stock 10)."""
    make_store(
        **({"name": "Test Shop", "payment_provider": "stripe", "payment_request_when": "order_created"} | settings)
    )
    return make_product("Cotton Kurta", price_minor=PRICE, stock=10).variants[0].id


def place_unpaid(variant_id: int, phone: str = ASHA) -> Order:
    """An order paid by transfer: placing it asks for payment (a Stripe Checkout link, sent in WhatsApp)."""
    variant = db.session.get(Variant, variant_id)
    return make_order([(variant, 1)], details=customer(phone=phone, payment_method="transfer"))


def the_request(order_id: int) -> PaymentRequest:
    query = select(PaymentRequest).where(PaymentRequest.order_id == order_id).order_by(PaymentRequest.id.desc())
    return db.session.scalars(query.execution_options(populate_existing=True)).first()


def requests_of(order_id: int) -> list[PaymentRequest]:
    query = select(PaymentRequest).where(PaymentRequest.order_id == order_id).order_by(PaymentRequest.id)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def asked_hours_ago(order_id: int, hours: float, *, link_too: bool = False) -> None:
    """Move the order's requests `hours` into the past (with `link_too`, the time their links run out as well)."""
    earlier = timedelta(hours=hours)
    for request in requests_of(order_id):
        request.created_at -= earlier
        if link_too and request.expires_at is not None:
            request.expires_at -= earlier
    db.session.commit()


def purposes_queued(order_id: int) -> list[str]:
    """What was queued to the customer about this order, oldest first (the outbox writes each once)."""
    query = select(Message.purpose).where(Message.order_id == order_id, Message.direction == "out")
    return list(db.session.scalars(query.order_by(Message.id)))
