"""The delivery date promised at confirmation: the shop's days, an area's own, and when nothing is promised."""

from datetime import UTC, date, datetime

import pytest

from checkout.extensions import db
from checkout.models import get_store_settings
from checkout.orders.delivery_promise import (
    DeliveryTime,
    InvalidAreaDays,
    delivery_time_for,
    parse_area_days,
    promised_delivery_date,
)
from checkout.orders.lifecycle import OrderStatus, transition
from tests.factories import customer, make_order, make_product, make_store

# 20:00 UTC on 1 Dec is already 2 Dec in Kolkata: days count from the shop's own date.
LATE_EVENING_UTC = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


def test_area_lines_read_prefixes_names_and_ranges():
    areas = parse_area_days("560=1-2\n\n Kasarani = 3 \n110 = 2–5")
    assert [(a.area, a.time) for a in areas] == [
        ("560", DeliveryTime(1, 2)),
        ("Kasarani", DeliveryTime(3, 3)),
        ("110", DeliveryTime(2, 5)),
    ]


@pytest.mark.parametrize("text", ["560", "=2", "560=two", "560=4-2", "560=61", "560=1-2-3"])
def test_an_unreadable_area_line_is_refused_naming_its_line(text):
    with pytest.raises(InvalidAreaDays) as refused:
        parse_area_days("400=2\n" + text)
    assert "Line 2" in refused.value.message


def test_the_promise_is_the_latest_day_counted_from_the_shops_date(app_context):
    settings = make_store(time_zone="Asia/Kolkata", delivery_days_min=2, delivery_days_max=4)
    order = _order("Flat 3, MG Road, Bengaluru 560001")
    assert promised_delivery_date(order, settings, LATE_EVENING_UTC) == date(2026, 12, 6)


def test_the_most_specific_matching_area_wins_over_the_shops_days(app_context):
    settings = make_store(
        delivery_days_min=3, delivery_days_max=5, delivery_area_days="56=4\n560=1-2\nKasarani=2\nMumbai=9"
    )
    assert delivery_time_for("Flat 3, MG Road, Bengaluru 560001", settings) == DeliveryTime(1, 2)
    assert delivery_time_for("Beth House, kasarani, House 16", settings) == DeliveryTime(2, 2)
    assert delivery_time_for("House 4, Navi Mumbaikar Lane", settings) == DeliveryTime(3, 5)  # a word, not a part
    assert delivery_time_for("12 Park Street, Kolkata 700016", settings) == DeliveryTime(3, 5)


def test_no_promise_when_the_shop_sets_no_days_or_for_pickup(app_context):
    settings = make_store(delivery_days_min=0, delivery_days_max=0, delivery_area_days="560=2")
    assert promised_delivery_date(_order("Somewhere 400001"), settings, LATE_EVENING_UTC) is None
    assert promised_delivery_date(_order("MG Road 560001"), settings, LATE_EVENING_UTC) is not None
    settings.delivery_days_max = 3
    pickup = _order("", fulfilment="pickup")
    assert promised_delivery_date(pickup, settings, LATE_EVENING_UTC) is None


def test_confirming_stores_the_promise_unless_staff_set_a_date(app_context):
    make_store(delivery_days_min=1, delivery_days_max=3)
    promised, chosen = _order("Kasarani"), _order("Kasarani")
    chosen.expected_delivery_date = date(2030, 1, 1)
    for order in (promised, chosen):
        transition(order, OrderStatus.CONFIRMED, actor="Staff")
    db.session.commit()
    assert promised.expected_delivery_date is not None
    assert (promised.expected_delivery_date - date.today()).days in (3, 4)  # today in the shop's zone, not UTC's
    assert chosen.expected_delivery_date == date(2030, 1, 1)


def _order(address: str, fulfilment: str = "delivery"):
    settings = get_store_settings()
    if not settings.pickup_address:
        settings.pickup_address = "12 Market Road"
    variant = make_product(stock=5).variants[0]
    return make_order([(variant, 1)], details=customer(address=address, fulfilment=fulfilment))
