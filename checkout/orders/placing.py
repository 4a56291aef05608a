"""Placing an order: the one transaction that turns a cart into a pending order with stock held."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from checkout import events
from checkout.carts import link_cart_to_order
from checkout.catalog import stock
from checkout.database import transaction, utcnow
from checkout.extensions import db
from checkout.models.catalog import Variant
from checkout.models.orders import Order, OrderLine
from checkout.models.store import StoreSettings
from checkout.orders import coupons, locks
from checkout.orders.errors import InvalidOrderDetails, OrderError, PendingUnitsLimitReached, PriceChanged
from checkout.orders.lifecycle import OrderStatus, record_event
from checkout.orders.pricing import Quote, merge_lines, price_lines
from checkout.orders.references import generate_reference, generate_status_token
from checkout.orders.validation import CustomerDetails, fulfilment_problems, validate_order_details
from checkout.unicode_safety import strip_bidi_controls


def find_order_by_checkout_key(checkout_key: str | None) -> Order | None:
    if not checkout_key:
        return None
    return db.session.scalar(select(Order).where(Order.checkout_key == checkout_key))


def pending_orders_with_keys(checkout_keys: list[str]) -> list[Order]:
    """The orders these checkout keys made that still wait for the shop, newest first (one query)."""
    if not checkout_keys:
        return []
    return list(
        db.session.scalars(
            select(Order)
            .where(Order.checkout_key.in_(checkout_keys), Order.status == OrderStatus.PENDING)
            .order_by(Order.created_at.desc(), Order.id.desc())
        )
    )


DETAIL_NAMES = {
    "name": "name",
    "phone": "WhatsApp number",
    "fulfilment": "delivery or pickup",
    "address": "address",
    "payment_method": "payment method",
    "note": "note",
}


def details_differing_from(order: Order, details: CustomerDetails) -> list[str]:
    """What `details` would change on an order already placed, in plain words ("address", "name"...).

    The order keeps the details it was placed with: a repeat with other details (a second tab) changes
    nothing, and the shopper is told which of the new ones were not used.
    """
    placed = {
        "name": order.customer_name,
        "phone": order.customer_phone,
        "fulfilment": order.fulfilment,
        "address": order.delivery_address.strip(),
        "payment_method": order.payment_method,
        "note": order.note,
    }
    sent = {
        "name": strip_bidi_controls(details.name).strip(),
        "phone": details.phone,
        "fulfilment": details.fulfilment,
        "address": details.address.strip() if details.fulfilment == "delivery" else "",
        "payment_method": details.payment_method,
        "note": details.note.strip(),
    }
    return [DETAIL_NAMES[field] for field in DETAIL_NAMES if placed[field] != sent[field]]


def check_pending_units(phone: str, units: int, settings: StoreSettings, held: int | None = None) -> None:
    """Raise PendingUnitsLimitReached if `units` more would take the phone past the shop's cap.

    Called after the variant locks: a twin checkout of the same items has committed by then and is
    counted. Checkouts of different items by one phone at the same instant can both pass; the
    per-phone rate limit keeps those few. `held`: the phone's units, when the caller read them after the lock.
    """
    limit = settings.max_pending_units_per_phone
    held = stock.units_held_for_phone(phone) if held is None else held
    if held + units > limit:
        raise PendingUnitsLimitReached(held, units, limit)


PLACING_ATTEMPTS = 3  # a random reference that is already taken (~never: 10^12 values) is drawn again


def place_order(
    *,
    lines: list[tuple[int, int]],
    details: CustomerDetails,
    settings: StoreSettings,
    checkout_key: str | None = None,
    source: str = "website",
    expected_subtotal_minor: int | None = None,
    external_reference: str = "",
    coupon_code: str = "",
    cart_id: int | None = None,
) -> Order:
    """Create a pending order and reserve its stock in one transaction, then commit.

    The same `checkout_key` always yields the same order: a double click, a refresh after POST or
    a second tab finds the first order instead of creating another. Raises an OrderError (nothing
    written) when the cart, the details, the prices, the stock or the discount code don't allow the order.
    A code is counted once per order: its redemption is written with the order, under the coupon's lock.
    `cart_id`: the cart the order comes from, linked to it (with the name and number) in the same transaction.
    The order comes back loaded as written: showing it reads nothing again.
    """
    for attempt in range(1, PLACING_ATTEMPTS + 1):
        try:
            with transaction(keep_loaded=True):
                order = _build_order(
                    lines, details, settings, checkout_key, source, expected_subtotal_minor, coupon_code
                )
                order.external_reference = external_reference[:64]
                if cart_id is not None:
                    link_cart_to_order(cart_id, order.id, name=details.name.strip(), phone=details.phone)
            return order
        except OrderError:
            # A repeat of this same checkout may have waited on the stock lock while its twin took the
            # last units, or its cart is already ordered: the first order is this submission's order too.
            existing = find_order_by_checkout_key(checkout_key)
            if existing is not None:
                return existing
            raise
        except IntegrityError:
            # The key's unique index answers a repeat: an order with this key exists (a double click, a
            # refresh, a concurrent twin that committed first), and that order is the answer. Nothing is
            # looked up before, so a first checkout pays no query for it. Otherwise the reference was taken.
            existing = find_order_by_checkout_key(checkout_key)
            if existing is not None:
                return existing
            if attempt == PLACING_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def quote_cart(
    lines: list[tuple[int, int]], fulfilment: str, settings: StoreSettings, coupon_code: str = "", phone: str = ""
) -> Quote:
    """What these (variant id, quantity) lines would cost now, priced exactly as place_order prices them.

    With a discount code, raises CouponNotAccepted when it can't be used (the per-customer limit only if
    `phone` is given).
    """
    problems = fulfilment_problems(fulfilment, settings)
    if problems:
        raise InvalidOrderDetails(problems)
    wanted = merge_lines(lines)
    found = db.session.scalars(
        select(Variant).where(Variant.id.in_(wanted)).options(selectinload(Variant.product))
    ).all()
    quote = price_lines(wanted, {variant.id: variant for variant in found}, fulfilment, settings)
    return coupons.apply_code(quote, coupon_code, phone=phone, now=utcnow(), settings=settings)


def _build_order(lines, details, settings, checkout_key, source, expected_subtotal_minor, coupon_code) -> Order:
    validate_order_details(details, settings)
    wanted = merge_lines(lines)
    variants = locks.lock_variants(wanted)
    quote = price_lines(wanted, variants, details.fulfilment, settings)
    if expected_subtotal_minor is not None and expected_subtotal_minor != quote.subtotal_minor:
        raise PriceChanged(expected_subtotal_minor, quote.subtotal_minor)
    stocked = [variant_id for variant_id in wanted if stock.is_stocked(variants[variant_id])]
    reserved, held = stock.holds_at_checkout(stocked, details.phone)  # after the locks: twins have committed
    check_pending_units(details.phone, sum(wanted[variant_id] for variant_id in stocked), settings, held=held)
    code = coupons.normalise_code(coupon_code)
    coupon = locks.lock_coupon(code) if code else None  # after the variants: the lock order in locks.py
    quote = coupons.price_with_code(quote, coupon_code, coupon, phone=details.phone, now=utcnow(), settings=settings)

    order = Order(
        reference=generate_reference(),
        status_token=generate_status_token(),
        checkout_key=checkout_key,
        status=OrderStatus.PENDING,
        source=source,
        fulfilment=details.fulfilment,
        customer_name=strip_bidi_controls(details.name).strip(),
        customer_phone=details.phone,
        # Kept exactly as typed: couriers need "Beth House, Kasarani, House 16", not a tidy version.
        delivery_address=details.address if details.fulfilment == "delivery" else "",
        payment_method=details.payment_method,
        note=details.note.strip(),
        currency=quote.currency,
        subtotal_minor=quote.subtotal_minor,
        delivery_fee_minor=quote.delivery_fee_minor,
        discount_minor=quote.discount_minor,
        delivery_discount_minor=quote.delivery_discount_minor,
        coupon_code=quote.coupon_code,
        total_minor=quote.total_minor,
    )
    for line in quote.lines:
        order.lines.append(
            OrderLine(
                variant_id=line.variant.id,
                product_name=line.variant.product.name,
                options_label=line.variant.options_label,
                sku=line.variant.sku,
                unit_price_minor=line.unit_price_minor,
                quantity=line.quantity,
                line_total_minor=line.line_total_minor,
            )
        )
    expires_at = utcnow() + timedelta(hours=settings.reservation_hours)
    stock.reserve_stock(order, variants, wanted, expires_at, reserved=reserved)
    record_event(order, "created", "customer", note=f"Order placed on the {source}", to_status="pending")
    db.session.add(order)
    if coupon is not None:
        coupons.redeem(coupon, order, quote)
    db.session.flush()
    events.publish(events.ORDER_CREATED, order=order)
    return order
