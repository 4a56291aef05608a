"""The Store API's carts: the widget's cart kept on the server, priced with notes, placed once."""

import pytest
from sqlalchemy import func, select

from checkout import carts
from checkout.api import keys
from checkout.extensions import db
from checkout.models import Cart, Order, Variant
from tests.factories import make_product, make_store

SHOP_SITE = "https://myshop.example"
CUSTOMER = {"name": "Asha Kumar", "phone": "098765 43210", "address": "Beth House, Kasarani"}


@pytest.fixture
def api(app):
    with app.app_context():
        make_store(allowed_origins=[SHOP_SITE], delivery_fee_minor=5000, free_delivery_threshold_minor=None)
        make_product("Cotton Kurta", price_minor=79900, stock=5, options=[{"Size": "M"}, {"Size": "L"}], sku="KUR")
        make_product("Assam Tea", price_minor=24000, stock=10, sku="TEA")
        _, widget = keys.create_key("Widget", "widget")
        _, secret = keys.create_key("Backend", "secret")
        db.session.commit()
    client = app.test_client()

    def call(method, path, key="widget", **kwargs):
        headers = {"X-Chatout-Widget-Key": widget, "Origin": SHOP_SITE} if key == "widget" else {}
        if key == "secret":
            headers = {"Authorization": f"Bearer {secret}"}
        headers.update(kwargs.pop("headers", {}))
        return client.open("/api/v1" + path, method=method, headers=headers, **kwargs)

    return call


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)))


def test_a_widget_cart_is_started_changed_and_priced_on_the_server(app, api):
    started = api("POST", "/carts", json={"items": [{"sku": "KUR-0", "quantity": 2}]})
    assert started.status_code == 201 and started.headers["Access-Control-Allow-Origin"] == SHOP_SITE
    cart = started.get_json()
    token = cart["token"]
    assert cart["channel"] == "widget" and cart["ordered"] is False
    assert cart["open_url"] == f"http://localhost/cart/open/{token}"
    assert [(line["sku"], line["quantity"], line["available"]) for line in cart["lines"]] == [("KUR-0", 2, 5)]

    added = api("POST", f"/carts/{token}/lines", json={"sku": "TEA", "quantity": 3}).get_json()
    assert [(line["sku"], line["quantity"]) for line in added["lines"]] == [("KUR-0", 2), ("TEA-0", 3)]
    assert (added["subtotal_minor"], added["delivery_fee_minor"], added["total_minor"]) == (231800, 5000, 236800)
    assert added["total_display"] == "₹2,368.00" and added["item_count"] == 5

    with app.app_context():
        kurta_id = db.session.scalar(select(Variant.product_id).where(Variant.sku == "KUR-0"))
    more = api("POST", f"/carts/{token}/lines", json={"product_id": kurta_id, "options": {"Size": "M"}, "quantity": 9})
    assert more.status_code == 200
    assert [line["quantity"] for line in more.get_json()["lines"]] == [5, 3]  # the shop has 5
    assert more.get_json()["notes"] == [
        {"sku": "KUR-0", "kind": "limited", "message": "Only 5 of Cotton Kurta (Size M) left: your cart has 5."}
    ]
    lowered = api("PUT", f"/carts/{token}/lines/KUR-0", json={"quantity": 1}).get_json()
    assert [line["quantity"] for line in lowered["lines"]] == [1, 3]
    removed = api("DELETE", f"/carts/{token}/lines/TEA-0").get_json()
    assert [line["sku"] for line in removed["lines"]] == ["KUR-0"]
    pickup = api("GET", f"/carts/{token}?delivery=pickup").get_json()
    assert pickup["delivery_fee_minor"] == 0 and pickup["total_minor"] == 79900


def test_a_price_change_and_an_archived_product_are_explained_not_silent(app, api):
    token = api("POST", "/carts", json={"items": [{"sku": "KUR-0"}, {"sku": "TEA"}]}).get_json()["token"]
    with app.app_context():
        db.session.scalar(select(Variant).where(Variant.sku == "TEA-0")).price_minor = 26000
        db.session.scalar(select(Variant).where(Variant.sku == "KUR-0")).product.status = "archived"
        db.session.commit()
    cart = api("GET", f"/carts/{token}").get_json()
    assert [line["sku"] for line in cart["lines"]] == ["TEA-0"] and cart["subtotal_minor"] == 26000
    assert [(note["sku"], note["kind"]) for note in cart["notes"]] == [
        ("KUR-0", "unavailable"),
        ("TEA-0", "price_changed"),
    ]
    assert "changed from ₹240.00 to ₹260.00" in cart["notes"][1]["message"]


def test_placing_a_cart_makes_one_order_and_the_cart_is_done(app, api):
    token = api("POST", "/carts", json={"items": [{"sku": "TEA", "quantity": 2}]}).get_json()["token"]
    body = {"customer": CUSTOMER, "delivery": "delivery"}
    first = api("POST", f"/carts/{token}/order", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    order = first.get_json()
    assert order["source"] == "website" and [(line["sku"], line["quantity"]) for line in order["lines"]] == [
        ("TEA-0", 2)
    ]
    assert order["whatsapp"]["app_url"].startswith("https://wa.me/")
    again = api("POST", f"/carts/{token}/order", json=body, headers={"Idempotency-Key": "k-1"})
    assert again.get_json() == order and again.headers["Idempotent-Replayed"] == "true"
    other_key = api("POST", f"/carts/{token}/order", json=body, headers={"Idempotency-Key": "k-2"})
    assert other_key.status_code == 409 and other_key.get_json()["error"]["code"] == "cart_already_ordered"
    assert count(app, Order) == 1

    done = api("GET", f"/carts/{token}").get_json()
    assert done["ordered"] is True and "reference" not in str(done)  # the cart never leads to the order's details
    changed = api("POST", f"/carts/{token}/lines", json={"sku": "TEA"})
    assert changed.status_code == 409 and changed.get_json()["error"]["code"] == "cart_already_ordered"
    with app.app_context():
        cart = carts.find_cart(token)
        assert (cart.phone, cart.customer_name) == ("+919876543210", "Asha Kumar")
        assert cart.order_id == db.session.scalar(select(Order.id))


def test_placing_explains_bad_details_and_stock_and_keeps_the_cart(app, api):
    token = api("POST", "/carts", json={"items": [{"sku": "KUR-1", "quantity": 5}]}).get_json()["token"]
    bad = api("POST", f"/carts/{token}/order", json={"customer": {"name": "A", "phone": "1"}})
    assert bad.status_code == 422 and {"customer.phone", "customer.address"} <= set(bad.get_json()["error"]["fields"])
    with app.app_context():
        db.session.scalar(select(Variant).where(Variant.sku == "KUR-1")).stock_on_hand = 2
        db.session.commit()
    short = api("POST", f"/carts/{token}/order", json={"customer": CUSTOMER})
    assert short.status_code == 409 and short.get_json()["error"]["fields"] == {"KUR-1": "Only 2 available."}
    api("PUT", f"/carts/{token}/lines/KUR-1", json={"quantity": 2})
    assert api("POST", f"/carts/{token}/order", json={"customer": CUSTOMER}).status_code == 201
    assert count(app, Order) == 1


def test_unknown_carts_lines_and_bad_input_are_clear_errors(app, api):
    token = api("POST", "/carts").get_json()["token"]
    assert api("GET", f"/carts/{token}").get_json()["lines"] == []
    for method, path, body in [
        ("GET", "/carts/no-such-cart", None),
        ("POST", "/carts/no-such-cart/lines", {"sku": "TEA"}),
        ("PUT", f"/carts/{token}/lines/TEA-0", {"quantity": 1}),  # not in this cart
        ("DELETE", f"/carts/{token}/lines/NOPE", None),
        ("POST", "/carts/no-such-cart/order", {"customer": CUSTOMER}),
    ]:
        response = api(method, path, json=body)
        assert response.status_code == 404, (method, path)
        assert response.get_json()["error"]["code"] in ("cart_not_found", "not_found")
    assert api("POST", f"/carts/{token}/lines", json={"sku": "NOPE"}).status_code == 422
    assert api("POST", f"/carts/{token}/lines", json={"sku": "TEA", "quantity": 0}).status_code == 422
    assert api("POST", f"/carts/{token}/lines", data="nope", content_type="application/json").status_code == 400
    assert api("PUT", f"/carts/{token}/lines/TEA-0", json={"quantity": "2"}).status_code == 422
    assert api("GET", f"/carts/{token}?delivery=teleport").status_code == 422
    assert api("POST", "/carts", json={"items": "TEA"}).status_code == 422
    assert count(app, Cart) == 1


def test_carts_need_a_key_and_the_widget_key_an_allowed_site(app, api):
    assert api("POST", "/carts", key=None).status_code == 401
    assert api("POST", "/carts", headers={"Origin": "https://evil.example"}).status_code == 403
    assert api("POST", "/carts", key="secret").get_json()["channel"] == "api"
    preflight = api(
        "OPTIONS",
        "/carts/x/lines/TEA-0",
        key=None,
        headers={"Origin": SHOP_SITE, "Access-Control-Request-Method": "DELETE"},
    )
    assert "DELETE" in preflight.headers["Access-Control-Allow-Methods"]


def test_items_that_cannot_be_added_when_starting_a_cart_are_notes_not_failures(app, api):
    with app.app_context():
        db.session.scalar(select(Variant).where(Variant.sku == "KUR-1")).stock_on_hand = 0
        db.session.commit()
    started = api("POST", "/carts", json={"items": [{"sku": "KUR-1"}, {"sku": "TEA", "quantity": 2}]})
    assert started.status_code == 201
    cart = started.get_json()
    assert [line["sku"] for line in cart["lines"]] == ["TEA-0"]
    assert cart["notes"] == [
        {"sku": "KUR-1", "kind": "limited", "message": "Not enough stock — Cotton Kurta (Size L): sold out."}
    ]
