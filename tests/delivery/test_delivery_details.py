"""Delivery window and agent: entered with the fulfilment edit, set by a courier's update, and shown wherever the
order is read (admin, status page, Store API, public status, CSV, the shop's webhook document)."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from checkout.api import keys
from checkout.database import transaction, utcnow
from checkout.dates import local
from checkout.extensions import db
from checkout.models import Order, get_store_settings
from checkout.orders import locks
from checkout.orders.delivery import set_delivery_details, window_from_text
from checkout.orders.documents import order_document
from checkout.orders.errors import InvalidFulfilment
from tests.admin_helpers import make_staff, sign_in
from tests.factories import customer, make_order, make_product, make_store

ZONE = "Asia/Kolkata"


@pytest.fixture
def shop(app):
    """A shop in India with one order, an owner signed in and an API key."""
    with app.app_context():
        make_store(time_zone=ZONE)
        variant = make_product("Cotton Kurta", price_minor=50000, stock=10).variants[0]
        order = make_order([(variant, 1)], details=customer())
        owner = make_staff("owner")
        _, secret = keys.create_key("Delivery", "secret")
        db.session.commit()
        data = {"reference": order.reference, "token": order.status_token, "owner": owner.email, "secret": secret}
        db.session.remove()
    client = app.test_client()
    sign_in(client, data["owner"])
    return {**data, "client": client}


def _order(app, reference) -> Order:
    with app.app_context():
        found = db.session.scalar(select(Order).where(Order.reference == reference))
        _ = found.events
        db.session.expunge_all()
        return found


def _post(app, shop, **fields):
    today = local(utcnow(), ZONE).date()
    data = {
        "version": _order(app, shop["reference"]).version,
        "carrier": "Blue Dart",
        "tracking_number": "BD1",
        "tracking_url": "https://track.example/BD1",
        "expected_delivery_date": today.isoformat(),
        "delivery_day": today.isoformat(),
        "window_from": "14:00",
        "window_until": "17:00",
        "delivery_agent_name": "Ravi Kumar",
        "delivery_agent_phone": "098123 45678",
    }
    data.update(fields)
    return shop["client"].post(f"/admin/orders/{shop['reference']}/fulfilment", data=data)


def test_staff_enter_a_window_and_agent_with_the_fulfilment_edit(app, shop):
    response = _post(app, shop)
    assert response.status_code == 303
    order = _order(app, shop["reference"])
    start, end = local(order.delivery_window_start, ZONE), local(order.delivery_window_end, ZONE)
    assert (start.hour, start.minute, end.hour, end.minute) == (14, 0, 17, 0)
    assert order.delivery_window_start.utcoffset() == timedelta(0)  # stored in UTC: 14:00 IST is 08:30 UTC
    assert (order.delivery_window_start.hour, order.delivery_window_start.minute) == (8, 30)
    assert (order.delivery_agent_name, order.delivery_agent_phone) == ("Ravi Kumar", "+919812345678")
    [event] = [e for e in order.events if e.kind == "fulfilment"]
    assert "delivery window: " in event.note and "2:00 pm–5:00 pm" in event.note
    assert "delivery agent phone: +919812345678" in event.note
    page = shop["client"].get(f"/admin/orders/{shop['reference']}").get_data(as_text=True)
    assert (
        'value="Ravi Kumar"' in page
        and 'value="+919812345678"' in page
        and 'value="14:00"' in page
        and 'value="17:00"' in page
    )


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"window_until": ""}, "Give the day and both times of the window"),
        ({"delivery_day": ""}, "Give the day and both times of the window"),
        ({"window_until": "13:00"}, "must end after it starts"),
        ({"window_from": "25:00"}, "Not a valid time value"),
        ({"delivery_day": "2026-13-40"}, "Not a valid date value"),
        ({"delivery_agent_phone": "12"}, "Delivery agent&#39;s phone"),
        ({"delivery_agent_phone": "1800 123 4567"}, "toll-free"),
        ({"delivery_agent_name": "R" * 81}, "At most 80 characters"),
        ({"tracking_url": "javascript:alert(1)"}, "https://"),
    ],
)
def test_a_wrong_value_is_shown_and_nothing_is_saved(app, shop, fields, says):
    before = _order(app, shop["reference"])
    response = _post(app, shop, **fields)
    assert response.status_code == 422
    assert says in response.get_data(as_text=True)
    after = _order(app, shop["reference"])
    assert after.version == before.version
    assert (after.carrier, after.delivery_agent_name, after.delivery_window_start) == ("", "", None)
    assert [e.kind for e in after.events] == [e.kind for e in before.events]


def test_a_stale_page_saves_nothing(app, shop):
    seen = _order(app, shop["reference"]).version
    assert _post(app, shop).status_code == 303
    response = _post(app, shop, version=seen, delivery_agent_name="Someone Else")
    assert response.status_code == 409
    assert _order(app, shop["reference"]).delivery_agent_name == "Ravi Kumar"


def test_emptying_the_fields_clears_window_and_agent(app, shop):
    _post(app, shop)
    _post(app, shop, delivery_day="", window_from="", window_until="", delivery_agent_name="", delivery_agent_phone="")
    order = _order(app, shop["reference"])
    assert (order.delivery_window_start, order.delivery_window_end, order.delivery_agent_phone) == (None, None, "")
    assert order.carrier == "Blue Dart"


def test_moving_the_status_keeps_the_window_and_agent(app, shop):
    _post(app, shop)
    client, reference = shop["client"], shop["reference"]
    for target in ("confirmed", "preparing", "shipped"):
        extra = {"carrier": "Delhivery", "tracking_number": "DL9"} if target == "shipped" else {}
        version = _order(app, reference).version
        response = client.post(
            f"/admin/orders/{reference}/status", data={"target": target, "version": version, **extra}
        )
        assert response.status_code == 303
    order = _order(app, reference)
    assert (order.status, order.carrier, order.delivery_agent_name) == ("shipped", "Delhivery", "Ravi Kumar")
    assert order.delivery_window_start is not None


def test_a_courier_update_sets_only_what_it_gives(app, shop):
    _post(app, shop)
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.reference == shop["reference"]))
        start = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)
        with transaction():
            locks.lock_order(order.id)
            changed = set_delivery_details(
                order,
                window_start=start,
                window_end=start + timedelta(hours=2),
                agent_phone="+91 98111 22233",
                actor="Courier: Shiprocket",
            )
        assert changed == ["delivery_window_start", "delivery_window_end", "delivery_agent_phone"]
        assert (order.delivery_agent_name, order.delivery_agent_phone) == ("Ravi Kumar", "+919811122233")
        assert order.events[-1].kind == "fulfilment" and order.events[-1].actor == "Courier: Shiprocket"
        with pytest.raises(InvalidFulfilment) as refused:
            set_delivery_details(order, window_start=start, actor="Courier")
        assert refused.value.field == "delivery_window"
        with pytest.raises(InvalidFulfilment):
            set_delivery_details(order, window_start=start, window_end=start - timedelta(hours=1), actor="Courier")
        with pytest.raises(InvalidFulfilment):
            set_delivery_details(order, window_start=start.replace(tzinfo=None), window_end=start, actor="Courier")
        assert set_delivery_details(order, agent_name="Ravi Kumar", actor="Courier") == []  # no change, no event
        db.session.rollback()


def _ship(app, shop):
    _post(app, shop)
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.reference == shop["reference"]))
        order.status = "out_for_delivery"
        db.session.commit()


def test_the_status_page_shows_window_and_agent_while_on_the_way(app, shop):
    _ship(app, shop)
    page = app.test_client().get(f"/o/{shop['token']}").get_data(as_text=True)
    assert '<dd id="delivery-window">today 2:00 pm–5:00 pm</dd>' in page
    assert "Ravi Kumar" in page and 'href="tel:+919812345678"' in page


def test_the_api_and_the_public_status_carry_the_delivery_details(app, shop):
    _ship(app, shop)
    headers = {"Authorization": f"Bearer {shop['secret']}"}
    answer = app.test_client().get(f"/api/v1/orders/{shop['reference']}", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    order = answer.get_json()
    public = app.test_client().get(f"/api/v1/status/{shop['token']}").get_json()
    for document in (order["delivery"], public["delivery"]):
        assert document["carrier"] == "Blue Dart" and document["tracking_url"] == "https://track.example/BD1"
        assert document["window_start"].endswith("08:30:00+00:00") and document["window_end"].endswith("11:30:00+00:00")
        assert document["window_display"].endswith(", 2:00 pm–5:00 pm")  # a date, never "today"
        assert (document["agent_name"], document["agent_phone"]) == ("Ravi Kumar", "+919812345678")
        assert document["expected_date"] == local(utcnow(), ZONE).date().isoformat()
    assert "phone" not in public.get("customer", {})


def test_the_csv_export_has_the_delivery_columns(app, shop):
    _ship(app, shop)
    body = shop["client"].get("/admin/orders/export.csv").get_data(as_text=True)
    [row] = list(csv.DictReader(io.StringIO(body)))
    today = local(utcnow(), ZONE).date().isoformat()
    assert row["delivery_window_start_local"] == f"{today} 14:00"
    assert row["delivery_window_end_local"] == f"{today} 17:00"
    assert row["delivery_agent_name"] == "Ravi Kumar"
    assert row["delivery_agent_phone"].lstrip("'") == "+919812345678"
    assert row["expected_delivery_date"] == today and row["tracking_url"] == "https://track.example/BD1"


def test_the_shop_webhook_document_carries_them(app, shop):
    _ship(app, shop)
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.reference == shop["reference"]))
        document = order_document(order, get_store_settings())
    assert document["delivery"]["agent_name"] == "Ravi Kumar"
    assert document["delivery"]["window_start"] is not None


def test_once_confirmed_the_status_page_shows_the_promised_date(app, shop):
    with app.app_context():
        get_store_settings().delivery_days_max = 3
        db.session.commit()
        order = db.session.scalar(select(Order).where(Order.reference == shop["reference"]))
        assert "expected-delivery" not in app.test_client().get(f"/o/{shop['token']}").get_data(as_text=True)
        version = order.version
    shop["client"].post(f"/admin/orders/{shop['reference']}/status", data={"target": "confirmed", "version": version})
    promised = _order(app, shop["reference"]).expected_delivery_date
    assert promised == local(utcnow(), ZONE).date() + timedelta(days=3)
    page = app.test_client().get(f"/o/{shop['token']}").get_data(as_text=True)
    assert f'<dd id="expected-delivery">{promised.day} {promised:%b %Y}</dd>' in page


@pytest.mark.parametrize(
    ("text", "start_utc"),
    [
        ("14:00-17:00", "2026-12-01T08:30:00+00:00"),  # today in Kolkata, where it is already 1 Dec
        ("14:00 – 17:00", "2026-12-01T08:30:00+00:00"),
        ("today 14:00–17:00", "2026-12-01T08:30:00+00:00"),
        ("Tomorrow 14:00-17:00", "2026-12-02T08:30:00+00:00"),
        ("2026-12-02 9:30 to 12:00", "2026-12-02T04:00:00+00:00"),
        ("2026-12-02T14:00+05:30/2026-12-02T17:00+05:30", "2026-12-02T08:30:00+00:00"),
    ],
)
def test_a_couriers_window_text_is_read_in_the_shops_zone(text, start_utc):
    start, end = window_from_text(text, ZONE, datetime(2026, 11, 30, 20, 0, tzinfo=UTC))
    assert start.isoformat() == start_utc and end > start


@pytest.mark.parametrize("text", ["", "afternoon", "17:00-14:00", "25:00-26:00", "2026-12-02T14:00/2026-12-02T17:00"])
def test_an_unreadable_couriers_window_is_none(text):
    assert window_from_text(text, ZONE, datetime(2026, 11, 30, 20, 0, tzinfo=UTC)) is None
