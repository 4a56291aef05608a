"""Times as the shop lives them: an order placed at 20:00 UTC is 1:30 am the next day for a shop in India,
on the customer's status page, the order desk, the order's timeline and the CSV export; the zone follows the
shop's country until the owner picks another one in the settings."""

import csv
import html
import io
import re
from datetime import UTC, datetime

import pytest

from checkout.dates import default_time_zone, format_moment
from checkout.extensions import db
from checkout.models import get_store_settings
from checkout.orders.lifecycle import OrderStatus, transition
from tests.admin_helpers import make_staff, sign_in
from tests.factories import make_order, make_product, make_store

EVENING_UTC = datetime(2026, 1, 1, 20, 0, tzinfo=UTC)  # 2 Jan 2026, 01:30 in Asia/Kolkata


@pytest.fixture
def evening_order(app):
    """An Indian shop's order placed and confirmed at 20:00 UTC on 1 January."""
    with app.app_context():
        make_store()
        order = make_order([(make_product(price_minor=10000, stock=5).variants[0], 1)])
        transition(order, OrderStatus.CONFIRMED, actor="staff")
        order.created_at = EVENING_UTC
        for event in order.events:
            event.created_at = EVENING_UTC
        db.session.commit()
        return {"reference": order.reference, "token": order.status_token}


@pytest.fixture
def owner(app, client):
    with app.app_context():
        email = make_staff("owner").email
    sign_in(client, email)
    return client


def text_of(response) -> str:
    """What a person reads: the page without its tags (a <time datetime="…"> keeps the UTC instant for machines)."""
    assert response.status_code == 200
    return html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_a_shop_in_india_keeps_india_time_without_setting_anything(app_context):
    settings = make_store()
    assert settings.time_zone == "" and settings.zone_name == "Asia/Kolkata"
    assert default_time_zone("KE") == "Africa/Nairobi" and default_time_zone("US") == "America/New_York"
    assert default_time_zone("") == "UTC"


def test_format_moment_is_the_shops_wall_clock_in_its_locale():
    assert format_moment(EVENING_UTC, "Asia/Kolkata", "en_IN") == "2 Jan 2026, 1:30 am"
    assert format_moment(EVENING_UTC, "Europe/London", "en_GB") == "1 Jan 2026, 20:00"
    assert format_moment(EVENING_UTC, "Asia/Kolkata", "en_IN", "time") == "1:30 am"
    assert format_moment(EVENING_UTC, "No/Such_Zone", "xx_BAD") == "Jan 1, 2026, 8:00 PM"  # UTC, English
    assert format_moment(None, "Asia/Kolkata", "en_IN") == ""


def test_status_page_timeline_shows_the_shops_time(client, evening_order):
    page = text_of(client.get(f"/o/{evening_order['token']}"))
    assert "2 Jan 2026, 1:30 am" in page
    assert "20:00" not in page and "UTC" not in page


def test_order_desk_and_order_detail_show_the_shops_time(owner, evening_order):
    desk = text_of(owner.get("/admin/orders"))
    assert "2 Jan 2026, 1:30 am" in desk
    detail = text_of(owner.get(f"/admin/orders/{evening_order['reference']}"))
    assert "Placed 2 Jan 2026, 1:30 am" in detail
    assert detail.count("2 Jan 2026, 1:30 am") >= 3  # placed, and each timeline event
    assert "20:00" not in detail


def test_csv_export_carries_the_shops_local_time_beside_utc(owner, evening_order):
    response = owner.get("/admin/orders/export.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0]["created_at_utc"] == "2026-01-01 20:00:00"
    assert rows[0]["created_at_local"] == "2 Jan 2026, 1:30 am"


def test_owner_picks_another_time_zone_and_every_page_follows(app, owner, evening_order):
    page = owner.get("/admin/settings").get_data(as_text=True)
    assert 'value="Asia/Kolkata"' in page  # the zone in use, from the shop's country
    with app.app_context():
        settings = get_store_settings()
        settings.time_zone = "Europe/London"
        db.session.commit()
    detail = text_of(owner.get(f"/admin/orders/{evening_order['reference']}"))
    assert "Placed 1 Jan 2026, 8:00 pm" in detail  # London's wall clock, still written the en_IN way
