"""Concurrent checkouts on PostgreSQL: row locks keep stock exact and repeats idempotent."""

import threading

import pytest
from sqlalchemy import func, select

from checkout.catalog import stock
from checkout.extensions import db
from checkout.models import Order, StockReservation, Variant, get_store_settings
from checkout.orders.errors import OutOfStock, PendingUnitsLimitReached
from checkout.orders.placing import place_order
from tests.conftest import ON_POSTGRES
from tests.factories import customer, make_product, make_store

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="row locking is exercised on PostgreSQL (DATABASE_URL)"),
]


def _race(app, count, attempt):
    """Run `attempt(i)` in `count` threads released at the same instant; collect results and errors."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker(index):
        with app.app_context():
            barrier.wait()
            try:
                results.append(attempt(index))
            except (OutOfStock, PendingUnitsLimitReached) as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.fixture
def last_units(app):
    with app.app_context():
        make_store()
        product = make_product("Last Saree", stock=5, options=[{"Colour": "Red"}, {"Colour": "Blue"}])
        ids = [v.id for v in product.variants]
        db.session.remove()
    return ids


def test_fifty_shoppers_racing_for_the_last_five_units_make_exactly_five_orders(app, last_units):
    red = last_units[0]

    def attempt(index):
        return place_order(
            lines=[(red, 1)],
            details=customer(name=f"Shopper {index}"),
            settings=get_store_settings(),
            checkout_key=f"race-{index}",
        ).id

    orders, refused = _race(app, 50, attempt)
    assert len(orders) == 5 and len(set(orders)) == 5
    assert len(refused) == 45
    with app.app_context():
        variant = db.session.get(Variant, red)
        assert variant.stock_on_hand == 5
        assert stock.available_quantities([variant])[red] == 0
        assert db.session.scalar(select(func.sum(StockReservation.quantity))) == 5


def test_racing_orders_that_lock_variants_in_opposite_orders_never_deadlock(app, last_units):
    red, blue = last_units

    def attempt(index):
        lines = [(red, 1), (blue, 1)] if index % 2 else [(blue, 1), (red, 1)]
        return place_order(
            lines=lines, details=customer(), settings=get_store_settings(), checkout_key=f"cross-{index}"
        ).id

    orders, refused = _race(app, 20, attempt)
    assert len(orders) == 5 and len(refused) == 15


def test_ten_identical_submissions_at_once_make_one_order(app, last_units):
    red = last_units[0]

    def attempt(_index):
        return place_order(
            lines=[(red, 2)], details=customer(), settings=get_store_settings(), checkout_key="same-cart"
        ).id

    orders, refused = _race(app, 10, attempt)
    assert refused == []
    assert len(orders) == 10 and len(set(orders)) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 1
        assert db.session.scalar(select(func.sum(StockReservation.quantity))) == 2


def test_one_phone_racing_big_checkouts_of_one_item_holds_no_more_than_the_cap(app):
    """The cap is checked after the variant locks: each racer counts the units its predecessors committed."""
    with app.app_context():
        make_store(max_pending_units_per_phone=50)
        sari = make_product("Silk Sari", stock=400).variants[0].id
        db.session.remove()

    def attempt(index):
        return place_order(
            lines=[(sari, 20)], details=customer(), settings=get_store_settings(), checkout_key=f"hold-{index}"
        ).id

    orders, refused = _race(app, 6, attempt)
    assert len(orders) == 2 and len(refused) == 4
    assert all(isinstance(error, PendingUnitsLimitReached) for error in refused)
    with app.app_context():
        assert stock.units_held_for_phone(customer().phone) == 40
