"""A discount code at the storefront checkout: Apply re-prices the page, placing keeps it, refusals say why."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import CouponRedemption, Order
from tests.factories import make_coupon, make_product, make_store

FORM = {
    "name": "Asha Kumar",
    "phone": "098765 43210",
    "fulfilment": "delivery",
    "address": "Beth House, Kasarani, House 16",
    "payment_method": "cod",
    "note": "",
}


@pytest.fixture
def shop(app):
    with app.app_context():
        make_store(delivery_fee_minor=5000)
        kurta = make_product("Cotton Kurta", price_minor=79900, stock=5)
        make_coupon("WELCOME10", kind="percent", value=10)
        make_coupon("SHIPFREE", kind="free_delivery", value=0)
        make_coupon("BIGSPEND", kind="fixed", value=10000, minimum_subtotal_minor=200000)
        make_coupon("OLD", ends_at=utcnow() - timedelta(days=1))
        variant_id = kurta.variants[0].id
        db.session.remove()
    return variant_id


def checkout_form(client, **changes):
    page = client.get("/checkout").get_data(as_text=True)
    hidden = dict(
        re.findall(r'<input id="(checkout_key|expected_subtotal)" name="\1" type="hidden" value="([^"]*)"', page)
    )
    return {**FORM, **hidden, **changes}


@pytest.fixture
def cart(client, shop):
    client.post("/cart/add", data={"variant_id": shop, "quantity": 2})
    return client


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def test_the_checkout_page_has_a_discount_code_box_with_apply(cart):
    page = text_of(cart.get("/checkout"))
    assert 'name="coupon_code"' in page and "Discount code (optional)" in page
    assert 'formaction="/checkout/code"' in page


def test_apply_reprices_the_page_and_keeps_what_was_typed(cart):
    response = cart.post("/checkout/code", data=checkout_form(cart, coupon_code="welcome10"))
    assert response.status_code == 200
    page = text_of(response)
    assert "Discount (WELCOME10)" in page and "−₹159.80" in page
    assert "Code WELCOME10 applied: you save ₹159.80." in page
    assert "₹1,488.20" in page  # 1,598.00 − 159.80 + 50.00
    assert 'value="Asha Kumar"' in page and 'value="welcome10"' in page


def test_a_free_delivery_code_shows_free_delivery(cart):
    page = text_of(cart.post("/checkout/code", data=checkout_form(cart, coupon_code="SHIPFREE")))
    assert "Free with code SHIPFREE" in page and "you save ₹50.00 on delivery" in page


@pytest.mark.parametrize(
    "code, reason",
    [
        ("NOPE", "There is no discount code 'NOPE'"),
        ("OLD", "The code OLD expired on"),
        ("bigspend", "needs a subtotal of at least ₹2,000.00: add ₹402.00 more"),
    ],
)
def test_a_refused_code_says_why_beside_the_box_and_nothing_is_taken_off(cart, code, reason):
    response = cart.post("/checkout/code", data=checkout_form(cart, coupon_code=code))
    assert response.status_code == 422
    page = text_of(response)
    assert reason in page and 'id="coupon_code-error"' in page
    assert "Discount (" not in page and "₹1,648.00" in page


def test_placing_the_order_keeps_the_discount_and_the_code(app, cart):
    response = cart.post("/checkout", data=checkout_form(cart, coupon_code=" welcome10 "))
    assert response.status_code == 303
    with app.app_context():
        order = db.session.scalars(select(Order)).one()
        assert (order.discount_minor, order.coupon_code, order.total_minor) == (15980, "WELCOME10", 148820)
        assert db.session.scalar(select(CouponRedemption.order_id)) == order.id
    handoff = text_of(cart.get(response.headers["Location"]))
    assert "Discount (WELCOME10)" in handoff and "−₹159.80" in handoff
    assert "Discount%20%28WELCOME10%29%3A%20%E2%88%92%E2%82%B9159.80" in handoff  # in the wa.me text


def test_placing_with_a_refused_code_shows_the_reason_and_places_nothing(app, cart):
    response = cart.post("/checkout", data=checkout_form(cart, coupon_code="OLD"))
    assert response.status_code == 422
    page = text_of(response)
    assert "Discount code (optional): The code OLD expired on" in page  # in the summary of things to fix
    with app.app_context():
        assert db.session.scalar(select(Order.id)) is None


def test_a_used_up_code_is_refused_at_placing_even_if_it_applied_earlier(app, cart, shop):
    with app.app_context():
        make_coupon("ONE", usage_limit=1)
    assert cart.post("/checkout/code", data=checkout_form(cart, coupon_code="ONE")).status_code == 200
    other = app.test_client()
    other.post("/cart/add", data={"variant_id": shop, "quantity": 1})
    placed = other.post("/checkout", data=checkout_form(other, coupon_code="ONE", phone="098765 11111"))
    assert placed.status_code == 303
    response = cart.post("/checkout", data=checkout_form(cart, coupon_code="ONE"))
    assert response.status_code == 409
    assert "has been used as many times as the shop allows" in text_of(response)
