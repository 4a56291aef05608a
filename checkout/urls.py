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
