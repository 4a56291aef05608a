"""Returns fixtures: a shop that talks through the fake Graph API (which refuses what Meta would), takes card payments
through the fake Stripe, keeps customers' media in this test's folder, and has one delivered order to return."""

from dataclasses import dataclass

import pytest
from flask import current_app
from sqlalchemy import select

from checkout import outbox
from checkout.extensions import db
from checkout.models import Order, Variant
from checkout.orders.lifecycle import OrderStatus, transition
from checkout.payments.events import process_payment_event, store_event
from checkout.payments.stripe_checkout import StripeProvider
from tests.admin_helpers import make_staff
from tests.factories import customer, make_order, make_product, make_store
from tests.fakes.stripe_api import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.messaging.conftest import (  # noqa: F401  (graph_api is a fixture)
    cloud_settings,
    graph_api,
    inbound_webhook,
    receive_webhook,
)

ASHA = "919900011122"
STRANGER = "254712345678"
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@pytest.fixture
def stripe_fake():
    fake = FakeStripe(timeout_seconds=4)
    yield fake
    fake.close()


@pytest.fixture
def shop_app(make_app, graph_api, stripe_fake, tmp_path):  # noqa: F811  (the fixture imported above)
    return make_app(
        **cloud_settings(graph_api.url),
        MEDIA_FOLDER=str(tmp_path / "media"),
        STRIPE_SECRET_KEY=SECRET_KEY,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=stripe_fake.url,
        STRIPE_TIMEOUT=1.5,  # room for a loaded CI machine; the fakes hold a "timeout" longer
        STRIPE_MAX_NETWORK_RETRIES=0,
    )


@pytest.fixture
def shop(shop_app):
    with shop_app.app_context():
        yield shop_app
        db.session.remove()


@dataclass(frozen=True)
class Delivered:
    reference: str
    order_id: int
    variant_id: int
    token: str


def deliver_order(*, paid_by_card: bool, stripe: FakeStripe | None = None, quantity: int = 2) -> Delivered:
    """An order of `quantity` kurtas placed, paid (by card through Stripe, or not at all: cash on delivery) and
    taken to "delivered" by staff; every message up to then sent."""
    make_store(name="Test Shop", payment_methods=["cod", "transfer"])
    variant = make_product("Cotton Kurta", price_minor=50000, stock=5).variants[0]
    details = customer(phone="+" + ASHA, payment_method="transfer" if paid_by_card else "cod")
    order = make_order([(variant, quantity)], details=details)
    make_staff("owner")
    make_staff("viewer")
    make_staff("fulfilment")
    db.session.commit()
    # The customer sends the order from WhatsApp: the 24-hour window is open, so messages may be interactive.
    receive_webhook(current_app, inbound_webhook(ASHA, {"type": "text", "text": {"body": f"Order {order.reference}"}}))
    order = db.session.scalar(select(Order).where(Order.reference == order.reference))
    if paid_by_card:
        link = StripeProvider.from_config().request(order, order.balance_minor, order.currency, reference="R1")
        event = stripe.pay(link.provider_reference)
        process_payment_event(store_event("stripe", event.event_id, event.raw_body).id)
    for status in (S.CONFIRMED, S.PREPARING, S.SHIPPED, S.OUT_FOR_DELIVERY, S.DELIVERED):
        order = db.session.scalar(select(Order).where(Order.reference == order.reference))
        transition(order, status, actor="Test Staff")
        db.session.commit()
    outbox.run_due()
    delivered = Delivered(order.reference, order.id, variant.id, order.status_token)
    db.session.remove()
    return delivered


def stock_on_hand(variant_id: int) -> int:
    db.session.rollback()
    return db.session.get(Variant, variant_id).stock_on_hand


S = OrderStatus
