"""Absolute links for messages that leave the site (WhatsApp texts, QR codes)."""

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    """PUBLIC_BASE_URL + path when configured (behind proxies, in workers), else the request's host."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
