"""Security headers on every kind of page: what may run, who may frame it, what leaks, what is kept."""

import pytest

from checkout.extensions import db
from tests.admin_helpers import make_staff, sign_in
from tests.factories import make_order, make_product, make_store

SCRIPT_ONLY_OURS = "script-src 'self'"


@pytest.fixture
def app(make_app):
    return make_app(WHATSAPP_PROVIDER="sandbox", WHATSAPP_APP_SECRET="headers-test")


@pytest.fixture
def pages(app):
    """The address of every kind of page: (name, url, private?) where private pages carry a token or staff data."""
    with app.app_context():
        make_store()
        product = make_product("Cotton Kurta", stock=20, sku="KUR")
        order = make_order([(product.variants[0], 1)])
        make_staff("owner")
        slug, product_id, variant_id, token = product.slug, product.id, product.variants[0].id, order.status_token
        reference = order.reference
        db.session.remove()
    return {
        "variant_id": variant_id,
        "public": [
            ("catalog", "/"),
            ("product", f"/p/{slug}"),
            ("cart", "/cart"),
            ("checkout", "/checkout"),
            ("api docs", "/api/v1/docs"),
        ],
        "token": [
            ("status", f"/o/{token}"),
            ("handoff", f"/o/{token}/whatsapp"),
        ],
        "admin": [
            ("orders", "/admin/orders"),
            ("order", f"/admin/orders/{reference}"),
            ("product", f"/admin/products/{product_id}"),
            ("settings", "/admin/settings"),
            ("website", "/admin/website"),
            ("sandbox chats", "/sandbox"),
            ("sandbox chat", "/sandbox/chat/919876543210"),
        ],
        "files": [
            ("API JSON", f"/api/v1/status/{token}"),
            ("static script", "/static/js/admin.js"),
            ("widget script", "/static/widget/chatout.js"),
            ("QR image", f"/o/{token}/qr.svg"),
        ],
    }


def _signed_in_shopper_and_owner(app, pages):
    shopper = app.test_client()
    shopper.post("/cart/add", data={"variant_id": pages["variant_id"], "quantity": 1})
    owner = app.test_client()
    sign_in(owner, "owner@sunrise.example.com")
    return shopper, owner


def _csp(response) -> dict[str, str]:
    directives = [d.strip() for d in response.headers["Content-Security-Policy"].split(";") if d.strip()]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else "" for d in directives}


def test_every_kind_of_page_sends_the_security_headers(app, pages):
    shopper, owner = _signed_in_shopper_and_owner(app, pages)
    html = [(shopper, name, url, False) for name, url in pages["public"]]
    html += [(shopper, name, url, True) for name, url in pages["token"]]
    html += [(owner, name, url, True) for name, url in pages["admin"]]
    html.append((app.test_client(), "sign-in page", "/admin/login", True))
    for client, name, url, private in html:
        response = client.get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        assert response.mimetype == "text/html", name
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        policy = _csp(response)
        assert policy["script-src"] == "'self'", (name, policy)  # no inline script, no eval
        assert policy["style-src"] == "'self'", (name, policy)
        assert policy["object-src"] == "'none'" and policy["base-uri"] == "'self'", name
        assert policy["frame-ancestors"] == "'none'", name
        assert "Strict-Transport-Security" not in response.headers, name  # plain http: no HSTS
        if private:
            assert response.headers["Cache-Control"] == "no-store", name
        else:
            assert "no-store" not in response.headers.get("Cache-Control", ""), name
        token_page = url.startswith("/o/")
        expected_referrer = "same-origin" if token_page else "strict-origin-when-cross-origin"
        assert response.headers["Referrer-Policy"] == expected_referrer, name

    for name, url in pages["files"]:
        response = shopper.get(url)
        assert response.status_code == 200, (name, url)
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert _csp(response)["default-src"] == "'none'", name  # a file opened on its own runs nothing
    # The QR image decides its own (private) caching; it still leaks no token through a referrer.
    qr = shopper.get(pages["files"][-1][1])
    assert "private" in qr.headers["Cache-Control"] and qr.headers["Referrer-Policy"] == "same-origin"


def test_the_widget_preview_may_be_framed_by_the_admin_only(app, pages):
    _, owner = _signed_in_shopper_and_owner(app, pages)
    response = owner.get("/admin/website/preview")
    assert response.status_code == 200
    assert _csp(response)["frame-ancestors"] == "'self'"
    assert _csp(response)["script-src"] == "'self'"


def test_pages_carry_no_inline_script_style_or_handler(app, pages):
    """What the policy forbids must not be in the pages either, or the browser would refuse it."""
    shopper, owner = _signed_in_shopper_and_owner(app, pages)
    visits = [(shopper, url) for _, url in pages["public"] + pages["token"]]
    visits += [(owner, url) for _, url in pages["admin"]] + [(owner, "/admin/website/preview")]
    visits.append((app.test_client(), "/admin/login"))
    for client, url in visits:
        body = client.get(url).get_data(as_text=True)
        for forbidden in ("<script>", "<style", " style=", "hx-on", " onclick=", " onchange=", " onsubmit="):
            assert forbidden not in body, (url, forbidden)
        for tag in body.split("<script")[1:]:
            assert " src=" in tag.split(">", 1)[0], (url, tag[:80])
        if "htmx" in body:
            assert '"allowEval":false' in body and '"includeIndicatorStyles":false' in body, url


def test_https_requests_get_strict_transport_security(app, pages):
    shopper = app.test_client()
    response = shopper.get("/", base_url="https://shop.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in shopper.get("/").headers
