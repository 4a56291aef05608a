"""Admin: discount codes — create (every problem at once), pause and resume, who used a code, CSV export."""

import csv
import html
import io
import re

import pytest
from sqlalchemy import select

from checkout.extensions import db
from checkout.models import Coupon
from tests.admin_helpers import make_staff, sign_in
from tests.factories import customer, make_coupon, make_order, make_product, make_store

NEW = {
    "code": "welcome10",
    "kind": "percent",
    "value": "10",
    "minimum_subtotal": "500.00",
    "starts_at": "",
    "ends_at": "",
    "usage_limit": "100",
    "per_customer_limit": "1",
}


@pytest.fixture
def admin(app):
    with app.app_context():
        make_store()
        make_staff("manager")
        db.session.remove()
    client = app.test_client()
    sign_in(client, "manager@sunrise.example.com")
    return client


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def test_a_manager_creates_a_code_and_sees_it_in_the_list(app, admin):
    response = admin.post("/admin/coupons/new", data=NEW)
    assert response.status_code == 303
    with app.app_context():
        coupon = db.session.scalars(select(Coupon)).one()
        assert (coupon.code, coupon.kind, coupon.value, coupon.minimum_subtotal_minor) == (
            "WELCOME10",
            "percent",
            10,
            50000,
        )
        assert (coupon.usage_limit, coupon.per_customer_limit, coupon.paused) == (100, 1, False)
    page = text_of(admin.get("/admin/coupons"))
    assert "Code WELCOME10 created." in page
    assert "WELCOME10" in page and "10 % off" in page and "0 of 100" in page and "Active" in page


def test_the_new_code_form_names_every_problem_at_once(app, admin):
    admin.post("/admin/coupons/new", data=NEW)
    bad = {
        **NEW,
        "code": "Welcome10",
        "value": "150",
        "usage_limit": "-3",
        "starts_at": "2026-12-24T09:00",
        "ends_at": "2026-12-01T09:00",
    }
    response = admin.post("/admin/coupons/new", data=bad)
    assert response.status_code == 422
    page = text_of(response)
    assert "There is already a code WELCOME10" in page
    assert "Give a whole percentage from 1 to 100." in page
    assert "Give a whole number from 1 to" in page
    assert "The end must come after the start." in page
    spaced = admin.post("/admin/coupons/new", data={**NEW, "code": "TWO WORDS"})
    assert "no spaces" in text_of(spaced)


def test_amount_and_free_delivery_codes_with_a_scope_and_dates(app, admin):
    with app.app_context():
        product_id = make_product("Silk Saree", category="Sarees").id
    fixed = {
        **NEW,
        "code": "SAREE100",
        "kind": "fixed",
        "value": "100.00",
        "product_ids": [str(product_id)],
        "starts_at": "2026-12-24T09:00",
        "ends_at": "2026-12-31T23:59",
    }
    assert admin.post("/admin/coupons/new", data=fixed).status_code == 303
    free = {**NEW, "code": "SHIPFREE", "kind": "free_delivery", "value": ""}
    assert admin.post("/admin/coupons/new", data=free).status_code == 303
    with app.app_context():
        saree = db.session.scalar(select(Coupon).where(Coupon.code == "SAREE100"))
        assert (saree.value, saree.product_ids, saree.category_ids) == (10000, [product_id], [])
        assert saree.starts_at.isoformat() == "2026-12-24T03:30:00+00:00"  # 09:00 in Asia/Kolkata
        assert db.session.scalar(select(Coupon.value).where(Coupon.code == "SHIPFREE")) == 0
    page = text_of(admin.get("/admin/coupons"))
    assert "₹100.00 off" in page and "Free delivery" in page and "Some items only." in page


def test_pausing_and_resuming_a_code(app, admin):
    with app.app_context():
        coupon_id = make_coupon("HOLD").id
    admin.post(f"/admin/coupons/{coupon_id}/pause")
    with app.app_context():
        assert db.session.get(Coupon, coupon_id).paused is True
    assert "Paused" in text_of(admin.get("/admin/coupons"))
    admin.post(f"/admin/coupons/{coupon_id}/resume")
    with app.app_context():
        assert db.session.get(Coupon, coupon_id).paused is False
    assert admin.post("/admin/coupons/999/pause").status_code == 404


def test_the_usage_list_shows_each_order_that_used_the_code(app, admin):
    with app.app_context():
        coupon_id = make_coupon("TEN", usage_limit=5).id
        variant = make_product("Kurta", price_minor=100000, stock=10).variants[0]
        first = make_order([(variant, 1)], coupon_code="TEN").reference
        second = make_order([(variant, 2)], details=customer(name="Ravi", phone="+919812345678"), coupon_code="ten")
        second = second.reference
    page = text_of(admin.get(f"/admin/coupons/{coupon_id}"))
    assert first in page and second in page and "+919812345678" in page and "₹200.00" in page
    assert "used 2 of 5 times" in page
    assert "2 of 5" in text_of(admin.get("/admin/coupons"))
    detail = text_of(admin.get(f"/admin/orders/{first}"))
    assert "Discount (TEN)" in detail and "−₹100.00" in detail


def test_the_codes_export_as_csv_with_their_uses(app, admin):
    with app.app_context():
        make_coupon("FIFTY", kind="fixed", value=5000)
        variant = make_product("Kurta", price_minor=100000, stock=10).variants[0]
        make_order([(variant, 1)], coupon_code="FIFTY")
    response = admin.get("/admin/coupons/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(row["code"], row["kind"], row["value"], row["uses"], row["saved"]) for row in rows] == [
        ("FIFTY", "fixed", "50.00", "1", "50.00")
    ]


def test_the_order_export_carries_the_code_and_discount(app, admin):
    with app.app_context():
        make_coupon("TEN")
        variant = make_product("Kurta", price_minor=100000, stock=10).variants[0]
        make_order([(variant, 1)], coupon_code="TEN")
    rows = list(csv.DictReader(io.StringIO(admin.get("/admin/orders/export.csv").get_data(as_text=True))))
    assert (rows[0]["coupon_code"], rows[0]["discount"], rows[0]["total"]) == ("TEN", "100.00", "950.00")


def test_fulfilment_staff_neither_see_nor_open_the_codes(app):
    with app.app_context():
        make_store()
        make_staff("fulfilment")
    client = app.test_client()
    sign_in(client, "fulfilment@sunrise.example.com")
    assert client.get("/admin/coupons").status_code == 403
    assert "Discount codes" not in client.get("/admin/orders").get_data(as_text=True)


def test_odd_input_gets_a_clear_answer_never_an_error_page(app, admin):
    odd = {**NEW, "code": "ODD", "starts_at": "0001-01-01T00:00", "ends_at": "soon", "product_ids": ["99999999999999"]}
    response = admin.post("/admin/coupons/new", data=odd)
    assert response.status_code == 422
    page = text_of(response)
    assert page.count("Give a date and time, like 2026-12-24 09:00.") == 2
    assert "A chosen product no longer exists" in page  # never quietly a code for the whole cart
    assert admin.post("/admin/coupons/new", data={**NEW, "code": "ODD", "category_ids": ["x"]}).status_code == 422
    assert admin.get("/admin/coupons/99999999999999999").status_code == 404
