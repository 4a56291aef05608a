"""Row locks for carts, orders, stock and discount codes, always taken in one order: a cart, then the order,
then its variants by id, then the discount code's coupon (placing an order locks the variants, then the coupon).

Every use case that changes an order or stock locks through here, so two transactions that touch the same
rows take them in the same order and one waits for the other instead of deadlocking or overselling. On
PostgreSQL these are `SELECT … FOR UPDATE`; SQLite's transactions here are already one writer at a time
(see checkout.database.configure_sqlite). Each lock reads its rows afresh, so the checks that follow see
what the transaction that held them last committed. The locks last until the use case commits or rolls back.
"""

from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from checkout.extensions import db
from checkout.models.carts import Cart, CartLine
from checkout.models.catalog import Variant
from checkout.models.coupons import Coupon
from checkout.models.orders import Order


def lock_cart(token: str, *, with_items: bool = True) -> Cart | None:
    """Load and lock the cart with this token, read afresh, and then its lines (`with_items`: with their variants
    and products) in a second query; None if there is none.

    Two changes of one cart at once (a double tap) go one after the other, so neither adds a line twice. The
    lines are read after the lock, not joined to it: on PostgreSQL a query that waited for a row lock sees the
    other tables as they were when it began, which would miss the lines the change it waited for wrote.
    """
    lines = selectinload(Cart.lines)
    if with_items:
        lines = lines.joinedload(CartLine.variant).joinedload(Variant.product)
    query = select(Cart).where(Cart.token == token).options(lines).with_for_update()
    return db.session.scalar(query.execution_options(populate_existing=True))


def lock_order(order_id: int) -> Order | None:
    """Load and lock one order, read afresh; None if there is no such order."""
    query = select(Order).where(Order.id == order_id).with_for_update()
    return db.session.scalar(query.execution_options(populate_existing=True))


def lock_order_by_reference(reference: str) -> Order | None:
    """Load and lock the order with this exact (canonical) reference, read afresh; None if there is none."""
    query = select(Order).where(Order.reference == reference).with_for_update()
    return db.session.scalar(query.execution_options(populate_existing=True))


def lock_unheld_orders(query: Select) -> list[Order]:
    """The orders `query` selects that no other transaction holds, locked in id order: a batch job's share.

    Two workers running the same batch each take the orders the other has not, instead of waiting.
    """
    query = query.order_by(Order.id).with_for_update(skip_locked=True)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def lock_unheld_carts(query: Select) -> list[Cart]:
    """The carts `query` selects that no other transaction holds, locked in id order: a batch job's share."""
    query = query.order_by(Cart.id).with_for_update(skip_locked=True)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def lock_variants(variant_ids: Iterable[int]) -> dict[int, Variant]:
    """Load and lock the variants, read afresh, always in id order so two transactions never deadlock.

    Their products come in the same statement (every caller names or prices them), unlocked: `FOR UPDATE OF`
    the variants alone.
    """
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    query = (
        select(Variant)
        .where(Variant.id.in_(ids))
        .options(joinedload(Variant.product, innerjoin=True))
        .order_by(Variant.id)
        .with_for_update(of=Variant)
    )
    rows = db.session.execute(query.execution_options(populate_existing=True)).scalars()
    return {variant.id: variant for variant in rows}


def lock_coupon(code: str) -> Coupon | None:
    """Load and lock the coupon with this exact (normalised) code, read afresh; None if there is none.

    Taken last, after the variants: checkouts using one code wait here for each other, so each counts the
    uses the one before it committed, and a code limited to five uses makes five orders, never six.
    """
    query = select(Coupon).where(Coupon.code == code).with_for_update()
    return db.session.scalar(query.execution_options(populate_existing=True))
