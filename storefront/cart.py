"""The shopper's cart, kept in the signed session cookie.

The cookie holds only variant ids and quantities (never prices), so it stays small and can't be
used to change what anything costs; it survives a server restart because the secret key does.
A checkout key travels with the cart: every submission of the same cart finds the same order.
"""

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from checkout.extensions import db
from checkout.models.catalog import ProductStatus, Variant
from checkout.orders.pricing import MAX_CART_LINES, MAX_LINE_QUANTITY

SESSION_KEY = "cart"


@dataclass
class CartLine:
    variant: Variant
    quantity: int

    @property
    def line_total_minor(self) -> int:
        return self.variant.price_minor * self.quantity


def _raw_lines(session) -> list[list[int]]:
    data = session.get(SESSION_KEY) or {}
    lines = data.get("lines") if isinstance(data, dict) else None
    if not isinstance(lines, list):
        return []
    clean = []
    for entry in lines:
        if (
            isinstance(entry, list)
            and len(entry) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in entry)
            and entry[1] > 0
        ):
            clean.append(entry)
    return clean


def _save(session, lines: list[list[int]]) -> None:
    data = session.get(SESSION_KEY) if isinstance(session.get(SESSION_KEY), dict) else {}
    session[SESSION_KEY] = {"lines": lines, "key": data.get("key") or secrets.token_urlsafe(16)}


def checkout_key(session) -> str:
    """The key of the current cart's checkout attempt, created with the cart."""
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict) or not data.get("key"):
        _save(session, _raw_lines(session))
    return session[SESSION_KEY]["key"]


def cart_item_count(session) -> int:
    return sum(quantity for _, quantity in _raw_lines(session))


def cart_pairs(session) -> list[tuple[int, int]]:
    return [(variant_id, quantity) for variant_id, quantity in _raw_lines(session)]


class CartFull(ValueError):
    pass


def add_to_cart(session, variant_id: int, quantity: int) -> int:
    """Add units of a variant; the same variant again merges into one line. Returns the new quantity."""
    lines = _raw_lines(session)
    for entry in lines:
        if entry[0] == variant_id:
            entry[1] = min(entry[1] + quantity, MAX_LINE_QUANTITY)
            _save(session, lines)
            return entry[1]
    if len(lines) >= MAX_CART_LINES:
        raise CartFull(f"A cart can hold at most {MAX_CART_LINES} different items.")
    quantity = min(quantity, MAX_LINE_QUANTITY)
    lines.append([variant_id, quantity])
    _save(session, lines)
    return quantity


def set_quantity(session, variant_id: int, quantity: int) -> None:
    """Set a line's quantity; zero removes it."""
    lines = [e for e in _raw_lines(session) if e[0] != variant_id or quantity > 0]
    for entry in lines:
        if entry[0] == variant_id:
            entry[1] = min(quantity, MAX_LINE_QUANTITY)
    _save(session, lines)


def remove_line(session, variant_id: int) -> None:
    set_quantity(session, variant_id, 0)


def clear_cart(session) -> None:
    """Empty the cart and start a new checkout key: the next cart is a new order."""
    session[SESSION_KEY] = {"lines": [], "key": secrets.token_urlsafe(16)}


def load_cart_lines(session) -> tuple[list[CartLine], list[str]]:
    """The cart's lines with their catalog rows; lines no longer on sale are dropped and named."""
    pairs = _raw_lines(session)
    if not pairs:
        return [], []
    ids = [variant_id for variant_id, _ in pairs]
    variants = {
        v.id: v
        for v in db.session.scalars(select(Variant).where(Variant.id.in_(ids)).options(selectinload(Variant.product)))
    }
    lines, dropped = [], []
    for variant_id, quantity in pairs:
        variant = variants.get(variant_id)
        if variant is None or variant.product.status != ProductStatus.ACTIVE:
            dropped.append(variant.product.name if variant else "An item")
            continue
        lines.append(CartLine(variant=variant, quantity=quantity))
    kept = [[line.variant.id, line.quantity] for line in lines]
    stored = session.get(SESSION_KEY)
    if not isinstance(stored, dict) or stored.get("lines") != kept:
        _save(session, kept)  # write back the cleaned cart: malformed or unsellable lines are gone for good
    return lines, dropped
