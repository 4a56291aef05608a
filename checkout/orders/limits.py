"""How often one client may place orders: per client address and per customer phone.

The address limit is declared on the routes that place orders (`per_address`); the phone limit is
counted where the phone has been parsed and normalised (`per_phone`), so "098765 43210" and
"+91 98765 43210" are one phone. Both buckets are shared by the storefront and the Store API, and
the limits come from ORDER_RATE_LIMIT_PER_ADDRESS and ORDER_RATE_LIMIT_PER_PHONE. Beyond a limit
Flask-Limiter raises RateLimitExceeded, a 429. The units a phone may hold in pending orders are
capped separately, inside the placing transaction (checkout/orders/placing.py).
"""

import hashlib
from collections.abc import Callable

from flask import current_app, g
from flask_limiter import RouteLimit

from checkout.extensions import limiter

ADDRESS_SCOPE = "place-order-address"
PHONE_SCOPE = "place-order-phone"
PHONE_LIMIT_MESSAGE = "Too many orders for this number in a short time. Please wait a few minutes and try again."


def _address_limit() -> str:
    return current_app.config["ORDER_RATE_LIMIT_PER_ADDRESS"]


def _phone_limit() -> str:
    return current_app.config["ORDER_RATE_LIMIT_PER_PHONE"]


def _phone_key() -> str:
    return g.order_limit_phone_key


# One limit object for every request: the phone comes from the request's `g`, so threads serving two
# checkouts at once never count each other's phone.
_PER_PHONE = limiter.shared_limit(
    _phone_limit, scope=PHONE_SCOPE, key_func=_phone_key, error_message=PHONE_LIMIT_MESSAGE
)


def per_address(exempt_when: Callable[[], bool] | None = None) -> RouteLimit:
    """Decorate a view that places orders: it counts against the client address's order limit."""
    return limiter.shared_limit(_address_limit, scope=ADDRESS_SCOPE, exempt_when=exempt_when)


def per_phone(phone: str) -> RouteLimit:
    """`with per_phone(e164):` counts one order attempt for that phone, or raises RateLimitExceeded."""
    g.order_limit_phone_key = "phone:" + hashlib.sha256(phone.encode()).hexdigest()[:32]  # no numbers in Redis
    return _PER_PHONE
