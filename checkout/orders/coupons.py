"""Discount codes at checkout: whether a code may be used on a cart, what it gives, and its one use per order.

Every channel (the storefront, the Store API, the widget through it) asks here, and pricing.with_coupon
applies the answer, so a code means the same everywhere. A refusal is a CouponNotAccepted subclass with its
own ErrorCode and a sentence for the shopper. Placing an order checks the code again under the coupon's row
lock (locks.lock_coupon) and writes the redemption in the same transaction, so the limits hold under load.
"""

import re
from datetime import datetime

from sqlalchemy import func, select

from checkout.dates import format_moment
from checkout.extensions import db
from checkout.models.coupons import CODE_MAX, Coupon, CouponRedemption
from checkout.models.orders import Order
from checkout.models.store import StoreSettings
from checkout.money import format_money
from checkout.orders.errors import (
    CouponAlreadyUsed,
    CouponExpired,
    CouponMinimumNotReached,
    CouponNotForTheseItems,
    CouponNotStarted,
    CouponPaused,
    CouponUnknown,
    CouponUsedUp,
)
from checkout.orders.pricing import CouponTerms, Quote, QuoteLine, with_coupon

# What a code may look like: letters, digits, dashes and underscores (ASCII, so upper-casing is the same in
# Python and in every database).
CODE_PATTERN = re.compile(rf"[A-Z0-9][A-Z0-9_-]{{1,{CODE_MAX - 1}}}")


def normalise_code(text: str | None) -> str:
    """A code as typed ("  save10 ") → as stored ("SAVE10"); case and surrounding spaces never matter."""
    return (text or "").strip().upper()


def find_coupon(code: str) -> Coupon | None:
    code = normalise_code(code)
    if not code or len(code) > CODE_MAX:
        return None
    return db.session.scalar(select(Coupon).where(Coupon.code == code))


def uses_of(coupon: Coupon) -> int:
    """Placed orders that used the coupon."""
    return db.session.scalar(select(func.count(CouponRedemption.id)).where(CouponRedemption.coupon_id == coupon.id))


def uses_by_phone(coupon: Coupon, phone: str) -> int:
    query = select(func.count(CouponRedemption.id)).where(
        CouponRedemption.coupon_id == coupon.id, CouponRedemption.phone == phone
    )
    return db.session.scalar(query)


def eligible_lines(coupon: Coupon, lines: list[QuoteLine]) -> list[QuoteLine]:
    """The lines the coupon applies to: all of them, or those of its products and categories."""
    if not coupon.is_scoped:
        return list(lines)
    products, categories = set(coupon.product_ids or []), set(coupon.category_ids or [])
    return [
        line for line in lines if line.variant.product_id in products or line.variant.product.category_id in categories
    ]


def check_coupon(
    coupon: Coupon | None,
    typed_code: str,
    *,
    lines: list[QuoteLine],
    subtotal_minor: int,
    phone: str,
    now: datetime,
    settings: StoreSettings,
) -> CouponTerms:
    """The terms `coupon` gives this cart, or the CouponNotAccepted that says why not.

    `phone` may be empty (a quote before the shopper typed it): the per-customer limit is then checked
    when the order is placed.
    """
    code = normalise_code(typed_code)
    if coupon is None:
        raise CouponUnknown(code)
    if coupon.paused:
        raise CouponPaused(code)
    when = lambda moment: format_moment(moment, settings.zone_name, settings.locale)  # noqa: E731
    if coupon.starts_at is not None and now < coupon.starts_at:
        raise CouponNotStarted(code, when(coupon.starts_at))
    if coupon.ends_at is not None and now >= coupon.ends_at:
        raise CouponExpired(code, when(coupon.ends_at))
    eligible = eligible_lines(coupon, lines)
    if not eligible:
        raise CouponNotForTheseItems(code)
    if subtotal_minor < coupon.minimum_subtotal_minor:
        money = lambda amount: format_money(amount, settings.currency, settings.locale)  # noqa: E731
        missing = coupon.minimum_subtotal_minor - subtotal_minor
        raise CouponMinimumNotReached(code, money(coupon.minimum_subtotal_minor), money(missing), missing)
    if coupon.usage_limit is not None and uses_of(coupon) >= coupon.usage_limit:
        raise CouponUsedUp(code)
    if phone and coupon.per_customer_limit is not None and uses_by_phone(coupon, phone) >= coupon.per_customer_limit:
        raise CouponAlreadyUsed(code, coupon.per_customer_limit)
    return CouponTerms(
        code=coupon.code,
        kind=coupon.kind,
        value=coupon.value,
        eligible_subtotal_minor=sum(line.line_total_minor for line in eligible),
    )


def price_with_code(
    quote: Quote, typed_code: str, coupon: Coupon | None, *, phone: str, now: datetime, settings: StoreSettings
) -> Quote:
    """`quote` with the code applied (unchanged when no code was typed); raises CouponNotAccepted."""
    if not normalise_code(typed_code):
        return quote
    terms = check_coupon(
        coupon,
        typed_code,
        lines=quote.lines,
        subtotal_minor=quote.subtotal_minor,
        phone=phone,
        now=now,
        settings=settings,
    )
    return with_coupon(quote, terms)


def apply_code(quote: Quote, typed_code: str, *, phone: str, now: datetime, settings: StoreSettings) -> Quote:
    """For pages and quotes: `quote` with the code applied, read without a lock (placing checks again)."""
    if not normalise_code(typed_code):
        return quote
    return price_with_code(quote, typed_code, find_coupon(typed_code), phone=phone, now=now, settings=settings)


def redeem(coupon: Coupon, order: Order, quote: Quote) -> CouponRedemption:
    """Count the coupon's use by `order`: one row per order (order_id is unique), written with the order."""
    redemption = CouponRedemption(
        coupon=coupon, order=order, phone=order.customer_phone, discount_minor=quote.coupon_saving_minor
    )
    db.session.add(redemption)
    return redemption
