"""Refuse state-changing requests that another site's page sent, whatever CSRF token they carry.

The browser says where a request comes from in `Origin` (or, from older browsers and some forms,
only in `Referer`). A POST, PUT, PATCH or DELETE to the storefront, the admin or the sandbox must come
from this shop's own address: the request's host (behind TRUSTED_PROXIES, the host the proxy was
asked for, as ProxyFix reports it) or PUBLIC_BASE_URL. A request that names neither header (a script,
curl) is left to the CSRF token. The Store API has its own CORS rules and the WhatsApp webhook is
signed: both are exempt.
"""

from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.exceptions import Forbidden

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT_PREFIXES = ("/api/", "/webhooks/")


class CrossSiteRequest(Forbidden):
    description = (
        "This form was sent from another website, so it was refused. "
        "Open this shop's own page, reload it and try again."
    )


def register(app) -> None:
    app.before_request(refuse_cross_site_writes)


def _host_of(address: str) -> str | None:
    try:
        parts = urlsplit(address)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return parts.netloc.lower()


def own_hosts() -> set[str]:
    hosts = {request.host.lower()}
    public = current_app.config.get("PUBLIC_BASE_URL")
    if public and (public_host := _host_of(public)):
        hosts.add(public_host)
    return hosts


def sender_host() -> str | None:
    """The host of the page that sent this request, '' if the browser did not say, None if unreadable.

    `Origin: null` (a sandboxed frame, a file, a privacy redirect) is no site of ours: unreadable.
    """
    origin = request.headers.get("Origin")
    if origin is not None:
        return _host_of(origin)
    referrer = request.headers.get("Referer")
    if referrer is not None:
        return _host_of(referrer)
    return ""


def refuse_cross_site_writes() -> None:
    if request.method not in STATE_CHANGING or request.path.startswith(EXEMPT_PREFIXES):
        return
    sender = sender_host()
    if sender == "":
        return
    if sender not in own_hosts():
        raise CrossSiteRequest()
