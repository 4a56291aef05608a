"""Concurrent checkouts with one discount code on PostgreSQL: the coupon's row lock keeps its limits exact.

Checkouts that arrive once the code is used up are refused with CouponUsedUp ("used up"), never placed
without the discount: the shopper saw the discounted total and decides again with the full one.
"""

import threading

import pytest
from sqlalchemy import func, select

from checkout.extensions import db
from checkout.models import CouponRedemption, Order, get_store_settings
from checkout.orders.errors import CouponAlreadyUsed, CouponNotAccepted, CouponUsedUp
from checkout.orders.placing import place_order
from tests.conftest import ON_POSTGRES
from tests.factories import customer, make_coupon, make_product, make_store

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="row locking is exercised on PostgreSQL (DATABASE_URL)"),
]


def _race(app, count, attempt):
    """Run `attempt(i)` in `count` threads released at the same instant; collect results and refusals."""
    barrier = threading.Barrier(count)
    results, refusals, lock = [], [], threading.Lock()

    def worker(index):
        with app.app_context():
            barrier.wait()
            try:
                result = attempt(index)
                with lock:
                    results.append(result)
            except CouponNotAccepted as refusal:
                with lock:
                    refusals.append(refusal)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, refusals


@pytest.fixture
def colours(app):
    """Fifty variants: shoppers who each buy their own share no stock lock, only the coupon's."""
    with app.app_context():
        make_store()
        product = make_product("Bangle", price_minor=100000, stock=5, options=[{"Colour": f"C{i}"} for i in range(50)])
        ids = [variant.id for variant in product.variants]
        db.session.remove()
    return ids


@pytest.fixture
def saree(app):
    with app.app_context():
        make_store()
        variant_id = make_product("Silk Saree", price_minor=100000, stock=500).variants[0].id
        db.session.remove()
    return variant_id


def test_a_code_for_five_uses_raced_by_fifty_customers_is_used_exactly_five_times(app, colours):
    with app.app_context():
        make_coupon("FIVE", kind="percent", value=10, usage_limit=5)
        db.session.remove()

    def attempt(index):
        details = customer(name=f"Shopper {index}", phone=f"+9198765{index:05d}")
        order = place_order(
            lines=[(colours[index], 1)],
            details=details,
            settings=get_store_settings(),
            checkout_key=f"coupon-race-{index}",
            coupon_code="five",
        )
        return order.id

    orders, refusals = _race(app, 50, attempt)
    assert len(orders) == 5 and len(set(orders)) == 5
    assert len(refusals) == 45 and all(isinstance(refusal, CouponUsedUp) for refusal in refusals)
    with app.app_context():
        assert db.session.scalar(select(func.count(CouponRedemption.id))) == 5
        assert db.session.scalar(select(func.count(Order.id)).where(Order.coupon_code == "FIVE")) == 5
        assert db.session.scalar(select(func.count(Order.id))) == 5
        assert set(db.session.scalars(select(Order.discount_minor))) == {10000}


def test_one_customer_racing_checkouts_with_a_once_per_customer_code_gets_it_once(app, saree):
    with app.app_context():
        make_coupon("ONCE", kind="fixed", value=5000, per_customer_limit=1)
        db.session.remove()

    def attempt(index):
        return place_order(
            lines=[(saree, 1)],
            details=customer(),
            settings=get_store_settings(),
            checkout_key=f"once-{index}",
            coupon_code="ONCE",
        ).id

    orders, refusals = _race(app, 10, attempt)
    assert len(orders) == 1
    assert len(refusals) == 9 and all(isinstance(refusal, CouponAlreadyUsed) for refusal in refusals)


def test_repeats_of_one_checkout_with_a_code_make_one_order_and_one_use(app, saree):
    with app.app_context():
        make_coupon("REPEAT", usage_limit=1)
        db.session.remove()

    def attempt(_index):
        return place_order(
            lines=[(saree, 1)],
            details=customer(),
            settings=get_store_settings(),
            checkout_key="same-cart",
            coupon_code="REPEAT",
        ).id

    orders, refusals = _race(app, 10, attempt)
    assert refusals == [] and len(set(orders)) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(CouponRedemption.id))) == 1
