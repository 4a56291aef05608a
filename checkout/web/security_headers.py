"""Security headers on every response, set in one place: what a page may run, who may frame it, what
it tells other sites and what a browser may keep.

Pages run only our own script files (no inline script, no `eval`: htmx is told so in the pages'
`htmx-config`) and our own style sheets. The widget script is a file other sites load; the policy
here governs only our own responses, never the shop's pages that host the widget.
"""

from flask import Flask, Response, request

# Our HTML: scripts and styles only from files we serve; images may be a product photo on another host.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors {ancestors}"
)
# JSON, SVG, CSV and other files opened on their own: nothing in them may run or load anything.
FILE_POLICY = "default-src 'none'; frame-ancestors 'none'"

# The widget preview is the one page the admin shows in its own frame.
FRAMED_BY_OUR_PAGES = frozenset({"admin.website_preview"})

HSTS = "max-age=31536000"


def register(app: Flask) -> None:
    app.after_request(add_security_headers)


def _under(prefix: str) -> bool:
    return request.path == prefix or request.path.startswith(prefix + "/")


def is_private_page() -> bool:
    """Staff screens and the customer's token pages (status, WhatsApp handoff, QR): never cached or framed."""
    return _under("/admin") or _under("/sandbox") or request.path.startswith("/o/")


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        ancestors = "'self'" if request.endpoint in FRAMED_BY_OUR_PAGES else "'none'"
        headers["Content-Security-Policy"] = PAGE_POLICY.format(ancestors=ancestors)
    else:
        headers["Content-Security-Policy"] = FILE_POLICY
    # A status-page address carries the order's token: a carrier's tracking site must not learn it.
    # (`same-origin`, not `no-referrer`: with the latter a form posted from the page says `Origin: null`.)
    token_page = request.path.startswith("/o/")
    headers["Referrer-Policy"] = "same-origin" if token_page else "strict-origin-when-cross-origin"
    # A view that chose its own caching (product photos, the QR image) keeps it; other private pages
    # must not stay in a shared computer's cache or a proxy.
    if is_private_page() and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    if request.is_secure:
        headers["Strict-Transport-Security"] = HSTS
    return response
