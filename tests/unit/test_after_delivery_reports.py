"""The dashboard's after-delivery figures from real orders, ratings and messages at chosen times (SQLite and
PostgreSQL alike): average rating and trend, distribution, comments, COD confirmation, first-attempt delivery,
returns, median time to delivery and median staff response."""

from datetime import UTC, datetime, timedelta

import pytest

from checkout.extensions import db
from checkout.models import Message, OrderEvent, OrderRating, ReturnRequest
from checkout.orders import after_delivery_reports as figures
from checkout.orders import reports
from checkout.orders.lifecycle import OrderStatus, transition
from tests.factories import customer, make_order, make_product, make_store

S = OrderStatus
NOW = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)
TO_THE_DOOR = (S.CONFIRMED, S.PREPARING, S.SHIPPED, S.OUT_FOR_DELIVERY, S.DELIVERED)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def variant(app_context):
    make_store()
    return make_product(price_minor=10000, stock=1000).variants[0]


def order(variant, created_at, path=(), *, payment="cod", delivered_at=None, then=()):
    """An order placed `created_at`, moved along `path` (delivered at `delivered_at`), then through raw status
    events `then` (the failed-delivery and return states, by their names)."""
    placed = make_order([(variant, 1)], details=customer(address="1 Road", payment_method=payment))
    for status in path:
        transition(placed, status, actor="staff", note="Customer asked" if status == S.CANCELLED else "")
    placed.created_at = created_at
    for event in placed.events:
        event.created_at = delivered_at if event.to_status == "delivered" else created_at
    for to_status in then:
        placed.events.append(OrderEvent(kind="status", actor="courier", to_status=to_status, created_at=created_at))
    db.session.commit()
    return placed


def rate(placed, score, when, comment=""):
    db.session.add(
        OrderRating(
            order_id=placed.id,
            score=score,
            source="follow_up",
            comment=comment,
            created_at=when,
            commented_at=when if comment else None,
        )
    )
    db.session.commit()


def message(phone, direction, when, purpose=""):
    db.session.add(Message(direction=direction, phone=phone, kind="text", purpose=purpose, created_at=when))


@pytest.fixture
def seeded(variant):
    a = order(variant, at(2025, 3, 1, 10), TO_THE_DOOR, delivered_at=at(2025, 3, 3, 10))  # 2 days
    b = order(variant, at(2025, 3, 1, 10), TO_THE_DOOR, delivered_at=at(2025, 3, 5, 10), then=["delivery_failed"])
    order(variant, at(2025, 3, 2, 10), [S.CANCELLED])  # COD, cancelled unconfirmed
    order(variant, at(2025, 3, 10, 10))  # COD, still waiting: not decided yet
    order(
        variant, at(2025, 3, 1, 10), TO_THE_DOOR, payment="transfer", delivered_at=at(2025, 3, 2, 10), then=["returned"]
    )
    earlier = order(variant, at(2025, 1, 20, 10), TO_THE_DOOR, delivered_at=at(2025, 1, 22, 10))
    earlier_too = order(variant, at(2025, 1, 21, 10), TO_THE_DOOR, delivered_at=at(2025, 1, 23, 10))
    rate(a, 5, at(2025, 3, 4, 9), "Great fabric")
    rate(b, 3, at(2025, 3, 6, 9))
    rate(earlier, 4, at(2025, 2, 1, 9))
    rate(earlier_too, 2, at(2025, 2, 5, 9), "Came late")
    return a


def test_the_average_rating_its_trend_and_distribution(seeded):
    summary = figures.rating_summary(NOW)
    assert (summary.count, summary.average) == (2, 4.0)
    assert (summary.previous_count, summary.previous_average, summary.trend) == (2, 3.0, 1.0)
    assert summary.distribution == [(5, 1, 50.0), (4, 0, 0.0), (3, 1, 50.0), (2, 0, 0.0), (1, 0, 0.0)]


def test_the_latest_comments_come_newest_first_with_their_order(seeded):
    comments = figures.latest_comments()
    assert [(c.reference, c.score, c.comment) for c in comments][0] == (seeded.reference, 5, "Great fabric")
    assert [c.comment for c in comments] == ["Great fabric", "Came late"]


def test_cod_confirmation_first_attempt_and_return_rates(seeded):
    outcomes = figures.delivery_outcomes(reports.last_days(NOW, 30))
    assert (outcomes.cod_decided, outcomes.cod_confirmed) == (3, 2)
    assert (outcomes.delivered, outcomes.delivered_first_attempt, outcomes.returned) == (3, 2, 1)
    assert (outcomes.cod_confirmation_rate, outcomes.first_attempt_rate, outcomes.return_rate) == (66.7, 66.7, 33.3)


def test_median_time_to_delivery_and_median_staff_response(seeded):
    asha, ravi, meera = "+919876543210", "+919812345678", "+919800000001"
    message(asha, "in", at(2025, 3, 5, 10, 0))
    message(asha, "in", at(2025, 3, 5, 10, 5))  # a second message before the answer: not counted again
    message(asha, "out", at(2025, 3, 5, 10, 30), "staff_message")  # 30 min after the first
    message(asha, "in", at(2025, 3, 5, 11, 0))
    message(asha, "out", at(2025, 3, 5, 11, 10), "staff_message")  # 10 min
    message(ravi, "in", at(2025, 3, 5, 12, 0))
    message(ravi, "out", at(2025, 3, 5, 12, 0, 1), "reply:status")  # the bot's answer is not a person's
    message(ravi, "out", at(2025, 3, 5, 13, 0), "staff_message")  # 60 min
    message(meera, "out", at(2025, 3, 5, 9, 0), "staff_message")  # the shop wrote first: no wait to measure
    message(meera, "in", at(2025, 1, 5, 9, 0))  # before the period
    message(meera, "out", at(2025, 3, 6, 9, 0), "staff_message")
    db.session.commit()

    medians = figures.median_times(reports.last_days(NOW, 30))
    assert medians.order_to_delivery == timedelta(days=2)
    assert medians.staff_response == timedelta(minutes=30)
    assert (medians.order_to_delivery_label, medians.staff_response_label) == ("2 days", "30 min")


def test_no_data_reads_as_no_figure(variant):
    assert figures.rating_summary(NOW).average is None and figures.rating_summary(NOW).trend is None
    outcomes = figures.delivery_outcomes(reports.last_days(NOW, 30))
    assert (outcomes.cod_confirmation_rate, outcomes.first_attempt_rate, outcomes.return_rate) == (None, None, None)
    medians = figures.median_times(reports.last_days(NOW, 30))
    assert (medians.order_to_delivery, medians.staff_response) == (None, None)


@pytest.mark.parametrize(("status", "counts"), [("approved", True), ("refunded", True), ("rejected", False)])
def test_a_return_after_delivery_counts_once_staff_accept_it(seeded, status, counts):
    """The customer's own return request (not a parcel sent back) counts as a return unless staff refused it."""
    db.session.add(ReturnRequest(order_id=seeded.id, reason="damaged", status=status))
    db.session.commit()
    outcomes = figures.delivery_outcomes(reports.last_days(NOW, 30))
    assert outcomes.returned == (2 if counts else 1)
