"""The storefront's cart on the server: the session holds its token, the add needs no new cookie, checkout
and placing write to the cart, and a reopen link continues a cart in another browser."""

import re

import pytest
from sqlalchemy import func, select

from checkout import carts
from checkout.extensions import db
from checkout.models import Cart, Order, Variant
from tests.factories import make_coupon, make_product, make_store
from tests.web.test_checkout import checkout_form


@pytest.fixture
def shop(app):
    with app.app_context():
        make_store(delivery_fee_minor=5000)
        kurta = make_product("Cotton Kurta", price_minor=79900, stock=5, options=[{"Size": "M"}])
        tea = make_product("Assam Tea", price_minor=24000, stock=30)
        ids = dict(kurta=kurta.variants[0].id, kurta_slug=kurta.slug, tea=tea.variants[0].id)
        db.session.remove()
    return ids


def session_cart(client) -> dict:
    with client.session_transaction() as session:
        return dict(session.get("cart") or {})


def the_cart(app, client):
    with app.app_context():
        cart = carts.find_cart(session_cart(client).get("token"))
        if cart is not None:
            db.session.expunge(cart)
        return cart


def count_carts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Cart.id)))


def test_browsing_makes_no_cart_and_no_cookie_and_the_first_add_gives_the_cart_token(app, client, shop):
    assert "Set-Cookie" not in client.get("/").headers
    assert "Set-Cookie" not in client.get(f"/p/{shop['kurta_slug']}").headers
    assert count_carts(app) == 0 and session_cart(client) == {}
    added = client.post("/cart/add", data={"variant_id": shop["kurta"], "quantity": 1}, headers={"HX-Request": "true"})
    before = session_cart(client)
    assert added.status_code == 200 and count_carts(app) == 1 and the_cart(app, client).token == before["token"]
    again = client.post("/cart/add", data={"variant_id": shop["kurta"], "quantity": 1}, headers={"HX-Request": "true"})
    # A later add's answer changes nothing in the session: a shopper whose browser never gets it (they left at
    # once) still holds the token of the cart that has the item.
    assert again.status_code == 200 and session_cart(client) == before
    assert "Cotton Kurta" in app.test_client().get("/").get_data(as_text=True)  # the catalog, not a cart
    assert "Cotton Kurta" in client.get("/cart").get_data(as_text=True)


def test_the_session_keeps_only_the_cart_token_and_its_checkout_keys(client, shop):
    client.post("/cart/add", data={"variant_id": shop["tea"], "quantity": 2})
    assert set(session_cart(client)) == {"token", "key", "placed"}
    assert "lines" not in session_cart(client)


def test_adding_more_than_the_stock_fills_the_line_to_what_is_left_and_says_so(client, shop):
    response = client.post(
        "/cart/add", data={"variant_id": shop["kurta"], "quantity": 7}, headers={"HX-Request": "true"}
    )
    assert "Only 5 of Cotton Kurta (Size M) left: your cart has 5." in response.get_data(as_text=True)
    sold_out = client.post(
        "/cart/add", data={"variant_id": shop["kurta"], "quantity": 1}, headers={"HX-Request": "true"}
    )
    assert sold_out.status_code == 422 and "only 5 left" in sold_out.get_data(as_text=True)


def csrf_of_cart_page(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/cart").get_data(as_text=True)).group(1)


def test_a_stepper_answers_with_its_line_and_the_totals_badge_and_messages_out_of_band(app, client, shop):
    client.post("/cart/add", data={"variant_id": shop["kurta"], "quantity": 1}, headers={"HX-Request": "true"})
    client.post("/cart/add", data={"variant_id": shop["tea"], "quantity": 1}, headers={"HX-Request": "true"})
    fields = {"csrf_token": csrf_of_cart_page(client), "variant_id": shop["tea"], "quantity": 3}
    answer = client.post("/cart/update", data=fields, headers={"HX-Request": "true"})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "HX-Retarget" not in answer.headers
    line = body[body.index(f'<li class="cart-line with-stepper" id="cart-line-{shop["tea"]}"') : body.index("</li>")]
    assert 'value="3"' in line and "₹720.00" in line  # the line's quantity and total, 3 × ₹240
    assert "Cotton Kurta" not in body  # the other line is left as it is on the page
    assert re.search(r'id="cart-badge"[^>]*hx-swap-oob="true"[^>]*>4</span>', body)
    assert re.search(r'<dl class="totals" id="cart-totals" hx-swap-oob="true">', body)
    assert "₹1,519.00" in body  # subtotal ₹799 + ₹720
    assert "₹1,569.00" in body  # with ₹50 delivery, in the totals and the checkout bar
    assert '<div id="cart-messages" hx-swap-oob="true">' in body
    fewer = client.post("/cart/update", data=fields | {"quantity": 2}, headers={"HX-Request": "true"})
    assert 'value="2" inputmode="numeric"' in fewer.get_data(as_text=True) and "₹480.00" in fewer.get_data(as_text=True)
    assert [line.quantity for line in the_cart(app, client).lines] == [1, 2]


def test_a_stepper_asking_for_more_than_is_left_gets_what_is_left_and_is_told(client, shop):
    client.post("/cart/add", data={"variant_id": shop["kurta"], "quantity": 1}, headers={"HX-Request": "true"})
    fields = {"csrf_token": csrf_of_cart_page(client), "variant_id": shop["kurta"], "quantity": 7}
    body = client.post("/cart/update", data=fields, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Only 5 of Cotton Kurta (Size M) left: your cart has 5." in body
    assert 'value="5"' in body and "₹3,995.00" in body
    assert re.search(r'aria-label="One more Cotton Kurta \(Size M\)"\s*disabled', body)


def test_a_stepper_answers_with_the_whole_cart_when_another_line_changed_since_it_was_shown(app, client, shop):
    client.post("/cart/add", data={"variant_id": shop["kurta"], "quantity": 1}, headers={"HX-Request": "true"})
    client.post("/cart/add", data={"variant_id": shop["tea"], "quantity": 1}, headers={"HX-Request": "true"})
    csrf = csrf_of_cart_page(client)
    with app.app_context():
        db.session.get(Variant, shop["kurta"]).price_minor = 89900
        db.session.commit()
    fields = {"csrf_token": csrf, "variant_id": shop["tea"], "quantity": 2}
    answer = client.post("/cart/update", data=fields, headers={"HX-Request": "true"})
    body = answer.get_data(as_text=True)
    assert answer.headers["HX-Retarget"] == "#cart" and answer.headers["HX-Reswap"] == "outerHTML"
    assert '<section id="cart"' in body and "₹899.00 each" in body
    assert "The price of Cotton Kurta (Size M) changed from ₹799.00 to ₹899.00 since you added it." in body


def test_a_price_change_is_explained_once_on_the_cart_page(app, client, shop):
    client.post("/cart/add", data={"variant_id": shop["tea"], "quantity": 1})
    with app.app_context():
        db.session.get(Variant, shop["tea"]).price_minor = 26000
        db.session.commit()
    page = client.get("/cart").get_data(as_text=True)
    assert "The price of Assam Tea changed from ₹240.00 to ₹260.00 since you added it." in page
    assert "₹260.00" in page
    assert "changed from" not in client.get("/cart").get_data(as_text=True)


def test_checkout_writes_its_start_and_the_typed_details_on_the_cart_and_placing_links_it(app, client, shop):
    client.post("/cart/add", data={"variant_id": shop["tea"], "quantity": 1})
    assert the_cart(app, client).checkout_started_at is None
    form = checkout_form(client)
    assert the_cart(app, client).checkout_started_at is not None
    refused = client.post("/checkout", data={**form, "address": ""})
    assert refused.status_code == 422
    cart = the_cart(app, client)
    assert (cart.customer_name, cart.phone, cart.order_id) == ("Asha Kumar", "+919876543210", None)

    placed = client.post("/checkout", data=form)
    assert placed.status_code == 303
    with app.app_context():
        order = db.session.scalars(select(Order)).one()
        assert db.session.get(Cart, cart.id).order_id == order.id
    # The browser has a new cart (no row until its first add), and the repeat still finds the order.
    assert session_cart(client)["token"] != cart.token and the_cart(app, client) is None
    assert "Your cart is empty" in client.get("/cart").get_data(as_text=True)
    assert client.post("/checkout", data=form).headers["Location"] == placed.headers["Location"]
    assert count_carts(app) == 1


def test_a_reopen_link_continues_a_cart_in_another_browser(app, client, shop):
    client.post("/cart/add", data={"variant_id": shop["tea"], "quantity": 3})
    token = session_cart(client)["token"]
    other = app.test_client()
    opened = other.get(f"/cart/open/{token}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/cart")
    page = other.get("/cart").get_data(as_text=True)
    assert "Assam Tea" in page and 'aria-label="3 items in cart"' in page
    other.post("/cart/update", data={"variant_id": shop["tea"], "quantity": 4})
    assert 'aria-label="4 items in cart"' in client.get("/cart").get_data(as_text=True)  # one cart, two browsers


@pytest.mark.parametrize("token", ["no-such-cart", "x" * 80, "a.b"])
def test_an_unknown_or_expired_cart_link_gets_a_clear_page(client, shop, token):
    response = client.get(f"/cart/open/{token}")
    assert response.status_code == 404
    assert "This cart is no longer here" in response.get_data(as_text=True)


def test_the_status_page_reopens_the_orders_cart_as_a_new_cart(app, client, shop):
    client.post("/cart/add", data={"variant_id": shop["tea"], "quantity": 2})
    ordered_token = session_cart(client)["token"]
    handoff = client.post("/checkout", data=checkout_form(client)).headers["Location"]
    status_path = handoff.removesuffix("/whatsapp")
    page = client.get(status_path).get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)">Open this cart again</a>', page).group(1)
    assert link == f"/cart/open/{ordered_token}"

    client.get(link)
    assert session_cart(client)["token"] != ordered_token  # a copy: the ordered cart keeps its order
    assert 'aria-label="2 items in cart"' in client.get("/cart").get_data(as_text=True)
    with app.app_context():
        db.session.execute(Cart.__table__.delete())
        db.session.commit()
    assert "Open this cart again" not in client.get(status_path).get_data(as_text=True)


def test_a_discount_code_kept_on_the_cart_prices_the_cart_and_goes_on_to_checkout_and_the_order(app, client, shop):
    with app.app_context():
        make_coupon("TEA10", kind="percent", value=10)
        db.session.remove()
    client.post("/cart/add", data={"variant_id": shop["tea"], "quantity": 2})  # 2 × ₹240

    refused = client.post("/cart/code", data={"coupon_code": "nope"}, headers={"HX-Request": "true"})
    assert refused.status_code == 422
    assert "There is no discount code &#39;NOPE&#39;" in refused.get_data(as_text=True)
    assert the_cart(app, client).coupon_code == ""

    client.post("/cart/code", data={"coupon_code": " tea10 "})
    assert the_cart(app, client).coupon_code == "TEA10"
    page = client.get("/cart").get_data(as_text=True)
    assert "Code TEA10 applied: you save ₹48.00." in page
    assert re.search(r"Discount \(TEA10\)</dt><dd class=\"discount\">−₹48.00", page)
    assert re.search(r'class="total-row total">₹482.00<', page)  # 480 − 48 + 50 delivery

    checkout_page = client.get("/checkout").get_data(as_text=True)
    assert re.search(r'name="coupon_code"[^>]*value="TEA10"', checkout_page)  # the checkout starts with the cart's code
    assert client.post("/checkout", data=checkout_form(client, coupon_code="TEA10")).status_code == 303
    with app.app_context():
        order = db.session.scalars(select(Order)).one()
        assert (order.coupon_code, order.discount_minor, order.total_minor) == ("TEA10", 4800, 48200)


def test_removing_the_code_prices_the_cart_without_it(app, client, shop):
    with app.app_context():
        make_coupon("TEA10", kind="percent", value=10)
        db.session.remove()
    client.post("/cart/add", data={"variant_id": shop["tea"], "quantity": 1})
    client.post("/cart/code", data={"coupon_code": "TEA10"})
    client.post("/cart/code", data={"coupon_code": ""})
    assert the_cart(app, client).coupon_code == ""
    page = client.get("/cart").get_data(as_text=True)
    assert "Discount code removed." in page and "Discount (" not in page
