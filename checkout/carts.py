"""Carts on the server, one kind for every channel: the website, the widget, the Store API and WhatsApp.

A browser's session, the widget's storage or a conversation keeps only the cart's unguessable token. The
row is made by the first add (browsing makes none), and every change commits before its caller answers,
so a shopper who leaves the page at once keeps the item. A line remembers the unit price last shown, so a
price that changed since is explained, never silently charged. Prices, availability and the delivery fee
come from checkout/orders/pricing.py, the same function that prices an order.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from checkout.catalog.stock import available_quantities, reserved_units_column
from checkout.database import transaction, utcnow
from checkout.extensions import db
from checkout.models.carts import Cart, CartLine
from checkout.models.catalog import Variant
from checkout.models.orders import Order
from checkout.models.store import StoreSettings, get_store_settings
from checkout.money import format_money
from checkout.orders import locks
from checkout.orders.coupons import apply_code, normalise_code
from checkout.orders.errors import (
    CartAlreadyOrdered,
    CartFull,
    CartNotFound,
    CouponNotAccepted,
    InvalidQuantity,
    OutOfStock,
    ProductUnavailable,
    Shortage,
)
from checkout.orders.pricing import MAX_CART_LINES, MAX_LINE_QUANTITY, Quote, QuoteLine, price_lines, total_lines

TOKEN_BYTES = 24  # 192 bits, 32 characters: as hard to guess as an order's status token
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def new_cart_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_cart_token(value) -> bool:
    """Worth looking up: text of a token's shape (anything else is no cart, without asking the database)."""
    return isinstance(value, str) and TOKEN_SHAPE.fullmatch(value) is not None


def find_cart(token: str | None) -> Cart | None:
    """The cart with this token, its lines, variants and products read in one query; None if there is none."""
    if not is_cart_token(token):
        return None
    query = (
        select(Cart)
        .where(Cart.token == token)
        .options(joinedload(Cart.lines).joinedload(CartLine.variant).joinedload(Variant.product))
    )
    return db.session.scalars(query).unique().first()


def find_cart_of_order(order: Order) -> Cart | None:
    """The cart this order was placed from, if it has not expired since."""
    return db.session.scalar(select(Cart).where(Cart.order_id == order.id).limit(1))


def item_count(cart: Cart | None) -> int:
    return sum(line.quantity for line in cart.lines) if cart is not None else 0


def order_lines(cart: Cart) -> list[tuple[int, int]]:
    """The (variant id, quantity) pairs an order from this cart asks for."""
    return [(line.variant_id, line.quantity) for line in cart.lines]


# ---------------------------------------------------------------------------------------------------------------
# Changing a cart: one committed step each
# ---------------------------------------------------------------------------------------------------------------


class NoteKind(StrEnum):
    UNAVAILABLE = "unavailable"  # the product was archived or drafted: the line is not in the total
    SOLD_OUT = "sold_out"
    FEWER_LEFT = "fewer_left"  # the line asks for more than the shop has now
    PRICE_CHANGED = "price_changed"  # since the shopper last saw the line
    LIMITED = "limited"  # a change gave fewer than asked: the stock or the most a line may hold


@dataclass(frozen=True)
class CartNote:
    """Something about one line the shopper must be told, in words, with a kind code can test."""

    variant_id: int
    sku: str
    kind: NoteKind
    message: str


@dataclass(frozen=True)
class CartChange:
    """A committed change. `cart` stays loaded with its lines, variants and products as written, so the answer
    (the count, the priced cart) reads nothing again."""

    cart: Cart
    variant: Variant
    quantity: int  # the line's quantity now; 0 when the line is gone
    note: CartNote | None = None  # set when the line holds less than was asked for
    available: dict[int, int] | None = None  # units each line's variant can still be sold, when the change read them

    @property
    def item_count(self) -> int:
        return item_count(self.cart)


def _display_name(variant: Variant) -> str:
    label = variant.options_label
    return f"{variant.product.name} ({label})" if label else variant.product.name


# Built once: every add runs it, and building it costs about as much CPU as running it.
_VARIANT_WITH_RESERVED = (
    select(Variant, reserved_units_column(bindparam("now")))
    .where(Variant.id == bindparam("variant_id"))
    .options(joinedload(Variant.product))
)


def _sellable_variant(variant_id: int) -> tuple[Variant, int]:
    """The variant with its product, and the units the shop can sell now, in one query."""
    row = db.session.execute(_VARIANT_WITH_RESERVED, {"variant_id": variant_id, "now": utcnow()}).first()
    if row is None or not row[0].product.is_sellable:
        raise ProductUnavailable(row[0].sku if row is not None else f"item #{variant_id}")
    variant, reserved = row
    return variant, available_quantities([variant], reserved={variant.id: int(reserved)})[variant.id]


def _locked_open_cart(token: str, *, with_items: bool = True) -> Cart | None:
    cart = locks.lock_cart(token, with_items=with_items) if is_cart_token(token) else None
    if cart is not None and cart.order_id is not None:
        raise CartAlreadyOrdered()
    return cart


def _touch(cart: Cart) -> None:
    cart.updated_at = utcnow()


def _limited(variant: Variant, asked: int, given: int, available: int) -> CartNote | None:
    if given >= asked:
        return None
    if given >= available:
        message = f"Only {available} of {_display_name(variant)} left: your cart has {given}."
    else:
        message = f"A cart holds at most {MAX_LINE_QUANTITY} of one item: your cart has {given}."
    return CartNote(variant.id, variant.sku, NoteKind.LIMITED, message)


def add_item(token: str, variant_id: int, quantity: int, *, start_channel: str | None = None) -> CartChange:
    """Add units of a variant to the cart `token` names; the same variant again merges into its line.

    The line never holds more than the shop can sell now, nor more than MAX_LINE_QUANTITY; the change
    says so when it gives fewer than asked. When no cart has the token yet, `start_channel` makes one (the
    first add); without it the cart must exist. Commits before returning.
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_LINE_QUANTITY:
        raise InvalidQuantity(quantity, MAX_LINE_QUANTITY)
    try:
        return _add_item(token, variant_id, quantity, start_channel)
    except IntegrityError:
        # The same first add twice at once (a double tap): the other made the cart; add to it.
        return _add_item(token, variant_id, quantity, start_channel)


def _add_item(token: str, variant_id: int, quantity: int, start_channel: str | None) -> CartChange:
    with transaction(keep_loaded=True):
        cart = _locked_open_cart(token, with_items=False)  # the new line's variant is read with its stock
        if cart is None:
            if start_channel is None or not is_cart_token(token):
                raise CartNotFound()
            cart = Cart(token=token, channel=start_channel)
            db.session.add(cart)
        variant, available = _sellable_variant(variant_id)
        line = next((line for line in cart.lines if line.variant_id == variant_id), None)
        if line is None and len(cart.lines) >= MAX_CART_LINES:
            raise CartFull(MAX_CART_LINES)
        held = line.quantity if line is not None else 0
        if available <= held:
            raise OutOfStock([Shortage(variant.sku, _display_name(variant), held + quantity, available)])
        given = min(held + quantity, MAX_LINE_QUANTITY, available)
        if line is None:
            line = CartLine(variant=variant, quantity=given, seen_price_minor=variant.price_minor)
            cart.lines.append(line)
        line.quantity, line.seen_price_minor = given, variant.price_minor
        _touch(cart)
        note = _limited(variant, held + quantity, given, available)
    return CartChange(cart, variant, given, note)


def add_items(token: str, lines: list[tuple[int, int]]) -> list[CartNote]:
    """Add each (variant id, quantity) to an existing cart; what could not be added, or only in part, is
    told in the notes returned instead of refusing the rest."""
    notes = []
    for variant_id, quantity in lines:
        try:
            change = add_item(token, variant_id, quantity)
        except (OutOfStock, ProductUnavailable, CartFull) as refused:
            variant = db.session.get(Variant, variant_id)
            notes.append(CartNote(variant_id, variant.sku if variant else "", NoteKind.LIMITED, str(refused)))
            continue
        if change.note is not None:
            notes.append(change.note)
    return notes


def set_item_quantity(token: str, variant_id: int, quantity: int, *, read_stock: bool = False) -> CartChange:
    """Set a line's quantity; 0 removes it. Lowering always works; raising stops at what the shop has.

    Commits before returning. Raises CartNotFound, or InvalidQuantity outside 0..MAX_LINE_QUANTITY.
    `read_stock`: read every line's stock even when lowering (CartChange.available), for a caller that prices
    the cart next: in the change's transaction, the answer then needs no second one.
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_LINE_QUANTITY:
        raise InvalidQuantity(quantity, MAX_LINE_QUANTITY)
    if quantity == 0:
        return remove_item(token, variant_id)
    with transaction(keep_loaded=True):
        cart = _locked_open_cart(token)
        if cart is None:
            raise CartNotFound()
        line = next((line for line in cart.lines if line.variant_id == variant_id), None)
        if line is None:
            raise ProductUnavailable(f"item #{variant_id}")
        variant = line.variant
        raising = quantity > line.quantity
        # Every line's stock in the one query a raised line needs: an answer that shows the cart shows them all.
        available = available_quantities([line.variant for line in cart.lines]) if raising or read_stock else None
        given, note = quantity, None
        if raising:
            given = max(line.quantity, min(quantity, available[variant.id]))
            note = _limited(variant, quantity, given, available[variant.id])
        line.quantity, line.seen_price_minor = given, variant.price_minor
        _touch(cart)
    return CartChange(cart, variant, given, note, available)


def remove_item(token: str, variant_id: int) -> CartChange | None:
    """Take a variant's line out of the cart (nothing to do if it is not there). Commits before returning."""
    with transaction(keep_loaded=True):
        cart = _locked_open_cart(token)
        if cart is None:
            raise CartNotFound()
        line = next((line for line in cart.lines if line.variant_id == variant_id), None)
        if line is None:
            return None
        variant = line.variant
        cart.lines.remove(line)
        _touch(cart)
    return CartChange(cart, variant, 0)


def start_cart(channel: str) -> Cart:
    """An empty cart with a new token, for a channel that asks for one before its first add (the Store API)."""
    cart = Cart(token=new_cart_token(), channel=channel)
    with transaction():
        db.session.add(cart)
    return cart


def reopen_cart(token: str) -> Cart | None:
    """The cart to continue from a reopen link: this one, or a fresh copy of it if it was already ordered.

    A cart made one order; opening it again starts a new cart with the same lines (their prices as last
    seen, so a change since is explained). None for an unknown or expired token.
    """
    cart = find_cart(token)
    if cart is None or cart.order_id is None:
        return cart
    copy = Cart(token=new_cart_token(), channel="website", phone=cart.phone, customer_name=cart.customer_name)
    for line in cart.lines:
        copy.lines.append(
            CartLine(variant_id=line.variant_id, quantity=line.quantity, seen_price_minor=line.seen_price_minor)
        )
    with transaction():
        db.session.add(copy)
    return find_cart(copy.token)


# ---------------------------------------------------------------------------------------------------------------
# Checkout and the order
# ---------------------------------------------------------------------------------------------------------------


def record_checkout_started(cart: Cart | None) -> None:
    """The checkout page was opened with this cart (the first time counts). Commits only when it writes."""
    if cart is not None and cart.checkout_started_at is None:
        cart.checkout_started_at = utcnow()
        db.session.commit()


def _remember_customer(cart: Cart, name: str, phone: str) -> bool:
    changed = False
    if name and name[:80] != cart.customer_name:
        cart.customer_name, changed = name[:80], True
    if phone and phone[:20] != cart.phone:
        cart.phone, changed = phone[:20], True
    return changed


def note_customer(cart: Cart | None, *, name: str, phone: str) -> None:
    """Remember the name and number typed at checkout on the cart, even when the order is not placed.
    Commits only when it writes."""
    if cart is not None and _remember_customer(cart, name, phone):
        db.session.commit()


def mark_ordered(cart_id: int | None, order_id: int, *, name: str = "", phone: str = "") -> None:
    """Cart `cart_id` made order `order_id` (for the customer named, with this number): it changes no more,
    and its order keeps its own copy of the lines. One UPDATE, committed.

    Takes ids: it runs right after the order's commit, and reading the expired rows back would cost queries.
    """
    if cart_id is None:
        return
    with transaction():
        link_cart_to_order(cart_id, order_id, name=name, phone=phone)


def link_cart_to_order(cart_id: int, order_id: int, *, name: str = "", phone: str = "") -> None:
    """mark_ordered's one UPDATE, in the caller's transaction: placing an order links its cart as it commits."""
    values = {"order_id": order_id}
    if name:
        values["customer_name"] = name[:80]
    if phone:
        values["phone"] = phone[:20]
    db.session.execute(
        update(Cart).where(Cart.id == cart_id).values(**values).execution_options(synchronize_session=False)
    )


# ---------------------------------------------------------------------------------------------------------------
# Pricing: the one pricing function, with what changed explained
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PricedCart:
    quote: Quote  # the lines that can be ordered, priced as an order prices them
    notes: list[CartNote]
    available: dict[int, int]  # units each line's variant can still be sold

    @property
    def lines(self) -> list[QuoteLine]:
        return self.quote.lines


def price_cart(
    cart: Cart | None, fulfilment: str, settings: StoreSettings, available: dict[int, int] | None = None
) -> PricedCart:
    """What the cart costs now, through the pricing every channel uses, and a note for each line that changed.

    A line whose product is no longer sold is left out of the total and named; a sold-out line, or one
    asking for more than is left, stays (placing the order refuses it with the numbers) and is named; a
    price different from the one the shopper last saw is named with both prices. Writes nothing.
    `available`: the units each line's variant can still be sold, when a change just read them (CartChange).
    """
    lines = list(cart.lines) if cart is not None else []
    sellable = [line for line in lines if line.variant.product.is_sellable]
    if available is None or any(line.variant_id not in available for line in sellable):
        available = available_quantities([line.variant for line in sellable])
    else:
        available = {line.variant_id: available[line.variant_id] for line in sellable}
    money = lambda amount: format_money(amount, settings.currency, settings.locale)  # noqa: E731
    notes = []
    for line in lines:
        variant, name = line.variant, _display_name(line.variant)
        if not variant.product.is_sellable:
            notes.append(CartNote(variant.id, variant.sku, NoteKind.UNAVAILABLE, f"{name} is no longer available."))
            continue
        left = available[variant.id]
        if left == 0:
            notes.append(CartNote(variant.id, variant.sku, NoteKind.SOLD_OUT, f"{name} is sold out."))
        elif left < line.quantity:
            notes.append(CartNote(variant.id, variant.sku, NoteKind.FEWER_LEFT, f"Only {left} of {name} left."))
        if variant.price_minor != line.seen_price_minor:
            message = (
                f"The price of {name} changed from {money(line.seen_price_minor)} to "
                f"{money(variant.price_minor)} since you added it."
            )
            notes.append(CartNote(variant.id, variant.sku, NoteKind.PRICE_CHANGED, message))
    wanted = {line.variant_id: line.quantity for line in sellable}
    variants = {line.variant_id: line.variant for line in sellable}
    quote = price_lines(wanted, variants, fulfilment, settings) if wanted else total_lines([], fulfilment, settings)
    return PricedCart(quote=quote, notes=notes, available=available)


def record_shown(cart: Cart | None, priced: PricedCart) -> None:
    """The shopper has been shown these notes: lines no longer sold leave the cart, and the prices shown
    become the ones seen (a price change is explained once). Commits only when something changed."""
    if cart is None or not priced.notes:
        return
    gone = {note.variant_id for note in priced.notes if note.kind is NoteKind.UNAVAILABLE}
    repriced = {note.variant_id for note in priced.notes if note.kind is NoteKind.PRICE_CHANGED}
    for line in list(cart.lines):
        if line.variant_id in gone:
            cart.lines.remove(line)
        elif line.variant_id in repriced:
            line.seen_price_minor = line.variant.price_minor
    if gone or repriced:
        db.session.commit()


# ---------------------------------------------------------------------------------------------------------------
# Expiry
# ---------------------------------------------------------------------------------------------------------------


def delete_expired_carts(now: datetime, settings: StoreSettings | None = None) -> int:
    """Delete carts untouched for the shop's cart_expiry_days, ordered or not (an order keeps its own copy).

    Run by the scheduled sweep; returns how many carts went.
    """
    settings = settings or get_store_settings()
    cutoff = now - timedelta(days=settings.cart_expiry_days)
    expired = select(Cart.id).where(Cart.updated_at < cutoff)
    with transaction():
        db.session.execute(delete(CartLine).where(CartLine.cart_id.in_(expired)))
        deleted = db.session.execute(delete(Cart).where(Cart.updated_at < cutoff)).rowcount
    return deleted


def with_cart_code(cart: Cart | None, quote: Quote, settings: StoreSettings) -> tuple[Quote, str | None]:
    """`quote` with the discount code kept on the cart, or unchanged with the reason it no longer applies.

    Checked without a phone: the per-customer limit is checked again when the order is placed.
    """
    if cart is None or not cart.coupon_code:
        return quote, None
    try:
        return apply_code(quote, cart.coupon_code, phone="", now=utcnow(), settings=settings), None
    except CouponNotAccepted as refused:
        return quote, str(refused)


def keep_code(cart: Cart, typed_code: str, quote: Quote, settings: StoreSettings) -> Quote:
    """Keep a discount code on the cart for every channel to price it with; blank removes it. Committed.

    Raises CouponNotAccepted (nothing kept) when the code does not apply to this cart now.
    """
    code = normalise_code(typed_code)
    priced = apply_code(quote, code, phone="", now=utcnow(), settings=settings) if code else quote
    with transaction():
        cart = _locked_open_cart(cart.token)
        if cart is not None:
            cart.coupon_code = code
            _touch(cart)
    return priced
