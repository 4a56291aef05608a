"""Checkout keys: how a repeated submission finds the order it already made, and only that one.

Each source of orders has its own namespace (a prefix), so a key of one source can never name another's order:

web:  the storefront; 128 random bits, issued into the shopper's session with the cart. The storefront
      follows a key a form sends only if the session says it issued it (storefront/cart.py).
api:  the Store API; an HMAC of the API key's id and the client's Idempotency-Key under the app's secret,
      so nobody can work out another client's key from a small key id and a guessable Idempotency-Key.

Keys fit the 64-character column.
"""

import hashlib
import hmac
import secrets

STOREFRONT_PREFIX = "web:"
API_PREFIX = "api:"
API_DIGEST_CHARS = 56  # 224 bits


def new_storefront_key() -> str:
    return STOREFRONT_PREFIX + secrets.token_urlsafe(16)


def api_checkout_key(api_key_id: int, idempotency_key: str, secret: str | bytes) -> str:
    """The checkout key of a Store API order sent with `idempotency_key` by API key `api_key_id`."""
    secret_bytes = secret.encode() if isinstance(secret, str) else secret
    message = f"{api_key_id}\n{idempotency_key}".encode()
    return API_PREFIX + hmac.new(secret_bytes, message, hashlib.sha256).hexdigest()[:API_DIGEST_CHARS]
