"""One payment reminder per open request, after the shop's delay: the same link again, through the outbox, as
free-form text inside the customer's 24-hour window and as the approved payment_request template outside it (the
fake Graph API refuses what Meta would). Time is moved in the database, never slept."""

from datetime import timedelta

import pytest

from checkout import outbox
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Order, PaymentRequest, get_store_settings
from checkout.payments.reminders import send_payment_reminders
from tests.conftest import ON_POSTGRES
from tests.messaging.conftest import body_parameters
from tests.payments.customer_window import customer_wrote
from tests.payments.unpaid_orders import (
    ASHA,
    ASHA_DIGITS,
    asked_hours_ago,
    place_unpaid,
    purposes_queued,
    requests_of,
    stripe_shop,
    the_request,
)
from tests.races import at_once


def received(graph_api) -> list:
    """What Asha's phone was sent about paying (without the order's confirmation request)."""
    messages = graph_api.messages_to(ASHA_DIGITS)
    about_paying = [m for m in messages if m.type != "template" or m.body["template"]["name"] == "payment_request"]
    return [m for m in about_paying if m.type != "interactive" or m.body["interactive"]["type"] == "cta_url"]


def test_one_reminder_after_the_delay_with_the_same_link_inside_the_window(shop, graph_api):
    variant_id = stripe_shop(payment_reminder_after_hours=12)
    customer_wrote(ASHA)
    order_id = place_unpaid(variant_id).id
    link = the_request(order_id).url
    assert send_payment_reminders() == 0  # not yet
    asked_hours_ago(order_id, 11)
    assert send_payment_reminders() == 0
    asked_hours_ago(order_id, 2)
    customer_wrote(ASHA)
    assert send_payment_reminders() == 1
    assert send_payment_reminders() == 0  # once, however often the sweep runs
    outbox.run_due()
    request, reminder = received(graph_api)
    assert reminder.type == "interactive" and reminder.body["interactive"]["action"]["parameters"]["url"] == link
    assert "A reminder" in reminder.body["interactive"]["body"]["text"]
    assert the_request(order_id).reminded_at is not None
    assert purposes_queued(order_id).count("payment_reminder") == 1
    assert db.session.get(Order, order_id).events[-1].kind == "payment_reminder"


def test_outside_the_window_the_request_and_its_reminder_go_as_the_payment_request_template(shop, graph_api):
    variant_id = stripe_shop(payment_reminder_after_hours=12)
    customer_wrote(ASHA, ago=timedelta(days=3))
    order = place_unpaid(variant_id)
    link = the_request(order.id).url
    asked_hours_ago(order.id, 13)
    assert send_payment_reminders() == 1
    outbox.run_due()
    request, reminder = received(graph_api)
    for message in (request, reminder):
        assert message.type == "template" and message.body["template"]["name"] == "payment_request"
        assert body_parameters(message) == ["Asha Kumar", order.reference, "Test Shop", "₹949.00", link]
    assert graph_api.violations == []


def test_a_link_that_ran_out_is_replaced_by_a_new_request_as_the_reminder(shop, graph_api, stripe_fake):
    variant_id = stripe_shop(payment_reminder_after_hours=24)
    customer_wrote(ASHA)
    order_id = place_unpaid(variant_id).id
    asked_hours_ago(order_id, 25, link_too=True)  # Stripe's sessions last 24 hours
    customer_wrote(ASHA)
    assert send_payment_reminders() == 1
    old, new = requests_of(order_id)
    assert (old.status, new.status) == ("expired", "requested") and new.url != old.url
    assert new.reminded_at is not None  # the new link was the reminder: no second one for it
    assert send_payment_reminders() == 0
    outbox.run_due()
    assert [m.body["interactive"]["action"]["parameters"]["url"] for m in received(graph_api)] == [old.url, new.url]


def test_no_reminder_when_the_shop_sets_none_or_the_order_is_paid(shop, graph_api, stripe_fake):
    variant_id = stripe_shop(payment_reminder_after_hours=0)
    order_id = place_unpaid(variant_id).id
    asked_hours_ago(order_id, 24 * 30)
    assert send_payment_reminders() == 0
    get_store_settings().payment_reminder_after_hours = 1
    db.session.commit()
    assert stripe_fake.deliver(stripe_fake.pay(the_request(order_id).provider_reference)) == 200
    assert the_request(order_id).status == "paid"
    assert send_payment_reminders() == 0
    assert "payment_reminder" not in purposes_queued(order_id)


@pytest.mark.skipif(not ON_POSTGRES, reason="row locking is exercised on PostgreSQL (DATABASE_URL)")
def test_two_sweeps_at_once_send_one_reminder(shop_app, graph_api):
    with shop_app.app_context():
        variant_id = stripe_shop(payment_reminder_after_hours=1)
        order_ids = [place_unpaid(variant_id).id for _ in range(3)]
        for order_id in order_ids:
            asked_hours_ago(order_id, 2)
        db.session.remove()
    counts = at_once(shop_app, lambda: send_payment_reminders())
    assert sum(counts) == 3
    with shop_app.app_context():
        assert [purposes_queued(order_id).count("payment_reminder") for order_id in order_ids] == [1, 1, 1]


def test_a_request_refused_for_a_closed_window_goes_again_as_the_template(shop, graph_api):
    """The window closed between the check and the send (Meta's 131047): the template follows, once."""
    variant_id = stripe_shop()
    customer_wrote(ASHA, ago=timedelta(hours=23, minutes=59))
    graph_api.fail_next("outside_window", when=lambda body: (body.get("interactive") or {}).get("type") == "cta_url")
    order = place_unpaid(variant_id)
    link = the_request(order.id).url
    outbox.run_due()
    outbox.run_due()
    [template] = received(graph_api)
    assert template.body["template"]["name"] == "payment_request" and body_parameters(template)[-1] == link
    assert purposes_queued(order.id).count("payment_request") == 2  # the refused button, then the template


def test_an_m_pesa_reminder_asks_for_a_reply_and_pushes_no_prompt_unasked(shop, graph_api):
    """An STK prompt expires in a minute and goes only while the customer is there: no new push a day later."""
    variant_id = stripe_shop(payment_reminder_after_hours=12, payment_request_when="on_demand")
    customer_wrote(ASHA)
    order = place_unpaid(variant_id)
    made = utcnow() - timedelta(hours=13)
    prompt = PaymentRequest(order_id=order.id, provider="mpesa", provider_reference="ws_CO_1", amount_minor=94_900)
    prompt.currency, prompt.created_at, prompt.expires_at = "INR", made, made + timedelta(minutes=1)
    db.session.add(prompt)
    db.session.commit()
    assert send_payment_reminders() == 1
    assert [r.provider for r in requests_of(order.id)] == ["mpesa"]  # no new request, so no new prompt
    outbox.run_due()
    [reminder] = received(graph_api)
    assert "Reply here and we will send a new M-Pesa prompt" in reminder.body["text"]["body"]
