"""A payment request the provider could not make is asked again by the sweep when it is due, further apart each
time, and staff see when the next attempt is. Stripe is the fake on 127.0.0.1; time is moved in the database."""

from datetime import timedelta

import pytest

from checkout import outbox
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Order
from checkout.orders.lifecycle import transition
from checkout.payments.requests import MAX_ATTEMPTS, RETRY_SPACING, retry_failed_requests
from tests.admin_helpers import make_staff, sign_in
from tests.conftest import ON_POSTGRES
from tests.payments.unpaid_orders import place_unpaid, stripe_shop, the_request
from tests.races import at_once


def make_due(order_id: int) -> None:
    request = the_request(order_id)
    request.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def stripe_session_requests(stripe_fake) -> int:
    return sum(1 for method, path, _ in stripe_fake.requests if (method, path) == ("POST", "/v1/checkout/sessions"))


def test_a_failed_request_is_asked_again_only_when_due_and_further_apart_each_time(shop, stripe_fake):
    variant_id = stripe_shop()
    stripe_fake.fail_next("server_error", times=MAX_ATTEMPTS + 2)
    order_id = place_unpaid(variant_id).id
    spacings = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        request = the_request(order_id)
        assert (request.status, request.attempts) == ("failed", attempt)
        assert "ProviderUnavailable" in request.last_error and "HTTP 500" in request.last_error
        if attempt == MAX_ATTEMPTS:
            break
        spacings.append(request.next_attempt_at - utcnow())
        assert retry_failed_requests() == 0  # not due: the sweep leaves it
        make_due(order_id)
        assert retry_failed_requests() == 1
    assert [round(s.total_seconds() / 60) for s in spacings] == [round(s.total_seconds() / 60) for s in RETRY_SPACING]
    assert spacings == sorted(spacings)
    request = the_request(order_id)
    assert request.next_attempt_at is None  # given up: no further attempt, whatever the sweep does
    assert retry_failed_requests() == 0
    assert stripe_session_requests(stripe_fake) == MAX_ATTEMPTS
    assert f"Given up after {MAX_ATTEMPTS} attempts." in db.session.get(Order, order_id).attention


def test_a_retry_that_succeeds_sends_the_link_once(shop, stripe_fake, graph_api):
    variant_id = stripe_shop()
    stripe_fake.fail_next("server_error")
    order_id = place_unpaid(variant_id).id
    make_due(order_id)
    assert retry_failed_requests() == 1
    request = the_request(order_id)
    assert request.status == "requested" and request.next_attempt_at is None and request.attempts == 2
    assert retry_failed_requests() == 0
    outbox.run_due()
    sent = [m for m in graph_api.messages_to("919876543210") if m.type == "template"]
    names = [m.body["template"]["name"] for m in sent]
    assert names.count("payment_request") == 1  # outside the window: the template, once


def test_a_request_no_longer_owed_is_not_asked_again(shop, stripe_fake):
    variant_id = stripe_shop()
    stripe_fake.fail_next("server_error")
    order_id = place_unpaid(variant_id).id
    transition(db.session.get(Order, order_id), "cancelled", actor="Test Staff", note="Changed their mind")
    db.session.commit()
    make_due(order_id)
    assert retry_failed_requests() == 0
    assert the_request(order_id).status == "expired" and stripe_session_requests(stripe_fake) == 1


def test_the_order_page_shows_when_the_next_attempt_is(shop, stripe_fake):
    variant_id = stripe_shop()
    stripe_fake.fail_next("server_error")
    order = place_unpaid(variant_id)
    owner = make_staff("owner")
    client = shop.test_client()
    sign_in(client, owner.email)
    page = client.get(f"/admin/orders/{order.reference}").get_data(as_text=True)
    assert "Next attempt:" in page and "HTTP 500" in page
    request = the_request(order.id)
    request.next_attempt_at, request.attempts = None, MAX_ATTEMPTS
    db.session.commit()
    page = client.get(f"/admin/orders/{order.reference}").get_data(as_text=True)
    assert "No more attempts" in page


@pytest.mark.skipif(not ON_POSTGRES, reason="row locking is exercised on PostgreSQL (DATABASE_URL)")
def test_two_sweeps_at_once_ask_the_provider_once(shop_app, stripe_fake):
    with shop_app.app_context():
        variant_id = stripe_shop()
        stripe_fake.fail_next("server_error")
        order_id = place_unpaid(variant_id).id
        make_due(order_id)
        db.session.remove()
    retried = at_once(shop_app, lambda: retry_failed_requests())
    assert sorted(retried) == [0, 1]
    assert stripe_session_requests(stripe_fake) == 2  # the failed first request, and one retry
    with shop_app.app_context():
        assert the_request(order_id).attempts == 2
