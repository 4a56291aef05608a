"""This browser's cart: the session keeps its token, the lines live on the server (checkout/carts.py).

The token is given by the first add, in its answer, with the row it makes: the product page is the same for
every visitor and starts no session (docs/performance.md, "Storefront CSRF"). Later adds change no cookie, so
a shopper who leaves before one's answer arrives still finds the item; a first add whose answer never
arrived leaves its item in a cart nobody holds. A visitor who only browses gets no cookie and no row.

A checkout key travels with the cart: every submission of the same cart finds the same order. The
session remembers the keys it issued (the cart's and those of its last few orders), and only those
are followed when a form sends one back: a key typed into a form cannot open another shopper's order.
"""

from flask import g

from checkout import carts
from checkout.models.carts import Cart
from checkout.orders.checkout_keys import new_storefront_key
from checkout.orders.errors import CartAlreadyOrdered, CartNotFound

SESSION_KEY = "cart"
PLACED_KEYS_KEPT = 5  # a second tab or the back button on one of the last few orders still finds it


def _stored(session) -> dict:
    data = session.get(SESSION_KEY)
    return data if isinstance(data, dict) else {}


def _placed_keys(session) -> list[str]:
    placed = _stored(session).get("placed")
    return [key for key in placed if isinstance(key, str)] if isinstance(placed, list) else []


def placed_checkout_keys(session) -> list[str]:
    """The checkout keys of this session's last few orders, newest first."""
    return _placed_keys(session)


def _token(session) -> str | None:
    token = _stored(session).get("token")
    return token if carts.is_cart_token(token) else None


def _start(session, token: str, placed: list[str], *, new: bool) -> None:
    """A cart for this browser: its token and the key its checkout will carry."""
    session[SESSION_KEY] = {"token": token, "key": new_storefront_key(), "placed": placed[:PLACED_KEYS_KEPT]}
    if new:
        g.cart = None  # a new token has no row yet: nothing to read
    else:
        g.pop("cart", None)


def reserve_cart(session) -> str:
    """This browser's cart token, given now if it has none (the row waits for the first add)."""
    token = _token(session)
    if token is None or not _stored(session).get("key"):
        _start(session, token or carts.new_cart_token(), _placed_keys(session), new=token is None)
        token = _token(session)
    return token


def current_cart(session) -> Cart | None:
    """This browser's cart, read once per request; None before the first add, or once it made an order."""
    if "cart" not in g:
        cart = carts.find_cart(_token(session))
        g.cart = cart if cart is not None and cart.order_id is None else None
    return g.cart


def cart_item_count(session) -> int:
    return carts.item_count(current_cart(session)) if _token(session) else 0


def _keep_changed(change: carts.CartChange | None) -> None:
    """The rest of the request (the answer, the badge) uses the cart the change left loaded: no second read."""
    if change is not None:
        g.cart = change.cart
    else:
        g.pop("cart", None)


def checkout_key(session) -> str:
    """The key of the current cart's checkout attempt, given with the cart."""
    reserve_cart(session)
    return session[SESSION_KEY]["key"]


def issued_checkout_key(session, presented: str | None) -> str:
    """The key a checkout submission stands for: `presented` if this session issued it, else the cart's own.

    A repeat of a submission (double click, refresh, a second tab) sends back a key this session
    issued, the current cart's or one of its last orders'; any other key is ignored.
    """
    current = checkout_key(session)
    if presented and (presented == current or presented in _placed_keys(session)):
        return presented
    return current


def add_to_cart(session, variant_id: int, quantity: int) -> carts.CartChange:
    """Add to this browser's cart, making it on the first add. A cart that was ordered elsewhere (the
    widget, another tab) is left to its order and a new one begins."""
    try:
        change = carts.add_item(reserve_cart(session), variant_id, quantity, start_channel="website")
    except CartAlreadyOrdered:
        _start(session, carts.new_cart_token(), _placed_keys(session), new=True)
        change = carts.add_item(reserve_cart(session), variant_id, quantity, start_channel="website")
    _keep_changed(change)
    return change


def set_quantity(session, variant_id: int, quantity: int) -> carts.CartChange | None:
    """Set a line's quantity; zero removes it. Nothing to change without a cart. The change reads every line's
    stock, for the answer that shows them."""
    token = _token(session)
    if token is None:
        return None
    try:
        change = carts.set_item_quantity(token, variant_id, quantity, read_stock=True)
    except (CartNotFound, CartAlreadyOrdered):
        g.pop("cart", None)
        return None
    _keep_changed(change)
    return change


def remove_line(session, variant_id: int) -> None:
    set_quantity(session, variant_id, 0)


def adopt_cart(session, cart: Cart) -> None:
    """Continue `cart` in this browser (a reopen link from the widget, WhatsApp or an order's page)."""
    _start(session, cart.token, _placed_keys(session), new=False)


def start_new_cart(session) -> None:
    """After an order: the next cart is a new one (made by its first add) with a new checkout key, and the
    finished key joins the last few orders' keys."""
    finished = _stored(session).get("key")
    placed = ([finished] if isinstance(finished, str) and finished else []) + _placed_keys(session)
    _start(session, carts.new_cart_token(), placed, new=True)
