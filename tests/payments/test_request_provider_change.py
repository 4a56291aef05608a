"""A shop that changes provider while a request is open: the next request goes through the new one."""

from sqlalchemy import select

from checkout.extensions import db
from checkout.models import PaymentRequest, get_store_settings
from checkout.payments import requests
from tests.factories import customer, make_order, make_product, make_store
from tests.fakes.stripe_api import SECRET_KEY, FakeStripe


def test_asking_again_after_the_shop_moved_from_upi_to_stripe_expires_the_upi_link(make_app):
    fake = FakeStripe()
    app = make_app(STRIPE_SECRET_KEY=SECRET_KEY, STRIPE_API_BASE=fake.url, STRIPE_MAX_NETWORK_RETRIES=0)
    try:
        with app.app_context():
            make_store(payment_methods=["transfer"])
            settings = get_store_settings()
            settings.payment_provider, settings.upi_payee_address, settings.upi_payee_name = "upi", "me@okaxis", "Shop"
            order = make_order(
                [(make_product("Tawa", price_minor=89900).variants[0], 1)], customer(payment_method="transfer")
            )
            upi = requests.request_payment(order)
            assert upi.url.startswith("upi://pay?")
            assert requests.request_payment(order).id == upi.id  # same provider, same amount: the same request

            get_store_settings().payment_provider = "stripe"
            db.session.commit()
            stripe = requests.request_payment(order)

            rows = {r.provider: r.status for r in db.session.scalars(select(PaymentRequest))}
            assert rows == {"upi": "expired", "stripe": "requested"}
            assert stripe.url.startswith(fake.url) or stripe.url.startswith("https://")
            assert len(fake.sessions) == 1
    finally:
        fake.close()
