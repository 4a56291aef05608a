"""Stock availability, reservation and commitment.

available = on hand − open reservations, where a reservation is open while it is neither
released nor committed and its expiry is still ahead. Rows are locked in primary-key order
(`SELECT … FOR UPDATE` on PostgreSQL; SQLite transactions here are already one writer at a time)
so concurrent checkouts of the same items queue up instead of overselling or deadlocking.
The CHECK constraint `stock_on_hand >= 0` backs the rule in the database itself.
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select

from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.catalog import Variant
from checkout.models.orders import Order, StockReservation
from checkout.orders.errors import OutOfStock, Shortage


def lock_variants(variant_ids: Iterable[int]) -> dict[int, Variant]:
    """Load and lock the variants, always in id order so two transactions never deadlock."""
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    query = select(Variant).where(Variant.id.in_(ids)).order_by(Variant.id).with_for_update()
    rows = db.session.execute(query.execution_options(populate_existing=True)).scalars()
    return {variant.id: variant for variant in rows}


def open_reservation_filter(now: datetime):
    return (
        StockReservation.released_at.is_(None),
        StockReservation.committed_at.is_(None),
        StockReservation.expires_at > now,
    )


def reserved_quantities(
    variant_ids: Iterable[int], *, now: datetime | None = None, excluding_order_id: int | None = None
) -> dict[int, int]:
    ids = list(set(variant_ids))
    if not ids:
        return {}
    query = (
        select(StockReservation.variant_id, func.sum(StockReservation.quantity))
        .where(StockReservation.variant_id.in_(ids), *open_reservation_filter(now or utcnow()))
        .group_by(StockReservation.variant_id)
    )
    if excluding_order_id is not None:
        query = query.where(StockReservation.order_id != excluding_order_id)
    return {variant_id: int(total) for variant_id, total in db.session.execute(query)}


def available_quantities(variants: Iterable[Variant], **kwargs) -> dict[int, int]:
    variants = list(variants)
    reserved = reserved_quantities([v.id for v in variants], **kwargs)
    return {v.id: max(0, v.stock_on_hand - reserved.get(v.id, 0)) for v in variants}


def _check_available(variants: dict[int, Variant], wanted: dict[int, int], **kwargs) -> None:
    available = available_quantities(variants.values(), **kwargs)
    shortages = [
        Shortage(
            sku=variants[vid].sku,
            name=_display_name(variants[vid]),
            requested=quantity,
            available=available[vid],
        )
        for vid, quantity in sorted(wanted.items())
        if quantity > available[vid]
    ]
    if shortages:
        raise OutOfStock(shortages)


def _display_name(variant: Variant) -> str:
    label = variant.options_label
    return f"{variant.product.name} ({label})" if label else variant.product.name


def reserve_stock(order: Order, variants: dict[int, Variant], wanted: dict[int, int], expires_at: datetime):
    """Hold `wanted` units of each (already locked) variant for the order, or raise OutOfStock."""
    _check_available(variants, wanted)
    for variant_id, quantity in sorted(wanted.items()):
        order.reservations.append(StockReservation(variant_id=variant_id, quantity=quantity, expires_at=expires_at))


def commit_reservations(order: Order) -> None:
    """The order is confirmed: take its units off the shelf for good.

    A reservation that expired before confirmation is honoured if the stock is still there.
    """
    pending = [r for r in order.reservations if r.released_at is None and r.committed_at is None]
    if not pending:
        return
    variants = lock_variants(r.variant_id for r in pending)
    wanted: dict[int, int] = {}
    for reservation in pending:
        wanted[reservation.variant_id] = wanted.get(reservation.variant_id, 0) + reservation.quantity
    _check_available(variants, wanted, excluding_order_id=order.id)
    now = utcnow()
    for reservation in pending:
        variants[reservation.variant_id].stock_on_hand -= reservation.quantity
        reservation.committed_at = now


def release_reservations(order: Order) -> None:
    """The order is cancelled: open holds end, committed units go back on the shelf."""
    now = utcnow()
    live = [r for r in order.reservations if r.released_at is None]
    committed = [r for r in live if r.committed_at is not None]
    variants = lock_variants(r.variant_id for r in committed)
    for reservation in live:
        if reservation.committed_at is not None:
            variants[reservation.variant_id].stock_on_hand += reservation.quantity
        reservation.released_at = now
