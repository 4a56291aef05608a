"""The stock ledger: every change of stock on hand is a row, so on hand is always the ledger's sum."""

import pytest
from sqlalchemy import select, update

from checkout.catalog import stock
from checkout.catalog.csv_import import apply_import, plan_import
from checkout.extensions import db
from checkout.models import StaffUser, StockMovement, Variant
from checkout.orders.lifecycle import OrderStatus, transition
from tests.factories import customer, make_order, make_product, make_store


@pytest.fixture
def variant(app_context):
    make_store()
    return make_product("Kurta", stock=15, sku="KURTA").variants[0]


def _ledger(variant) -> list[tuple[int, int, str, str]]:
    rows = db.session.scalars(
        select(StockMovement).where(StockMovement.variant_id == variant.id).order_by(StockMovement.id)
    )
    return [(m.delta, m.stock_after, m.reason, m.staff_name) for m in rows]


def test_confirming_an_order_writes_the_sale_in_the_ledger(variant):
    order = make_order([(variant, 6)], details=customer())
    transition(order, OrderStatus.CONFIRMED, actor="Ravi", staff_user_id=None)
    db.session.commit()
    assert db.session.get(Variant, variant.id).stock_on_hand == 9
    assert _ledger(variant) == [
        (15, 15, "Opening stock", ""),
        (-6, 9, f"Order {order.reference} confirmed", "Ravi"),
    ]
    assert stock.variants_out_of_step_with_ledger() == {}


def test_cancelling_a_confirmed_order_puts_the_units_back_through_the_ledger(variant):
    order = make_order([(variant, 6)], details=customer())
    transition(order, OrderStatus.CONFIRMED, actor="customer")
    transition(order, OrderStatus.CANCELLED, actor="system", note="Returned")
    db.session.commit()
    assert [row[:2] for row in _ledger(variant)] == [(15, 15), (-6, 9), (6, 15)]
    assert _ledger(variant)[-1][2:] == (f"Order {order.reference} cancelled: back on the shelf", "system")
    assert stock.variants_out_of_step_with_ledger() == {}


def test_cancelling_a_pending_order_writes_nothing_because_on_hand_never_moved(variant):
    order = make_order([(variant, 6)], details=customer())
    transition(order, OrderStatus.CANCELLED, actor="customer", note="Changed my mind")
    db.session.commit()
    assert _ledger(variant) == [(15, 15, "Opening stock", "")]


def test_adjustments_and_imports_keep_on_hand_equal_to_the_ledger(variant):
    staff = StaffUser(email="m@shop.in", name="Meera", role="manager")
    staff.set_password("a long enough password")
    db.session.add(staff)
    db.session.commit()
    stock.adjust_stock(variant.id, -2, "Damaged", staff)
    csv = "product_sku,product_name,category,status,description,variant_sku,options,price,stock\n"
    csv += "KURTA,Kurta,,active,About Kurta,KURTA-0,,100.00,20\n"
    plan = plan_import(csv.encode(), "INR")
    apply_import(csv.encode(), "INR", staff, plan.fingerprint)
    assert db.session.get(Variant, variant.id).stock_on_hand == 20
    assert [row[:3] for row in _ledger(variant)][1:] == [(-2, 13, "Damaged"), (7, 20, "CSV import")]
    assert stock.variants_out_of_step_with_ledger() == {}


def test_a_change_that_bypasses_the_ledger_is_caught(variant):
    db.session.execute(update(Variant).where(Variant.id == variant.id).values(stock_on_hand=9))
    assert stock.variants_out_of_step_with_ledger() == {variant.id: (9, 15)}
