"""A form posted from another site is refused even with a valid CSRF token; the API and webhook keep their rules."""

import re

import pytest

from checkout.extensions import db
from tests.admin_helpers import PASSWORD, make_staff
from tests.factories import make_product, make_store

EVIL = "https://evil.example"
OWNER = "owner@sunrise.example.com"


@pytest.fixture
def app(make_app):
    return make_app(WTF_CSRF_ENABLED=True, WHATSAPP_PROVIDER="sandbox", WHATSAPP_APP_SECRET="cross-site-test")


@pytest.fixture
def shop(app):
    with app.app_context():
        make_store()
        product = make_product("Cotton Kurta", stock=20, sku="KUR")
        make_staff("owner")
        values = {"slug": product.slug, "variant_id": product.variants[0].id}
        db.session.remove()
    return values


def _token(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]* value="([^"]+)"', page).group(1)


def _add_to_cart(client, shop, **headers):
    """The add as the product page sends it: no CSRF token (docs/performance.md, "Storefront CSRF")."""
    client.get(f"/p/{shop['slug']}")
    data = {"variant_id": shop["variant_id"], "quantity": 1}
    return client.post("/cart/add", data=data, headers=headers)


def _cart_is_empty(client) -> bool:
    return "Cotton Kurta" not in client.get("/cart").get_data(as_text=True)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Referer": f"{EVIL}/shop.html"},
        {"Origin": "null"},
        {"Origin": EVIL, "Referer": "http://localhost/"},
    ],
    ids=["origin", "referer-only", "null-origin", "origin-wins-over-referer"],
)
def test_a_storefront_post_from_another_site_is_refused_with_a_clear_page(app, shop, headers):
    client = app.test_client()
    response = _add_to_cart(client, shop, **headers)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Sent from another site" in page and "another website" in page
    assert _cart_is_empty(client)


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://localhost"}, {"Referer": "http://localhost/p/x"}, {}],
    ids=["own-origin", "own-referer", "no-header"],
)
def test_a_storefront_post_from_the_shop_itself_is_accepted(app, shop, headers):
    client = app.test_client()
    assert _add_to_cart(client, shop, **headers).status_code == 302
    assert not _cart_is_empty(client)


def test_a_storefront_post_that_needs_a_token_is_refused_from_another_site_even_with_its_token(app, shop):
    client = app.test_client()
    assert _add_to_cart(client, shop, Origin="http://localhost").status_code == 302
    data = {"csrf_token": _token(client, "/cart"), "variant_id": shop["variant_id"], "quantity": 0}
    assert client.post("/cart/update", data=data, headers={"Origin": EVIL}).status_code == 403
    assert not _cart_is_empty(client)
    assert client.post("/cart/update", data=data | {"csrf_token": "forged"}).status_code == 400
    assert not _cart_is_empty(client)
    assert client.post("/cart/update", data=data, headers={"Origin": "http://localhost"}).status_code == 302
    assert _cart_is_empty(client)


def test_an_admin_sign_in_and_an_admin_action_from_another_site_are_refused(app, shop):
    staff = app.test_client()
    token = _token(staff, "/admin/login")
    credentials = {"csrf_token": token, "email": OWNER, "password": PASSWORD}
    assert staff.post("/admin/login", data=credentials, headers={"Origin": EVIL}).status_code == 403
    assert staff.get("/admin/orders").status_code == 302  # still signed out
    assert staff.post("/admin/login", data=credentials, headers={"Origin": "http://localhost"}).status_code == 302
    token = _token(staff, "/admin/orders")
    refused = staff.post("/admin/logout", data={"csrf_token": token}, headers={"Origin": EVIL})
    assert refused.status_code == 403
    assert staff.get("/admin/orders").status_code == 200  # the foreign sign-out did nothing


def test_a_sandbox_post_from_another_site_is_refused(app, shop):
    staff = app.test_client()
    token = _token(staff, "/admin/login")
    staff.post("/admin/login", data={"csrf_token": token, "email": OWNER, "password": PASSWORD})
    token = _token(staff, "/sandbox")
    data = {"csrf_token": token, "name": "Asha", "phone": "+919876543210", "text": "Hello"}
    refused = staff.post("/sandbox/new", data=data, headers={"Referer": f"{EVIL}/x"})
    assert refused.status_code == 403 and "another website" in refused.get_data(as_text=True)


def test_the_store_api_and_the_signed_webhook_keep_their_own_rules(app, shop):
    client = app.test_client()
    api = client.post("/api/v1/orders", json={}, headers={"Origin": EVIL})
    assert api.status_code == 401 and api.get_json()["error"]["code"] == "unauthorized"
    webhook = client.post("/webhooks/whatsapp", data=b"{}", headers={"Origin": EVIL})
    assert "another website" not in webhook.get_data(as_text=True)
    assert webhook.status_code != 403 or webhook.is_json


def test_behind_a_trusted_proxy_the_forwarded_host_is_the_shop(make_app):
    app = make_app(WTF_CSRF_ENABLED=True, TRUSTED_PROXIES=1)
    with app.app_context():
        make_store()
        product = make_product("Cotton Kurta", stock=20, sku="KUR")
        shop = {"slug": product.slug, "variant_id": product.variants[0].id}
        db.session.remove()
    proxied = {"X-Forwarded-Host": "shop.example", "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    client = app.test_client()
    client.get(f"/p/{shop['slug']}", headers=proxied)
    # Over https Flask-WTF also wants a same-site Referer; the Origin decides here.
    proxied["Referer"] = "https://shop.example/p/x"
    assert _add_to_cart(client, shop, Origin="https://shop.example", **proxied).status_code == 302
    assert _add_to_cart(client, shop, Origin="http://localhost", **proxied).status_code == 403
