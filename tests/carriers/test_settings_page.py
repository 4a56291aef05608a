"""Settings → Couriers: the owner adds a courier and sees its secret once; refusals save nothing; the recent
events list shows what couriers sent, unknown tracking numbers included; forms need their CSRF token."""

import re

import pytest
from sqlalchemy import func, select

from checkout.extensions import db
from checkout.models import Carrier
from tests.admin_helpers import PASSWORD, make_staff, sign_in
from tests.carriers.couriers import add_courier, order_with_the_courier, post_token, shiprocket_body

PAGE = "/admin/settings/couriers"


@pytest.fixture
def owner(app):
    with app.app_context():
        order_with_the_courier()
        email = make_staff("owner").email
        db.session.remove()
    client = app.test_client()
    sign_in(client, email)
    return client


def courier(app, name) -> Carrier:
    with app.app_context():
        found = db.session.scalar(select(Carrier).where(Carrier.name == name))
        db.session.expunge_all()
        return found


def test_the_owner_adds_a_generic_courier_and_sees_its_secret_once(app, owner):
    form = {
        "name": "swift",
        "label": "Swift Couriers",
        "preset": "generic",
        "auth": "hmac",
        "auth_header": "X-Swift-Signature",
        "path_tracking_number": "data.awb",
        "path_status": "data.status",
        "path_window": "data.slot",
        "status_lines": "PICKED = picked_up\nOFD = out_for_delivery",
    }
    response = owner.post(PAGE, data=form)
    page = response.get_data(as_text=True)
    added = courier(app, "swift")
    assert response.status_code == 200 and added.secret in page and "not shown again" in page
    assert "/webhooks/carriers/swift" in page
    assert (added.label, added.auth, added.auth_header) == ("Swift Couriers", "hmac", "X-Swift-Signature")
    assert added.paths == {"tracking_number": "data.awb", "status": "data.status", "window": "data.slot"}
    assert added.status_map == {"PICKED": "picked_up", "OFD": "out_for_delivery"}
    again = owner.get(PAGE).get_data(as_text=True)
    assert added.secret not in again and "Swift Couriers" in again


def test_a_preset_courier_gets_its_documented_status_table(app, owner):
    assert owner.post(PAGE, data={"name": "shiprocket", "preset": "shiprocket"}).status_code == 200
    added = courier(app, "shiprocket")
    assert added.label == "Shiprocket" and added.status_map["OUT FOR DELIVERY"] == "out_for_delivery"
    assert "x-api-key" in owner.get(PAGE).get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "field", "note"),
    [
        ({"name": "Bad Name!"}, "name", "Lower-case letters"),
        ({"name": "ok", "path_status": "s"}, "path_tracking_number", "Needed"),
        (
            {"name": "ok", "path_tracking_number": "a", "path_status": "s", "status_lines": "x y"},
            "status_lines",
            "Line 1",
        ),
        ({"name": "ok", "preset": "fedex"}, "preset", "Choose one"),
    ],
)
def test_a_refused_courier_names_the_field_and_saves_nothing(app, owner, form, field, note):
    response = owner.post(PAGE, data={"preset": "generic", "auth": "token", **form})
    assert response.status_code == 422 and note in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Carrier.id))) == 0


def test_a_second_courier_with_the_same_name_is_refused(app, owner):
    owner.post(PAGE, data={"name": "shiprocket", "preset": "shiprocket"})
    response = owner.post(PAGE, data={"name": "shiprocket", "preset": "delhivery"})
    assert response.status_code == 422 and "exists already" in response.get_data(as_text=True)


def test_editing_a_courier_changes_its_table_and_can_switch_it_off(app, owner):
    with app.app_context():
        name, secret = add_courier("shiprocket")
        carrier_id = courier(app, name).id
    response = owner.post(
        f"{PAGE}/{carrier_id}", data={"edit": "1", "label": "SR", "status_lines": "PICKED UP = picked_up"}
    )
    assert response.status_code == 303
    edited = courier(app, name)
    assert (edited.label, edited.status_map, edited.active, edited.secret) == (
        "SR",
        {"PICKED UP": "picked_up"},
        False,
        secret,
    )
    assert post_token(app.test_client(), name, secret, shiprocket_body("PICKED UP")).status_code == 404
    refused = owner.post(f"{PAGE}/{carrier_id}", data={"edit": "1", "active": "on", "status_lines": "nonsense"})
    assert refused.status_code == 422 and courier(app, name).active is False


def test_a_new_secret_is_shown_once_and_the_old_one_stops_working(app, owner):
    with app.app_context():
        name, old = add_courier("shiprocket")
        carrier_id = courier(app, name).id
    page = owner.post(f"{PAGE}/{carrier_id}/secret").get_data(as_text=True)
    new = courier(app, name).secret
    assert new != old and new in page
    client = app.test_client()
    assert post_token(client, name, old, shiprocket_body("PICKED UP")).status_code == 401
    assert post_token(client, name, new, shiprocket_body("PICKED UP")).status_code == 200
    assert owner.post(f"{PAGE}/999/secret").status_code == 404


def test_recent_events_show_unknown_tracking_numbers_and_the_orders_matched(app, owner):
    with app.app_context():
        name, secret = add_courier("shiprocket")
    client = app.test_client()
    post_token(client, name, secret, shiprocket_body("PICKED UP"))
    post_token(client, name, secret, shiprocket_body("DELIVERED", awb="STRANGER-AWB"))
    page = owner.get(PAGE).get_data(as_text=True)
    assert "STRANGER-AWB" in page and "unknown_tracking" in page
    assert re.search(r'href="/admin/orders/[A-Z0-9-]+"', page) and "moved" in page


def test_the_couriers_forms_need_their_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        email = make_staff("owner").email
        name, _ = add_courier("shiprocket")
    carrier_id = courier(app, name).id
    client = app.test_client()

    def token(path):
        page = client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)

    login = {"email": email, "password": PASSWORD, "csrf_token": token("/admin/login")}
    assert client.post("/admin/login", data=login).status_code == 302
    for url in (PAGE, f"{PAGE}/{carrier_id}", f"{PAGE}/{carrier_id}/secret"):
        assert client.post(url, data={"name": "nope", "preset": "shiprocket"}).status_code == 400, url
    with app.app_context():
        assert db.session.scalar(select(func.count(Carrier.id))) == 1
    added = client.post(PAGE, data={"name": "nope", "preset": "delhivery", "csrf_token": token(PAGE)})
    assert added.status_code == 200 and courier(app, "nope").preset == "delhivery"


def test_a_couriers_action_api_is_saved_its_token_kept_hidden_and_cleared_with_the_url(app, owner):
    with app.app_context():
        add_courier("shiprocket")
        db.session.remove()
    carrier_id = courier(app, "shiprocket").id
    edit = {"edit": "1", "label": "Shiprocket", "active": "on", "status_lines": "RTO DELIVERED = returned"}
    url = "https://api.courier.example/ndr"
    response = owner.post(f"{PAGE}/{carrier_id}", data={**edit, "action_url": url, "action_token": "tok-123"})
    assert response.status_code == 303
    assert (courier(app, "shiprocket").action_url, courier(app, "shiprocket").action_token) == (url, "tok-123")
    page = owner.get(PAGE).get_data(as_text=True)
    assert url in page and "tok-123" not in page and "One is stored" in page
    owner.post(f"{PAGE}/{carrier_id}", data={**edit, "action_url": url, "action_token": ""})
    assert courier(app, "shiprocket").action_token == "tok-123"  # an empty token field keeps it
    refused = owner.post(f"{PAGE}/{carrier_id}", data={**edit, "action_url": "ftp://nope"})
    assert refused.status_code == 422 and courier(app, "shiprocket").action_url == url
    owner.post(f"{PAGE}/{carrier_id}", data={**edit, "action_url": ""})
    assert (courier(app, "shiprocket").action_url, courier(app, "shiprocket").action_token) == ("", "")
