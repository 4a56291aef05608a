"""An order still unpaid past the shop's unpaid limit is flagged for staff, or cancelled through the one state
machine (stock released, the customer told by the cancel message), once. Time is moved in the database."""

import pytest
from sqlalchemy import func, select

from checkout import outbox
from checkout.catalog.stock import available_quantities
from checkout.extensions import db
from checkout.models import Order, OrderEvent
from checkout.models.catalog import Variant
from checkout.orders.desk import record_payment
from checkout.orders.lifecycle import transition
from checkout.payments.reminders import act_on_unpaid_orders
from checkout.payments.requests import request_payment
from tests.admin_helpers import make_staff
from tests.conftest import ON_POSTGRES
from tests.payments.unpaid_orders import ASHA_DIGITS, asked_hours_ago, place_unpaid, purposes_queued, stripe_shop
from tests.payments.unpaid_orders import the_request as latest_request
from tests.races import at_once


def available(variant_id: int) -> int:
    return available_quantities([db.session.get(Variant, variant_id)])[variant_id]


def test_past_the_limit_the_order_is_flagged_for_staff_once(shop):
    variant_id = stripe_shop(unpaid_limit_hours=48, unpaid_action="flag", payment_reminder_after_hours=24)
    order_id = place_unpaid(variant_id).id
    asked_hours_ago(order_id, 47)
    assert act_on_unpaid_orders() == 0
    asked_hours_ago(order_id, 2)
    assert act_on_unpaid_orders() == 1
    assert act_on_unpaid_orders() == 0  # once
    order = db.session.get(Order, order_id)
    assert order.status == "pending" and "Not paid within 48 hours" in order.attention and "₹949.00" in order.attention
    assert order.events[-1].kind == "attention"
    assert latest_request(order_id).status == "requested"  # the customer may still pay it


def test_past_the_limit_the_order_is_cancelled_its_stock_released_and_the_customer_told(shop, graph_api):
    variant_id = stripe_shop(unpaid_limit_hours=24, unpaid_action="cancel", payment_reminder_after_hours=0)
    order_id = place_unpaid(variant_id).id
    assert available(variant_id) == 9
    asked_hours_ago(order_id, 25)
    assert act_on_unpaid_orders() == 1
    assert act_on_unpaid_orders() == 0
    order = db.session.get(Order, order_id)
    assert order.status == "cancelled" and available(variant_id) == 10
    assert order.events[-1].kind == "status" and "Not paid within 24 hours" in order.events[-1].note
    assert latest_request(order_id).status == "expired"  # its link no longer takes payment
    assert purposes_queued(order_id).count("status:cancelled") == 1
    outbox.run_due()
    told = [m for m in graph_api.messages_to(ASHA_DIGITS) if m.type == "template"]
    assert "Cancelled (Not paid within 24 hours" in told[-1].body["template"]["components"][0]["parameters"][2]["text"]


def test_an_order_partly_paid_is_flagged_not_cancelled(shop):
    variant_id = stripe_shop(unpaid_limit_hours=24, unpaid_action="cancel")
    order = place_unpaid(variant_id)
    staff = make_staff("owner")
    record_payment(order, method="upi", amount_minor=40_000, reference="UPI-1", staff=staff, expected_version=None)
    request_payment(order)  # the rest: a new request
    asked_hours_ago(order.id, 25)
    assert act_on_unpaid_orders() == 1
    order = db.session.get(Order, order.id)
    assert order.status == "pending" and available(variant_id) == 9
    assert "₹549.00 still to pay" in order.attention and "part of it is paid" in order.attention


def test_an_order_on_its_way_is_flagged_not_cancelled(shop):
    variant_id = stripe_shop(unpaid_limit_hours=24, unpaid_action="cancel")
    order = place_unpaid(variant_id)
    for status in ("confirmed", "preparing", "shipped"):
        transition(order, status, actor="Test Staff")
    db.session.commit()
    asked_hours_ago(order.id, 25)
    assert act_on_unpaid_orders() == 1
    order = db.session.get(Order, order.id)
    assert order.status == "shipped" and "past the point where it can be cancelled" in order.attention


def test_no_limit_means_nothing_happens(shop):
    variant_id = stripe_shop(unpaid_limit_hours=0, unpaid_action="cancel")
    order_id = place_unpaid(variant_id).id
    asked_hours_ago(order_id, 24 * 365)
    assert act_on_unpaid_orders() == 0
    assert db.session.get(Order, order_id).status == "pending"


@pytest.mark.skipif(not ON_POSTGRES, reason="row locking is exercised on PostgreSQL (DATABASE_URL)")
def test_two_sweeps_at_once_cancel_once(shop_app):
    with shop_app.app_context():
        variant_id = stripe_shop(unpaid_limit_hours=1, unpaid_action="cancel")
        order_ids = [place_unpaid(variant_id).id for _ in range(3)]
        for order_id in order_ids:
            asked_hours_ago(order_id, 2)
        db.session.remove()
    counts = at_once(shop_app, lambda: act_on_unpaid_orders())
    assert sum(counts) == 3
    with shop_app.app_context():
        cancellations = select(func.count()).where(OrderEvent.to_status == "cancelled")
        assert db.session.scalar(cancellations) == 3 and available(variant_id) == 10
        assert [purposes_queued(order_id).count("status:cancelled") for order_id in order_ids] == [1, 1, 1]
