"""Dashboard figures from real orders at chosen times: periods, UTC days, the funnel and the chart geometry."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from checkout import reports
from checkout.extensions import db
from checkout.models import CartStart
from checkout.orders.lifecycle import OrderStatus, transition
from tests.conftest import ON_POSTGRES
from tests.factories import customer, make_order, make_product, make_store

S = OrderStatus
# A Wednesday afternoon; its week began on Monday 10 March.
NOW = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def variant(app_context):
    make_store()
    return make_product(price_minor=10000, stock=1000).variants[0]


def order(variant, created_at, path=(), quantity=1, currency=None, fulfilment="delivery"):
    """An order placed through the real use case, moved along `path`, then dated `created_at`."""
    details = customer(fulfilment=fulfilment, address="1 Road" if fulfilment == "delivery" else "")
    placed = make_order([(variant, quantity)], details=details)
    for status in path:
        transition(placed, status, actor="staff", note="Customer asked" if status == S.CANCELLED else "")
    placed.created_at = created_at
    if currency:
        placed.currency = currency
    db.session.commit()
    return placed


# --- periods --------------------------------------------------------------------------------------------------


def test_periods_are_utc_days_and_monday_weeks():
    assert reports.today(NOW) == reports.Period("today", "Today", at(2025, 3, 12), at(2025, 3, 13))
    assert reports.this_week(NOW).start == at(2025, 3, 10) and reports.this_week(NOW).end == at(2025, 3, 17)
    last_30 = reports.last_days(NOW, 30)
    assert (last_30.start, last_30.end) == (at(2025, 2, 11), at(2025, 3, 13))
    # A moment given in another time zone still falls on its UTC day.
    just_after_midnight_utc_in_los_angeles = at(2025, 3, 13, 1, 0).astimezone(ZoneInfo("America/Los_Angeles"))
    assert reports.today(just_after_midnight_utc_in_los_angeles).start == at(2025, 3, 13)


def test_orders_and_revenue_count_non_cancelled_orders_inside_the_period(variant):
    order(variant, at(2025, 3, 12, 0, 0))  # first instant of today
    order(variant, at(2025, 3, 12, 23, 59, 59), quantity=2)  # last second of today
    order(variant, at(2025, 3, 12, 9, 0), path=[S.CANCELLED])  # cancelled: not counted
    order(variant, at(2025, 3, 11, 23, 59, 59), path=[S.CONFIRMED])  # yesterday, this week
    order(variant, at(2025, 3, 10, 0, 0))  # Monday, the week's first instant
    order(variant, at(2025, 3, 9, 23, 59, 59))  # Sunday: last week
    order(variant, at(2025, 3, 13, 0, 0))  # tomorrow: outside today

    today = reports.period_totals(reports.today(NOW))
    assert (today.orders, today.revenue) == (2, [("INR", 5000 + 10000 + 5000 + 20000)])
    week = reports.period_totals(reports.this_week(NOW))
    assert week.orders == 5  # Monday..Thursday's midnight, cancelled left out
    assert week.revenue == [("INR", 15000 * 4 + 25000)]


def test_revenue_is_kept_apart_per_currency(variant):
    order(variant, at(2025, 3, 12, 8, 0))
    order(variant, at(2025, 3, 12, 9, 0), currency="KES")
    order(variant, at(2025, 3, 12, 10, 0), currency="KES")
    totals = reports.period_totals(reports.today(NOW))
    assert totals.orders == 3
    assert totals.revenue == [("KES", 30000), ("INR", 15000)]


def test_an_empty_period_has_no_orders_and_no_revenue(variant):
    assert reports.period_totals(reports.today(NOW)) == reports.PeriodTotals(reports.today(NOW), 0, [])


# --- waiting for confirmation ---------------------------------------------------------------------------------


def test_orders_waiting_for_confirmation_oldest_first_with_their_age(variant):
    newer = order(variant, NOW - timedelta(minutes=5))
    oldest = order(variant, NOW - timedelta(days=2, hours=3))
    middle = order(variant, NOW - timedelta(hours=1, minutes=20))
    order(variant, NOW - timedelta(days=5), path=[S.CONFIRMED])  # confirmed: not waiting

    waiting, total = reports.orders_waiting_for_confirmation(NOW)
    assert total == 3
    assert [w.reference for w in waiting] == [oldest.reference, middle.reference, newer.reference]
    assert [w.age_label for w in waiting] == ["2 days 3 h", "1 h 20 min", "5 min"]
    assert waiting[0].customer_name == "Asha Kumar" and waiting[0].total_minor == 15000

    first_two, total = reports.orders_waiting_for_confirmation(NOW, limit=2)
    assert len(first_two) == 2 and total == 3


@pytest.mark.parametrize(
    "age,label",
    [
        (timedelta(seconds=30), "0 min"),
        (timedelta(minutes=59), "59 min"),
        (timedelta(hours=1), "1 h"),
        (timedelta(hours=23, minutes=1), "23 h 1 min"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=3, hours=2, minutes=9), "3 days 2 h"),
        (timedelta(seconds=-5), "0 min"),
    ],
)
def test_ages_read_the_way_people_say_them(age, label):
    assert reports.describe_age(age) == label


# --- funnel ---------------------------------------------------------------------------------------------------


def test_funnel_counts_carts_orders_confirmations_and_deliveries_in_the_period(variant):
    period = reports.last_days(NOW, 7)
    for started in [NOW - timedelta(days=1)] * 8 + [period.start, NOW - timedelta(days=8)]:
        db.session.add(CartStart(started_at=started))
    db.session.commit()
    recent = NOW - timedelta(days=2)
    order(variant, recent)  # still pending
    order(variant, recent, path=[S.CANCELLED])  # cancelled before confirming
    order(variant, recent, path=[S.CONFIRMED, S.CANCELLED])  # confirmed, then cancelled: it was confirmed
    order(variant, recent, path=[S.CONFIRMED, S.PREPARING, S.READY_FOR_PICKUP], fulfilment="pickup")
    order(variant, recent, path=[S.CONFIRMED, S.PREPARING, S.SHIPPED, S.OUT_FOR_DELIVERY, S.DELIVERED])
    order(variant, NOW - timedelta(days=9), path=[S.CONFIRMED])  # before the period

    funnel = reports.conversion_funnel(period)
    assert [(step.label, step.count) for step in funnel] == [
        ("Carts started", 9),
        ("Orders placed", 5),
        ("Confirmed", 3),
        ("Delivered", 1),
    ]
    assert [step.percent_of_start for step in funnel] == [100.0, 55.6, 33.3, 11.1]
    assert [step.percent_of_previous for step in funnel] == [None, 55.6, 60.0, 33.3]


def test_funnel_without_carts_has_no_percentages_instead_of_dividing_by_zero(variant):
    order(variant, NOW - timedelta(hours=1))
    funnel = reports.conversion_funnel(reports.today(NOW))
    assert [step.count for step in funnel] == [0, 1, 0, 0]
    assert [step.percent_of_start for step in funnel] == [None] * 4
    assert [step.percent_of_previous for step in funnel] == [None, None, 0.0, None]


# --- orders per day -------------------------------------------------------------------------------------------


def test_orders_per_day_covers_every_utc_day_with_zeros_and_skips_cancelled(variant):
    order(variant, at(2025, 3, 12, 0, 0, 0))
    order(variant, at(2025, 3, 12, 23, 59, 59))
    order(variant, at(2025, 3, 11, 23, 59, 59))
    order(variant, at(2025, 3, 11, 12, 0), path=[S.CANCELLED])
    order(variant, at(2025, 2, 11, 0, 0))  # first day of the window
    order(variant, at(2025, 2, 10, 23, 59, 59))  # the day before: outside

    days = reports.orders_per_day(reports.last_days(NOW, 30))
    assert len(days) == 30
    assert days[0] == reports.DayCount(date(2025, 2, 11), 1)
    assert days[-1] == reports.DayCount(date(2025, 3, 12), 2)
    assert days[-2] == reports.DayCount(date(2025, 3, 11), 1)
    assert sum(d.orders for d in days) == 4
    assert [d.day for d in days] == [date(2025, 2, 11) + timedelta(days=n) for n in range(30)]


@pytest.mark.skipif(not ON_POSTGRES, reason="the session time zone is a PostgreSQL setting")
def test_days_are_utc_whatever_the_database_session_time_zone(variant):
    order(variant, at(2025, 3, 12, 20, 0))  # already 13 March in Kiribati (UTC+14)
    db.session.execute(text("SET LOCAL TIME ZONE 'Pacific/Kiritimati'"))
    days = reports.orders_per_day(reports.last_days(NOW, 30))
    assert days[-1] == reports.DayCount(date(2025, 3, 12), 1)


# --- the chart ------------------------------------------------------------------------------------------------


def test_bar_chart_scales_the_busiest_day_to_full_height():
    days = [reports.DayCount(date(2025, 3, 1) + timedelta(days=n), n % 5) for n in range(30)]
    chart = reports.bar_chart(days, width=600, height=150, gap=2)
    assert len(chart.bars) == 30
    assert (chart.highest, chart.total) == (4, sum(n % 5 for n in range(30)))
    assert chart.busiest == reports.DayCount(date(2025, 3, 5), 4)
    tallest = chart.bars[4]
    assert (tallest.height, tallest.y) == (150, 0)
    assert chart.bars[0].height == 0 and chart.bars[0].y == 150
    assert chart.bars[2].height == 75 and chart.bars[2].y == 75
    assert [bar.x for bar in chart.bars[:3]] == [1, 21, 41] and chart.bars[0].width == 18


def test_bar_chart_of_a_quiet_month_draws_flat_bars():
    days = [reports.DayCount(date(2025, 3, 1) + timedelta(days=n), 0) for n in range(30)]
    chart = reports.bar_chart(days)
    assert len(chart.bars) == 30 and all(bar.height == 0 for bar in chart.bars)
    assert chart.busiest is None and chart.total == 0
