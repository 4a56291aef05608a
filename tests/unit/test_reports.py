"""Dashboard figures from real orders at chosen times: periods, UTC days, the funnel and the chart geometry."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from admin.dashboard_chart import bar_chart
from checkout.extensions import db
from checkout.orders import reports
from checkout.orders.lifecycle import OrderStatus, transition
from checkout.orders.payment_states import PAYMENT_STATE_LABELS
from tests.conftest import ON_POSTGRES
from tests.factories import customer, make_journey_cart, make_order, make_product, make_store

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


def test_orders_count_non_cancelled_orders_and_revenue_only_confirmed_and_later(variant):
    order(variant, at(2025, 3, 12, 0, 0), path=[S.CONFIRMED])  # first instant of today
    order(variant, at(2025, 3, 12, 23, 59, 59), path=[S.CONFIRMED, S.PREPARING], quantity=2)  # last second
    order(variant, at(2025, 3, 12, 12, 0))  # pending: an order, but not money yet
    order(variant, at(2025, 3, 12, 9, 0), path=[S.CONFIRMED, S.CANCELLED])  # cancelled: neither
    order(variant, at(2025, 3, 11, 23, 59, 59), path=[S.CONFIRMED])  # yesterday, this week
    order(variant, at(2025, 3, 10, 0, 0))  # Monday, the week's first instant; pending
    order(variant, at(2025, 3, 9, 23, 59, 59), path=[S.CONFIRMED])  # Sunday: last week
    order(variant, at(2025, 3, 13, 0, 0), path=[S.CONFIRMED])  # tomorrow: outside today

    today = reports.period_totals(reports.today(NOW))
    assert (today.orders, today.revenue) == (3, [("INR", 15000 + 25000)])
    week = reports.period_totals(reports.this_week(NOW))
    assert week.orders == 6  # Monday..Thursday's midnight, cancelled left out
    assert week.revenue == [("INR", 15000 * 3 + 25000)]


def test_a_period_of_only_pending_orders_has_orders_but_no_revenue(variant):
    order(variant, at(2025, 3, 12, 8, 0))
    totals = reports.period_totals(reports.today(NOW))
    assert (totals.orders, totals.revenue) == (1, [])


def test_revenue_is_kept_apart_per_currency(variant):
    order(variant, at(2025, 3, 12, 8, 0), path=[S.CONFIRMED])
    order(variant, at(2025, 3, 12, 9, 0), path=[S.CONFIRMED], currency="KES")
    order(variant, at(2025, 3, 12, 10, 0), path=[S.CONFIRMED], currency="KES")
    totals = reports.period_totals(reports.today(NOW))
    assert totals.orders == 3
    assert totals.revenue == [("KES", 30000), ("INR", 15000)]


def test_an_empty_period_has_no_orders_and_no_revenue(variant):
    no_payments = dict.fromkeys(PAYMENT_STATE_LABELS, 0)
    assert reports.period_totals(reports.today(NOW)) == reports.PeriodTotals(reports.today(NOW), 0, [], no_payments)


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


# --- funnel (its numbers from driven journeys: tests/web/test_funnel.py) ----------------------------------------


@pytest.mark.parametrize(
    ("wait", "label"),
    [
        (timedelta(0), "0 s"),
        (timedelta(seconds=59), "59 s"),
        (timedelta(minutes=1), "1 min"),
        (timedelta(hours=12), "12 h"),
        (timedelta(days=1, hours=3), "1 day 3 h"),
    ],
)
def test_median_waits_read_in_seconds_under_a_minute(wait, label):
    assert reports.describe_wait(wait) == label


def test_funnel_counts_carts_started_in_the_period_and_orders_placed_with_or_without_one(variant):
    period = reports.last_days(NOW, 7)
    started = NOW - timedelta(days=1)
    placed = order(variant, started + timedelta(hours=5))
    make_journey_cart(created_at=started, checkout_started_at=started + timedelta(hours=4), order=placed)
    make_journey_cart(created_at=period.start)  # its first instant
    make_journey_cart(created_at=period.start - timedelta(seconds=1))  # before the period
    order(variant, NOW - timedelta(days=2))  # no cart: a journey that begins at "Order placed"
    funnel = reports.funnel(period)
    assert [step.count for step in funnel.steps[:3]] == [2, 1, 2]
    assert [step.from_previous for step in funnel.steps[:3]] == [None, 1, 1]
    assert [step.median_wait for step in funnel.steps[1:3]] == [timedelta(hours=4), timedelta(hours=1)]
    assert len(funnel.days) == 7 and [day.day.day for day in funnel.days if not day.quiet] == [6, 10, 11]


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


def test_periods_and_days_are_the_shops_days_in_its_time_zone(variant):
    kolkata = "Asia/Kolkata"  # UTC+5:30: the shop's 12 March runs from 11 March 18:30 to 12 March 18:30 UTC
    assert reports.today(NOW, kolkata).start == at(2025, 3, 11, 18, 30)
    assert reports.today(NOW, kolkata).end == at(2025, 3, 12, 18, 30)
    assert reports.this_week(NOW, kolkata).start == at(2025, 3, 9, 18, 30)
    order(variant, at(2025, 3, 11, 18, 30), path=[S.CONFIRMED])  # 00:00 on 12 March in the shop: today
    order(variant, at(2025, 3, 11, 18, 29, 59), path=[S.CONFIRMED])  # 23:59:59 on 11 March in the shop
    order(variant, at(2025, 3, 12, 18, 29, 59))  # 23:59:59 on 12 March in the shop: today
    order(variant, at(2025, 3, 12, 18, 30))  # 00:00 on 13 March in the shop: tomorrow, not shown

    assert reports.period_totals(reports.today(NOW, kolkata)).orders == 2
    days = reports.orders_per_day(reports.last_days(NOW, 7, kolkata))
    assert [d.day for d in days] == [date(2025, 3, 6) + timedelta(days=n) for n in range(7)]
    assert days[-1] == reports.DayCount(date(2025, 3, 12), 2)
    assert days[-2] == reports.DayCount(date(2025, 3, 11), 1)


def test_a_day_across_a_daylight_saving_change_is_23_hours_long(variant):
    # London moved its clocks forward at 01:00 UTC on 30 March 2025.
    now = at(2025, 3, 31, 12, 0)
    order(variant, at(2025, 3, 30, 22, 59))  # 23:59 on 30 March in London (BST)
    order(variant, at(2025, 3, 30, 23, 0))  # 00:00 on 31 March in London
    days = reports.orders_per_day(reports.last_days(now, 2, "Europe/London"))
    assert days == [reports.DayCount(date(2025, 3, 30), 1), reports.DayCount(date(2025, 3, 31), 1)]
    assert reports.last_days(now, 2, "Europe/London").start == at(2025, 3, 30, 0, 0)


# --- the chart ------------------------------------------------------------------------------------------------


def test_bar_chart_scales_the_busiest_day_to_full_height():
    days = [reports.DayCount(date(2025, 3, 1) + timedelta(days=n), n % 5) for n in range(30)]
    chart = bar_chart(days, width=600, height=150, gap=2)
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
    chart = bar_chart(days)
    assert len(chart.bars) == 30 and all(bar.height == 0 for bar in chart.bars)
    assert chart.busiest is None and chart.total == 0
