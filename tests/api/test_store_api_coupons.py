"""Discount codes in the Store API: quotes and orders take `coupon_code`, and a refusal says why."""

from datetime import timedelta
from urllib.parse import unquote, urlsplit

import pytest

from checkout.api import keys
from checkout.database import utcnow
from checkout.extensions import db
from tests.factories import make_coupon, make_product, make_store

SHOP_SITE = "https://myshop.example"
ITEMS = [{"sku": "KUR-0", "quantity": 2}]


@pytest.fixture
def api(app):
    with app.app_context():
        make_store(allowed_origins=[SHOP_SITE])
        make_product("Cotton Kurta", price_minor=79900, stock=50, options=[{"Size": "M"}], sku="KUR")
        make_coupon("WELCOME10", kind="percent", value=10)
        make_coupon("SHIPFREE", kind="free_delivery", value=0)
        make_coupon("OLD", ends_at=utcnow() - timedelta(days=1))
        make_coupon("ONE", usage_limit=1)
        _, secret = keys.create_key("Shop backend", "secret")
        _, widget = keys.create_key("Widget", "widget")
        db.session.commit()
    return {"client": app.test_client(), "secret": secret, "widget": widget}


def quote(api, **body):
    headers = {"X-Chatout-Widget-Key": api["widget"], "Origin": SHOP_SITE}
    return api["client"].post("/api/v1/quote", json={"items": ITEMS, **body}, headers=headers)


def order(api, phone="098765 43210", **body):
    customer = {"name": "Asha Kumar", "phone": phone, "address": "Beth House, Kasarani"}
    headers = {"Authorization": f"Bearer {api['secret']}"}
    return api["client"].post("/api/v1/orders", json={"items": ITEMS, "customer": customer, **body}, headers=headers)


def test_a_quote_with_a_code_shows_the_discount_and_the_order_is_charged_the_same(api):
    priced = quote(api, coupon_code="welcome10").get_json()
    assert (priced["subtotal_minor"], priced["discount_minor"], priced["total_minor"]) == (159800, 15980, 148820)
    assert priced["coupon_code"] == "WELCOME10" and priced["discount_display"] == "₹159.80"
    placed = order(api, coupon_code="welcome10")
    assert placed.status_code == 201
    body = placed.get_json()
    assert (body["discount_minor"], body["coupon_code"], body["total_minor"]) == (15980, "WELCOME10", 148820)
    text = unquote(urlsplit(body["whatsapp"]["app_url"]).query.removeprefix("text="))
    assert "Discount (WELCOME10): −₹159.80" in text
    fetched = api["client"].get(
        f"/api/v1/orders/{body['reference']}", headers={"Authorization": f"Bearer {api['secret']}"}
    )
    assert fetched.get_json()["discount_display"] == "₹159.80"


def test_a_free_delivery_code_zeroes_the_fee(api):
    priced = quote(api, coupon_code="SHIPFREE").get_json()
    assert (priced["delivery_fee_minor"], priced["coupon_saving_minor"], priced["total_minor"]) == (0, 5000, 159800)


def test_a_quote_without_a_code_says_so(api):
    priced = quote(api).get_json()
    assert priced["coupon_code"] is None and priced["discount_minor"] == 0


def test_a_refused_code_is_answered_with_its_reason_under_coupon_code(api):
    unknown = quote(api, coupon_code="NOPE")
    assert unknown.status_code == 422
    error = unknown.get_json()["error"]
    assert error["code"] == "coupon_unknown" and "NOPE" in error["fields"]["coupon_code"]
    expired = order(api, coupon_code="old")
    assert expired.status_code == 422 and expired.get_json()["error"]["code"] == "coupon_expired"
    assert order(api, coupon_code="ONE").status_code == 201
    used_up = order(api, phone="+254712345678", coupon_code="ONE")
    assert used_up.status_code == 409 and used_up.get_json()["error"]["code"] == "coupon_used_up"


def test_a_code_that_is_not_text_or_too_long_is_a_field_problem(api):
    assert quote(api, coupon_code=12).get_json()["error"]["fields"]["coupon_code"] == "Must be a string."
    too_long = order(api, coupon_code="X" * 41)
    assert too_long.status_code == 422 and "coupon_code" in too_long.get_json()["error"]["fields"]


def test_the_openapi_document_describes_coupon_code(api):
    document = api["client"].get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert schemas["OrderRequest"]["properties"]["coupon_code"]["maxLength"] == 40
    assert "coupon_used_up" in schemas["QuoteRequest"]["properties"]["coupon_code"]["description"]
    assert {"discount_minor", "coupon_code"} <= set(schemas["Order"]["properties"]) & set(
        schemas["Quote"]["properties"]
    )
