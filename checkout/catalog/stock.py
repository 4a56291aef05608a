"""Stock: levels, the low-stock rule, staff adjustments, and the reservations open orders hold.

This is the one home of stock. It lives in the catalog because stock is a number on a catalog variant;
the order use cases (placing, confirming, cancelling) call down into it, and it knows orders only
through their models and the OutOfStock error it raises.

available = on hand − open reservations, where a reservation is open while it is neither
released nor committed and its expiry is still ahead. Variants are locked through checkout.orders.locks
(in id order, after the order) so concurrent checkouts of the same items queue up instead of overselling
or deadlocking.
The CHECK constraint `stock_on_hand >= 0` backs the rule in the database itself.

A service (Product.kind "service") has no stock: it is never reserved, committed or released, and it is
always available, up to the most one cart line may hold.

Stock on hand changes in one place, `change_on_hand`, which writes the ledger row (StockMovement) for
every change: adjustments, imports, opening stock, confirmations and cancellations. So on hand is
always the sum of the variant's ledger, which `variants_out_of_step_with_ledger` checks.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, null, select, union_all

from checkout.catalog.errors import StockAdjustmentRefused
from checkout.catalog.values import STOCK_MAX
from checkout.database import transaction, utcnow
from checkout.extensions import db
from checkout.models.catalog import Product, ProductStatus, StockMovement, Variant
from checkout.models.orders import Order, StockReservation
from checkout.models.staff import StaffUser
from checkout.orders.errors import OutOfStock, Shortage
from checkout.orders.locks import lock_variants
from checkout.orders.pricing import MAX_LINE_QUANTITY

SERVICE_AVAILABLE = MAX_LINE_QUANTITY  # what a service "has left": never sold out, never more than a line holds

REASON_MAX = 200  # StockMovement.reason


# ---------------------------------------------------------------- stock on hand and its ledger


def change_on_hand(
    variant: Variant, delta: int, reason: str, *, staff_user_id: int | None = None, by: str = ""
) -> StockMovement:
    """Move the variant's stock on hand by `delta` and write the ledger row saying why and who.

    The caller has locked the variant (or just created it) and checked the change is allowed.
    """
    variant.stock_on_hand = (variant.stock_on_hand or 0) + delta
    movement = StockMovement(
        variant=variant,
        delta=delta,
        stock_after=variant.stock_on_hand,
        reason=reason[:REASON_MAX],
        staff_user_id=staff_user_id,
        staff_name=by[:80],
    )
    db.session.add(movement)
    return movement


def change_on_hand_by_staff(variant: Variant, delta: int, reason: str, staff: StaffUser | None) -> StockMovement:
    """`change_on_hand` with the ledger row signed by a staff member (or by nobody, for the system)."""
    return change_on_hand(
        variant, delta, reason, staff_user_id=staff.id if staff else None, by=staff.name if staff else ""
    )


def variants_out_of_step_with_ledger() -> dict[int, tuple[int, int]]:
    """Variants whose stock on hand differs from their ledger's sum, as id → (on hand, ledger sum).

    Empty when every change of stock went through `change_on_hand`.
    """
    ledger = (
        select(StockMovement.variant_id, func.sum(StockMovement.delta).label("total"))
        .group_by(StockMovement.variant_id)
        .subquery()
    )
    total = func.coalesce(ledger.c.total, 0)
    query = (
        select(Variant.id, Variant.stock_on_hand, total)
        .outerjoin(ledger, ledger.c.variant_id == Variant.id)
        .where(Variant.stock_on_hand != total)
    )
    return {variant_id: (on_hand, int(summed)) for variant_id, on_hand, summed in db.session.execute(query)}


def stock_ledger(variant_id: int, limit: int = 200) -> list[StockMovement]:
    """The variant's stock movements, newest first."""
    return list(
        db.session.scalars(
            select(StockMovement)
            .where(StockMovement.variant_id == variant_id)
            .order_by(StockMovement.created_at.desc(), StockMovement.id.desc())
            .limit(limit)
        )
    )


# ---------------------------------------------------------------- locks, reservations and availability


def open_reservation_filter(now: datetime):
    return (
        StockReservation.released_at.is_(None),
        StockReservation.committed_at.is_(None),
        StockReservation.expires_at > now,
    )


def order_still_holds_stock(now: datetime):
    """SQL condition, for a query over orders: the order has an open reservation."""
    return (
        select(StockReservation.id).where(StockReservation.order_id == Order.id, *open_reservation_filter(now)).exists()
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


def reserved_units_column(now):
    """SQL, for a query that reads variants: the units open reservations hold of each at `now` (a time or a
    bound parameter), so a variant and what it has left come in one statement (`available_quantities` takes
    them as `reserved`)."""
    return (
        select(func.coalesce(func.sum(StockReservation.quantity), 0))
        .where(StockReservation.variant_id == Variant.id, *open_reservation_filter(now))
        .correlate(Variant)
        .scalar_subquery()
    )


def units_held_for_phone(phone: str, *, now: datetime | None = None) -> int:
    """Units held for this phone number's orders, in one aggregate query.

    Only pending orders hold units: confirming commits a reservation and cancelling releases it.
    """
    query = (
        select(func.coalesce(func.sum(StockReservation.quantity), 0))
        .join(Order, Order.id == StockReservation.order_id)
        .where(Order.customer_phone == phone, *open_reservation_filter(now or utcnow()))
    )
    return int(db.session.scalar(query))


def holds_at_checkout(
    variant_ids: Iterable[int], phone: str, *, now: datetime | None = None
) -> tuple[dict[int, int], int]:
    """What a checkout checks after locking its variants, in one statement instead of two: the units reserved
    per variant (as `reserved_quantities`) and the units this phone's orders hold (as `units_held_for_phone`)."""
    open_now = open_reservation_filter(now or utcnow())
    per_variant = (
        select(StockReservation.variant_id, func.sum(StockReservation.quantity))
        .where(StockReservation.variant_id.in_(sorted(set(variant_ids))), *open_now)
        .group_by(StockReservation.variant_id)
    )
    for_phone = (
        select(null(), func.coalesce(func.sum(StockReservation.quantity), 0))
        .join(Order, Order.id == StockReservation.order_id)
        .where(Order.customer_phone == phone, *open_now)
    )
    reserved, held = {}, 0
    for variant_id, total in db.session.execute(union_all(per_variant, for_phone)):
        if variant_id is None:
            held = int(total or 0)
        else:
            reserved[variant_id] = int(total)
    return reserved, held


def is_stocked(variant: Variant) -> bool:
    """Goods are counted; a service is not."""
    return not variant.product.is_service


def available_quantities(
    variants: Iterable[Variant], reserved: dict[int, int] | None = None, **kwargs
) -> dict[int, int]:
    """Units each variant can still be sold; `reserved` when the caller already read the open reservations."""
    variants = list(variants)
    if reserved is None:
        reserved = reserved_quantities([v.id for v in variants if is_stocked(v)], **kwargs)
    return {
        v.id: max(0, v.stock_on_hand - reserved.get(v.id, 0)) if is_stocked(v) else SERVICE_AVAILABLE for v in variants
    }


def availability(products: list[Product]) -> dict[int, int]:
    """Units each variant of these products can still be sold (one query for the whole page)."""
    return available_quantities([v for p in products for v in p.variants])


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


def reserve_stock(
    order: Order,
    variants: dict[int, Variant],
    wanted: dict[int, int],
    expires_at: datetime,
    reserved: dict[int, int] | None = None,
):
    """Hold `wanted` units of each (already locked) variant for the order, or raise OutOfStock.

    Services are left out: nothing is held for them. `reserved`: the open reservations, read after the lock.
    """
    wanted = {variant_id: quantity for variant_id, quantity in wanted.items() if is_stocked(variants[variant_id])}
    _check_available(variants, wanted, reserved=reserved)
    for variant_id, quantity in sorted(wanted.items()):
        order.reservations.append(StockReservation(variant_id=variant_id, quantity=quantity, expires_at=expires_at))


def commit_reservations(order: Order, *, by: str = "", staff_user_id: int | None = None) -> None:
    """The order is confirmed: take its units off the shelf for good, one ledger row per line.

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
        variant = variants[reservation.variant_id]
        change_on_hand(
            variant, -reservation.quantity, f"Order {order.reference} confirmed", staff_user_id=staff_user_id, by=by
        )
        reservation.committed_at = now


def release_reservations(order: Order, *, by: str = "", staff_user_id: int | None = None, reason: str = "") -> None:
    """The order is cancelled (or came back): open holds end, committed units go back on the shelf (and in the
    ledger, with `reason`)."""
    now = utcnow()
    live = [r for r in order.reservations if r.released_at is None]
    committed = [r for r in live if r.committed_at is not None]
    variants = lock_variants(r.variant_id for r in committed)
    for reservation in live:
        if reservation.committed_at is not None:
            variant = variants[reservation.variant_id]
            why = reason or f"Order {order.reference} cancelled: back on the shelf"
            change_on_hand(variant, reservation.quantity, why, staff_user_id=staff_user_id, by=by)
        reservation.released_at = now


def return_to_shelf(order: Order, *, by: str = "", staff_user_id: int | None = None) -> list[StockMovement]:
    """A delivered order's items came back (a return received): each stocked line's units go back on hand, with
    a ledger row. Services and lines whose variant was deleted have nothing to put back."""
    quantities: dict[int, int] = {}
    for line in order.lines:
        if line.variant_id is not None:
            quantities[line.variant_id] = quantities.get(line.variant_id, 0) + line.quantity
    variants = lock_variants(quantities)
    reason = f"Order {order.reference} returned: back on the shelf"
    return [
        change_on_hand(variant, quantities[variant_id], reason, staff_user_id=staff_user_id, by=by)
        for variant_id, variant in sorted(variants.items())
        if is_stocked(variant)
    ]


# ---------------------------------------------------------------- levels and the low-stock rule, for staff


def is_low_stock(available: int, threshold: int) -> bool:
    """The one low-stock rule: what can still be sold is at or below the shop's threshold."""
    return available <= threshold


@dataclass(frozen=True)
class VariantStock:
    on_hand: int
    reserved: int
    available: int
    is_low: bool  # flagged for staff: at or below the threshold, and for sale

    @property
    def is_out(self) -> bool:
        """Flagged, and nothing left to sell: staff read "Out of stock", not "Low stock"."""
        return self.is_low and self.available == 0

    @property
    def alert(self) -> str:
        if self.is_out:
            return "Out of stock"
        return "Low stock" if self.is_low else ""


def variant_stock_levels(variants: list[Variant], threshold: int) -> dict[int, VariantStock]:
    """On hand, reserved by open orders, available and low-stock for each variant (one query)."""
    reserved = reserved_quantities([v.id for v in variants])
    levels = {}
    for variant in variants:
        held = reserved.get(variant.id, 0)
        available = max(0, variant.stock_on_hand - held)
        counted = variant.product.status != ProductStatus.ARCHIVED and is_stocked(variant)
        low = counted and is_low_stock(available, threshold)
        levels[variant.id] = VariantStock(variant.stock_on_hand, held, available, low)
    return levels


# ---------------------------------------------------------------- stock adjustments by staff


def adjust_stock(variant_id: int, delta: int, reason: str, staff: StaffUser | None) -> StockMovement:
    """Add (delta > 0) or remove (delta < 0) units of one variant and record it in the ledger.

    The variant row is locked first, so the check and the change see the same stock as concurrent
    checkouts do. Stock is never taken below zero, nor below what open orders have reserved.
    """
    with transaction():
        movement = _record_adjustment(variant_id, delta, reason, staff)
    return movement


def _record_adjustment(variant_id: int, delta: int, reason: str, staff) -> StockMovement:
    reason = reason.strip()
    if not reason:
        raise StockAdjustmentRefused("reason", "Give a reason, e.g. “received from supplier” or “damaged”.")
    if len(reason) > REASON_MAX:
        raise StockAdjustmentRefused("reason", f"The reason can be at most {REASON_MAX} characters.")
    if delta == 0 or abs(delta) > STOCK_MAX:
        raise StockAdjustmentRefused("delta", f"Enter a change from 1 to {STOCK_MAX:,} units, up or down.")
    variant = lock_variants([variant_id]).get(variant_id)
    if variant is None:
        raise StockAdjustmentRefused("delta", "This variant no longer exists.")
    reserved = reserved_quantities([variant_id]).get(variant_id, 0)
    after = variant.stock_on_hand + delta
    if after < 0:
        raise StockAdjustmentRefused(
            "delta", f"Only {variant.stock_on_hand} on hand: removing {-delta} would take stock below zero."
        )
    if delta < 0 and after < reserved:
        raise StockAdjustmentRefused(
            "delta",
            f"{reserved} unit(s) are reserved by open orders, so stock on hand cannot go below {reserved} "
            f"(removing {-delta} would leave {after}).",
        )
    return change_on_hand_by_staff(variant, delta, reason, staff)
