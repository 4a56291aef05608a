"""Placing an order: the one transaction that turns a cart into a pending order with stock held."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from checkout import events
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.orders import Order, OrderLine
from checkout.models.store import StoreSettings
from checkout.orders import stock
from checkout.orders.errors import InvalidOrderDetails, OrderError, PriceChanged
from checkout.orders.lifecycle import OrderStatus, record_event
from checkout.orders.pricing import merge_lines, price_lines
from checkout.orders.references import generate_reference, generate_status_token

ADDRESS_MAX = 500
NOTE_MAX = 500
NAME_MAX = 80


@dataclass(frozen=True)
class CustomerDetails:
    name: str
    phone: str  # E.164, already normalised
    fulfilment: str  # "delivery" or "pickup"
    address: str
    payment_method: str
    note: str = ""


def find_order_by_checkout_key(checkout_key: str | None) -> Order | None:
    if not checkout_key:
        return None
    return db.session.scalar(select(Order).where(Order.checkout_key == checkout_key))


def validate_details(details: CustomerDetails, settings: StoreSettings) -> None:
    if not details.name.strip() or len(details.name) > NAME_MAX:
        raise InvalidOrderDetails("name", f"Please give a name of at most {NAME_MAX} characters.")
    if details.fulfilment not in ("delivery", "pickup"):
        raise InvalidOrderDetails("fulfilment", "Choose delivery or pickup.")
    if details.fulfilment == "pickup" and not settings.pickup_enabled:
        raise InvalidOrderDetails("fulfilment", "This shop does not offer pickup.")
    if details.fulfilment == "delivery" and not details.address.strip():
        raise InvalidOrderDetails("address", "Please give the delivery address.")
    if len(details.address) > ADDRESS_MAX:
        raise InvalidOrderDetails("address", f"The address can be at most {ADDRESS_MAX} characters.")
    if len(details.note) > NOTE_MAX:
        raise InvalidOrderDetails("note", f"The note can be at most {NOTE_MAX} characters.")
    if details.payment_method not in settings.payment_methods:
        raise InvalidOrderDetails("payment_method", "Choose one of the payment methods offered.")


def _unused_reference() -> str:
    for _ in range(10):
        reference = generate_reference()
        if db.session.scalar(select(Order.id).where(Order.reference == reference)) is None:
            return reference
    raise RuntimeError("could not find a free order reference")  # ~never: 10^12 values


def place_order(
    *,
    lines: list[tuple[int, int]],
    details: CustomerDetails,
    settings: StoreSettings,
    checkout_key: str | None = None,
    source: str = "website",
    expected_subtotal_minor: int | None = None,
    external_reference: str = "",
) -> Order:
    """Create a pending order and reserve its stock in one transaction, then commit.

    The same `checkout_key` always yields the same order: a double click, a refresh after POST or
    a second tab finds the first order instead of creating another. Raises an OrderError (nothing
    written) when the cart, the details, the prices or the stock don't allow the order.
    """
    existing = find_order_by_checkout_key(checkout_key)
    if existing is not None:
        return existing
    try:
        order = _build_order(lines, details, settings, checkout_key, source, expected_subtotal_minor)
        order.external_reference = external_reference[:64]
        db.session.commit()
    except OrderError:
        db.session.rollback()
        # A repeat of this same checkout may have waited on the stock lock while its twin took the
        # last units: the twin's order is this submission's order too, not a "sold out".
        existing = find_order_by_checkout_key(checkout_key)
        if existing is not None:
            return existing
        raise
    except IntegrityError:
        db.session.rollback()
        # A concurrent submission with the same key committed first: that order is the answer.
        existing = find_order_by_checkout_key(checkout_key)
        if existing is None:
            raise
        return existing
    return order


def _build_order(lines, details, settings, checkout_key, source, expected_subtotal_minor) -> Order:
    validate_details(details, settings)
    wanted = merge_lines(lines)
    variants = stock.lock_variants(wanted)
    quote = price_lines(wanted, variants, details.fulfilment, settings)
    if expected_subtotal_minor is not None and expected_subtotal_minor != quote.subtotal_minor:
        raise PriceChanged(expected_subtotal_minor, quote.subtotal_minor)

    order = Order(
        reference=_unused_reference(),
        status_token=generate_status_token(),
        checkout_key=checkout_key,
        status=OrderStatus.PENDING,
        source=source,
        fulfilment=details.fulfilment,
        customer_name=details.name.strip(),
        customer_phone=details.phone,
        # Kept exactly as typed: couriers need "Beth House, Kasarani, House 16", not a tidy version.
        delivery_address=details.address if details.fulfilment == "delivery" else "",
        payment_method=details.payment_method,
        note=details.note.strip(),
        currency=quote.currency,
        subtotal_minor=quote.subtotal_minor,
        delivery_fee_minor=quote.delivery_fee_minor,
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
    stock.reserve_stock(order, variants, wanted, expires_at)
    record_event(order, "created", "customer", note=f"Order placed on the {source}", to_status="pending")
    db.session.add(order)
    db.session.flush()
    events.publish(events.ORDER_CREATED, order=order)
    return order
