"""Discount codes: each rule that accepts or refuses a code, what it takes off, and its one use per order."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Coupon, CouponRedemption, Order, get_store_settings
from checkout.orders.coupons import apply_code, normalise_code
from checkout.orders.documents import order_document
from checkout.orders.error_responses import RESPONSES, api_error
from checkout.orders.errors import (
    CouponAlreadyUsed,
    CouponExpired,
    CouponMinimumNotReached,
    CouponNotForTheseItems,
    CouponNotStarted,
    CouponPaused,
    CouponUnknown,
    CouponUsedUp,
    ErrorCode,
    OutOfStock,
)
from checkout.orders.placing import place_order, quote_cart
from checkout.orders.pricing import CouponTerms, items_discount
from checkout.whatsapp.links import build_order_summary
from checkout.whatsapp.messages import confirmation_request, staff_alert
from tests.factories import customer, make_coupon, make_order, make_product, make_store


@pytest.fixture
def store(app_context):
    return make_store(delivery_fee_minor=5000, free_delivery_threshold_minor=None)


@pytest.fixture
def kurta(store):
    return make_product(name="Kurta", price_minor=33333, stock=50, category="Clothes").variants[0]


@pytest.fixture
def bangle(store):
    return make_product(name="Bangle", price_minor=12050, stock=50, category="Jewellery").variants[0]


def quote(lines, code="", phone="", fulfilment="delivery"):
    pairs = [(variant.id, quantity) for variant, quantity in lines]
    return quote_cart(pairs, fulfilment, get_store_settings(), coupon_code=code, phone=phone)


# --- what a code takes off ------------------------------------------------------------------------------------


def test_a_percentage_is_rounded_half_up_to_a_minor_unit(kurta):
    make_coupon("TEN", kind="percent", value=10)
    priced = quote([(kurta, 1)], "ten")
    assert priced.discount_minor == 3333  # 10 % of 333.33 = 33.333
    assert priced.coupon_code == "TEN"
    assert priced.total_minor == 33333 - 3333 + 5000
    assert items_discount(CouponTerms("X", "percent", 15, 333)) == 50  # 49.95 → 50


def test_a_fixed_amount_never_takes_the_items_below_zero(bangle):
    make_coupon("BIG", kind="fixed", value=10**7)
    priced = quote([(bangle, 1)], "BIG")
    assert priced.discount_minor == 12050
    assert priced.total_minor == 5000  # the delivery fee is still paid


def test_free_delivery_zeroes_the_fee_and_says_what_it_saved(kurta):
    make_coupon("SHIPFREE", kind="free_delivery", value=0)
    priced = quote([(kurta, 1)], "shipfree")
    assert (priced.delivery_fee_minor, priced.discount_minor, priced.delivery_discount_minor) == (0, 0, 5000)
    assert priced.total_minor == 33333
    assert priced.coupon_saving_minor == 5000


def test_a_scoped_code_discounts_only_its_products_and_categories(kurta, bangle):
    make_coupon("JEWEL", kind="percent", value=50, category_ids=[bangle.product.category_id])
    assert quote([(kurta, 1), (bangle, 2)], "JEWEL").discount_minor == 12050
    make_coupon("KURTA", kind="fixed", value=1000, product_ids=[kurta.product_id])
    assert quote([(kurta, 1), (bangle, 2)], "KURTA").discount_minor == 1000


def test_codes_are_found_whatever_their_case_and_spaces(kurta):
    make_coupon("WELCOME", kind="fixed", value=100)
    assert normalise_code("  welcome ") == "WELCOME"
    assert quote([(kurta, 1)], " Welcome ").coupon_code == "WELCOME"


def test_no_code_prices_the_cart_as_before(kurta):
    priced = quote([(kurta, 1)], "   ")
    assert (priced.discount_minor, priced.coupon_code, priced.total_minor) == (0, "", 38333)


# --- why a code is refused --------------------------------------------------------------------------------------


def test_an_unknown_code_is_refused_by_name(kurta):
    with pytest.raises(CouponUnknown) as refused:
        quote([(kurta, 1)], "nope")
    assert "NOPE" in str(refused.value) and refused.value.problems[0].field == "coupon_code"


def test_a_paused_code_is_refused(kurta):
    make_coupon("HOLD", paused=True)
    with pytest.raises(CouponPaused):
        quote([(kurta, 1)], "HOLD")


def test_a_code_before_its_start_and_after_its_end_is_refused(kurta):
    make_coupon("SOON", starts_at=utcnow() + timedelta(days=2))
    make_coupon("GONE", ends_at=utcnow() - timedelta(minutes=1))
    make_coupon("NOW", starts_at=utcnow() - timedelta(days=1), ends_at=utcnow() + timedelta(days=1))
    with pytest.raises(CouponNotStarted, match="can be used from"):
        quote([(kurta, 1)], "SOON")
    with pytest.raises(CouponExpired, match="expired on"):
        quote([(kurta, 1)], "GONE")
    assert quote([(kurta, 1)], "NOW").coupon_code == "NOW"


def test_a_code_below_its_minimum_says_how_much_more_to_add(kurta):
    make_coupon("MIN500", minimum_subtotal_minor=50000)
    with pytest.raises(CouponMinimumNotReached) as refused:
        quote([(kurta, 1)], "MIN500")
    assert refused.value.missing_minor == 50000 - 33333
    assert "add ₹166.67 more" in str(refused.value)
    assert quote([(kurta, 2)], "MIN500").coupon_code == "MIN500"


def test_a_code_for_other_items_is_refused(kurta, bangle):
    make_coupon("JEWEL", category_ids=[bangle.product.category_id])
    with pytest.raises(CouponNotForTheseItems):
        quote([(kurta, 1)], "JEWEL")


def test_a_used_up_code_is_refused_at_quote_and_at_placing(kurta):
    make_coupon("TWICE", usage_limit=2)
    for index in range(2):
        make_order([(kurta, 1)], details=customer(phone=f"+9198765432{index:02d}"), coupon_code="TWICE")
    with pytest.raises(CouponUsedUp):
        quote([(kurta, 1)], "TWICE")
    with pytest.raises(CouponUsedUp):
        make_order([(kurta, 1)], details=customer(phone="+919876543299"), coupon_code="TWICE")
    assert db.session.scalar(select(func.count(Order.id))) == 2


def test_a_customer_over_the_per_phone_limit_is_refused_but_others_are_not(kurta):
    make_coupon("ONCE", per_customer_limit=1)
    make_order([(kurta, 1)], coupon_code="once")
    assert quote([(kurta, 1)], "ONCE").coupon_code == "ONCE"  # no phone yet: checked when placing
    with pytest.raises(CouponAlreadyUsed, match="once per customer"):
        quote([(kurta, 1)], "ONCE", phone=customer().phone)
    with pytest.raises(CouponAlreadyUsed):
        make_order([(kurta, 1)], coupon_code="ONCE")
    assert make_order([(kurta, 1)], details=customer(phone="+919812345678"), coupon_code="ONCE").coupon_code == "ONCE"


def test_every_refusal_has_its_own_code_answered_under_the_code_field(kurta):
    coupon_codes = [code for code in ErrorCode if code.value.startswith("coupon_")]
    assert len(coupon_codes) == 8 and all(RESPONSES[code].on_form for code in coupon_codes)
    status, body = api_error(CouponUnknown("NOPE"))
    assert status == 422 and body["error"]["code"] == "coupon_unknown"
    assert "NOPE" in body["error"]["fields"]["coupon_code"]
    assert api_error(CouponUsedUp("X"))[0] == 409


# --- placing an order with a code ---------------------------------------------------------------------------------


def test_an_order_keeps_its_discount_and_code_and_counts_one_use(kurta):
    coupon = make_coupon("TEN", kind="percent", value=10)
    order = make_order([(kurta, 3)], coupon_code="ten")
    assert (order.subtotal_minor, order.discount_minor, order.coupon_code) == (99999, 10000, "TEN")
    assert order.total_minor == 99999 - 10000 + 5000
    redemption = db.session.scalar(select(CouponRedemption))
    assert (redemption.coupon_id, redemption.order_id, redemption.discount_minor) == (coupon.id, order.id, 10000)
    assert redemption.phone == order.customer_phone


def test_repeated_submissions_of_one_checkout_count_the_code_once(kurta):
    make_coupon("ONCE", usage_limit=1, per_customer_limit=1)
    first = make_order([(kurta, 1)], checkout_key="same-cart", coupon_code="ONCE")
    again = make_order([(kurta, 1)], checkout_key="same-cart", coupon_code="ONCE")
    assert again.id == first.id
    assert db.session.scalar(select(func.count(CouponRedemption.id))) == 1


def test_a_refused_code_writes_no_order(kurta):
    make_coupon("GONE", ends_at=utcnow() - timedelta(days=1))
    with pytest.raises(CouponExpired):
        make_order([(kurta, 1)], coupon_code="GONE")
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_an_order_refused_for_stock_uses_nothing_of_the_code(kurta):
    make_coupon("ONE", usage_limit=1)
    with pytest.raises(OutOfStock):
        place_order(lines=[(kurta.id, 99)], details=customer(), settings=get_store_settings(), coupon_code="ONE")
    assert db.session.scalar(select(func.count(CouponRedemption.id))) == 0


def test_apply_code_leaves_a_quote_without_a_code_alone(kurta):
    priced = quote([(kurta, 1)])
    assert apply_code(priced, "", phone="", now=utcnow(), settings=get_store_settings()) is priced


def test_codes_are_stored_upper_case_and_unique_whatever_the_case(store):
    make_coupon("SUMMER")
    assert db.session.scalar(select(Coupon.code)) == "SUMMER"


# --- where an order's discount is told ------------------------------------------------------------------------------


def test_the_whatsapp_summary_and_messages_tell_the_discount(kurta):
    make_coupon("TEN", kind="percent", value=10)
    make_coupon("SHIPFREE", kind="free_delivery", value=0)
    settings = get_store_settings()
    discounted = make_order([(kurta, 3)], coupon_code="TEN")
    summary = build_order_summary(discounted, settings, "https://shop.example/o/x")
    assert "Subtotal: ₹999.99\nDiscount (TEN): −₹100.00\nDelivery: ₹50.00\n*Total: ₹949.99*" in summary
    confirmation = confirmation_request(discounted, settings, in_window=True, language="en")
    assert "(₹949.99 with code TEN)" in confirmation.body_text
    alert = staff_alert(discounted, settings, admin_url="https://shop.example/admin", in_window=True, language="en")
    assert "total ₹949.99 with code TEN" in alert.body_text
    template = confirmation_request(discounted, settings, in_window=False, language="en")
    assert "₹949.99 with code TEN" in template.body_text  # one template parameter, no newline
    free = make_order([(kurta, 1)], details=customer(phone="+919812345678"), coupon_code="SHIPFREE")
    summary = build_order_summary(free, settings, "https://shop.example/o/y")
    assert "Free delivery (SHIPFREE): −₹50.00\nDelivery: Free" in summary
    assert order_document(free, settings)["delivery_discount_minor"] == 5000
