"""Pricing: what a set of cart lines costs, always from the catalog, never from the client.

A discount code's terms (checked by checkout/orders/coupons.py) are applied here too, so every channel's
total comes out of the same few lines.
"""

from dataclasses import dataclass, replace

from checkout.models.catalog import ProductStatus, Variant
from checkout.models.store import StoreSettings
from checkout.orders.errors import EmptyCart, InvalidQuantity, ProductUnavailable

MAX_LINE_QUANTITY = 99
MAX_CART_LINES = 100


@dataclass(frozen=True)
class QuoteLine:
    variant: Variant
    quantity: int

    @property
    def unit_price_minor(self) -> int:
        return self.variant.price_minor

    @property
    def line_total_minor(self) -> int:
        return self.variant.price_minor * self.quantity


@dataclass(frozen=True)
class Quote:
    lines: list[QuoteLine]
    subtotal_minor: int
    delivery_fee_minor: int
    currency: str
    discount_minor: int = 0  # taken off the items by a discount code
    coupon_code: str = ""
    delivery_discount_minor: int = 0  # the fee a free-delivery code waived (delivery_fee_minor is then 0)

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor - self.discount_minor + self.delivery_fee_minor

    @property
    def coupon_saving_minor(self) -> int:
        """Everything the code saved: the items' discount or the waived delivery fee."""
        return self.discount_minor + self.delivery_discount_minor

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)


@dataclass(frozen=True)
class CouponTerms:
    """What an accepted code gives, as pricing needs it: `value` is a percentage (1–100) or minor units."""

    code: str
    kind: str  # percent, fixed or free_delivery
    value: int
    eligible_subtotal_minor: int  # the part of the subtotal the code applies to (its scope's lines)


def items_discount(terms: CouponTerms) -> int:
    """The discount off the eligible items: a percentage rounded half up to a minor unit, never more than them."""
    eligible = max(0, terms.eligible_subtotal_minor)
    if terms.kind == "percent":
        return min(eligible, (eligible * terms.value + 50) // 100)
    if terms.kind == "fixed":
        return min(eligible, max(0, terms.value))
    return 0


def with_coupon(quote: Quote, terms: CouponTerms) -> Quote:
    """`quote` with the code applied: items discounted, or the delivery fee waived; the total never below zero."""
    if terms.kind == "free_delivery":
        return replace(
            quote, coupon_code=terms.code, delivery_fee_minor=0, delivery_discount_minor=quote.delivery_fee_minor
        )
    discount = min(items_discount(terms), quote.subtotal_minor)
    return replace(quote, coupon_code=terms.code, discount_minor=discount)


def validate_quantity(quantity) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_LINE_QUANTITY:
        raise InvalidQuantity(quantity, MAX_LINE_QUANTITY)
    return quantity


def delivery_fee(subtotal_minor: int, fulfilment: str, settings: StoreSettings) -> int:
    """Pickup is free; delivery costs the store's fee unless the subtotal reaches the free threshold."""
    if fulfilment == "pickup":
        return 0
    threshold = settings.free_delivery_threshold_minor
    if threshold is not None and subtotal_minor >= threshold:
        return 0
    return settings.delivery_fee_minor


def merge_lines(lines: list[tuple[int, int]]) -> dict[int, int]:
    """(variant id, quantity) pairs → one quantity per variant, each checked."""
    merged: dict[int, int] = {}
    for variant_id, quantity in lines:
        validate_quantity(quantity)
        merged[variant_id] = merged.get(variant_id, 0) + quantity
    for quantity in merged.values():
        validate_quantity(quantity)
    return merged


def price_lines(
    wanted: dict[int, int], variants: dict[int, Variant], fulfilment: str, settings: StoreSettings
) -> Quote:
    """Price `wanted` (variant id → quantity) with the given catalog rows; only active products sell."""
    if not wanted:
        raise EmptyCart()
    if len(wanted) > MAX_CART_LINES:
        raise InvalidQuantity(len(wanted), MAX_CART_LINES)
    lines = []
    for variant_id, quantity in wanted.items():
        variant = variants.get(variant_id)
        if variant is None or variant.product.status != ProductStatus.ACTIVE:
            raise ProductUnavailable(variant.sku if variant else f"item #{variant_id}")
        lines.append(QuoteLine(variant=variant, quantity=validate_quantity(quantity)))
    return total_lines(lines, fulfilment, settings)


def total_lines(lines: list[QuoteLine], fulfilment: str, settings: StoreSettings) -> Quote:
    """The subtotal, delivery fee and total of lines already checked (a cart page's figures; none is fine).

    Services alone have nothing to deliver, so they pay no delivery fee.
    """
    subtotal = sum(line.line_total_minor for line in lines)
    nothing_to_deliver = bool(lines) and all(line.variant.product.is_service for line in lines)
    return Quote(
        lines=lines,
        subtotal_minor=subtotal,
        delivery_fee_minor=0 if nothing_to_deliver else delivery_fee(subtotal, fulfilment, settings),
        currency=settings.currency,
    )
