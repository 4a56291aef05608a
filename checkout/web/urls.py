"""Absolute links for messages that leave the site (WhatsApp texts, QR codes)."""

from flask import current_app, has_request_context, request, url_for

# Where links point when there is neither PUBLIC_BASE_URL nor a request to learn the host from
# (a worker on a development machine).
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"


def external_url(endpoint: str, **values) -> str:
    """PUBLIC_BASE_URL + path when configured (behind proxies, in workers), else the request's host."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base + _path(endpoint, **values)
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    return DEVELOPMENT_BASE_URL + _path(endpoint, **values)


def status_url(order) -> str:
    """The order's public status page as a full address: what messages, summaries and webhooks link to."""
    return external_url("storefront.order_status", token=order.status_token)


CART_ENDPOINT = "storefront.open_cart"


def cart_url(cart) -> str:
    """The link that reopens a cart on the shop's site (`/cart/open/<token>`), from a message or another channel."""
    if CART_ENDPOINT in current_app.view_functions:
        return external_url(CART_ENDPOINT, token=cart.token)
    return absolute_url(f"/cart/open/{cart.token}")  # the same address, before the storefront has the route


def absolute_url(path: str) -> str:
    """A site-relative path ("/static/…") as a full address; full addresses pass through."""
    if not path.startswith("/"):
        return path
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        base = request.host_url.rstrip("/") if has_request_context() else DEVELOPMENT_BASE_URL
    return base + path


def _path(endpoint: str, **values) -> str:
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return url_for(endpoint, **values)
