"""Payments fixtures: a shop that asks for payment through the fake Stripe and talks through the fake Graph API."""

import pytest

from checkout.extensions import db
from tests.fakes.stripe_api import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.messaging.conftest import cloud_settings, graph_api  # noqa: F401  (graph_api is a fixture)

STRIPE_WEBHOOK = "/webhooks/payments/stripe"


@pytest.fixture
def stripe_fake():
    fake = FakeStripe(timeout_seconds=4)
    yield fake
    fake.close()


@pytest.fixture
def shop_app(make_app, graph_api, stripe_fake):  # noqa: F811  (the fixture imported above)
    app = make_app(
        **cloud_settings(graph_api.url),
        STRIPE_SECRET_KEY=SECRET_KEY,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=stripe_fake.url,
        STRIPE_TIMEOUT=1.5,  # room for a loaded CI machine; the fakes hold a "timeout" longer
        STRIPE_MAX_NETWORK_RETRIES=0,
    )
    client = app.test_client()
    stripe_fake.webhook = lambda raw, headers: client.post(STRIPE_WEBHOOK, data=raw, headers=headers).status_code
    return app


@pytest.fixture
def shop(shop_app):
    """An app context on the shop's app."""
    with shop_app.app_context():
        yield shop_app
        db.session.remove()
