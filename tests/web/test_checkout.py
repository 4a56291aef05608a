"""Checkout through the Flask test client: the order is created once, correctly, or not at all."""

import hashlib
import html
import re
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import func, select

from checkout.api import keys
from checkout.extensions import db
from checkout.models import Order, StockReservation, Variant
from checkout.orders.checkout_keys import api_checkout_key
from checkout.orders.lifecycle import OrderStatus, transition
from checkout.whatsapp.links import MAX_QR_LINK_CHARS, qr_svg
from tests.factories import make_product, make_store

FORM = {
    "name": "Asha Kumar",
    "phone": "098765 43210",
    "fulfilment": "delivery",
    "address": "Beth House, Kasarani, House 16",
    "payment_method": "cod",
    "note": "Ring twice & leave at #16",
}


@pytest.fixture
def shop(app):
    with app.app_context():
        make_store(delivery_fee_minor=5000)
        kurta = make_product("Cotton Kurta", price_minor=79900, stock=5, options=[{"Size": "M"}, {"Size": "L"}])
        tea = make_product("Assam Tea", price_minor=24000, stock=3)
        ids = dict(kurta_m=kurta.variants[0].id, tea=tea.variants[0].id)
        db.session.remove()
    return ids


def fill_cart(client, *lines):
    for variant_id, quantity in lines:
        client.post("/cart/add", data={"variant_id": variant_id, "quantity": quantity})


def checkout_form(client, **changes):
    """The hidden fields exactly as the checkout page renders them, plus the shopper's answers."""
    page = client.get("/checkout").get_data(as_text=True)
    hidden = dict(
        re.findall(r'<input id="(checkout_key|expected_subtotal)" name="\1" type="hidden" value="([^"]*)"', page)
    )
    return {**FORM, **hidden, **changes}


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def only_order(app):
    with app.app_context():
        order = db.session.scalars(select(Order)).one()
        db.session.expunge_all()
        return order


def test_checkout_creates_a_pending_order_and_hands_off_to_whatsapp(app, client, shop):
    fill_cart(client, (shop["kurta_m"], 2), (shop["tea"], 1))
    response = client.post("/checkout", data=checkout_form(client))
    assert response.status_code == 303
    with app.app_context():
        order = db.session.scalars(select(Order)).one()
        assert order.status == "pending" and order.source == "website"
        assert order.customer_phone == "+919876543210"
        assert order.delivery_address == "Beth House, Kasarani, House 16"
        assert [
            (line.product_name, line.options_label, line.quantity, line.unit_price_minor) for line in order.lines
        ] == [
            ("Cotton Kurta", "Size M", 2, 79900),
            ("Assam Tea", "", 1, 24000),
        ]
        assert (order.subtotal_minor, order.delivery_fee_minor, order.total_minor) == (183800, 5000, 188800)
        assert sorted((r.variant_id, r.quantity) for r in order.reservations) == sorted(
            [(shop["kurta_m"], 2), (shop["tea"], 1)]
        )
        token, reference = order.status_token, order.reference
    assert response.headers["Location"].endswith(f"/o/{token}/whatsapp")

    handoff = client.get(response.headers["Location"]).get_data(as_text=True)
    link = re.search(r'id="continue-on-whatsapp" href="([^"]+)"', handoff).group(1).replace("&amp;", "&")
    parts = urlsplit(link)
    assert (parts.netloc, parts.path) == ("wa.me", "/919876543210")
    assert "+" not in parts.query
    text = unquote(parts.query.removeprefix("text="))
    assert f"*Order {reference}*" in text
    assert "2 × Cotton Kurta (Size M) — ₹1,598.00" in text
    assert "*Total: ₹1,888.00*" in text
    assert "Ring twice & leave at #16" in text
    assert f"/o/{token}" in text
    assert client.get("/cart").get_data(as_text=True).count("Your cart is empty") == 1


def test_submitting_the_same_checkout_twice_gives_one_order(app, client, shop):
    fill_cart(client, (shop["kurta_m"], 1))
    form = checkout_form(client)
    first = client.post("/checkout", data=form)
    again = client.post("/checkout", data=form)  # double click, refresh, back button or a second tab
    assert first.headers["Location"] == again.headers["Location"]
    assert count(app, Order) == 1
    assert count(app, StockReservation) == 1


def test_a_second_tab_of_an_order_already_placed_finds_that_order(app, client, shop):
    fill_cart(client, (shop["kurta_m"], 1))
    second_tab = checkout_form(client)
    first = client.post("/checkout", data=checkout_form(client))
    fill_cart(client, (shop["tea"], 1))  # a new cart has begun since
    again = client.post("/checkout", data=second_tab)
    assert again.headers["Location"] == first.headers["Location"]
    assert count(app, Order) == 1


def test_a_checkout_key_this_session_was_not_given_cannot_open_a_store_api_order(app, client, shop):
    with app.app_context():
        api_key, secret = keys.create_key("Shop backend", "secret")
        db.session.commit()
        api_key_id = api_key.id
    with app.app_context():
        sku = db.session.get(Variant, shop["tea"]).sku
    body = {
        "items": [{"sku": sku, "quantity": 1}],
        "customer": {"name": "Wanjiru Njeri", "phone": "+254712345678", "address": "Moi Avenue 4, Nairobi"},
    }
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "cart-1"}
    api_order = app.test_client().post("/api/v1/orders", json=body, headers=headers).get_json()
    with app.app_context():
        stored_key = db.session.scalar(select(Order.checkout_key).where(Order.reference == api_order["reference"]))
    guesses = [
        f"api:{api_key_id}:{hashlib.sha256(b'cart-1').hexdigest()[:40]}",  # how API keys were once built
        api_checkout_key(api_key_id, "cart-1", app.config["SECRET_KEY"]),  # even knowing the server's secret
        stored_key,  # or having read it somewhere
    ]
    assert stored_key == guesses[1] and stored_key.startswith("api:")

    fill_cart(client, (shop["kurta_m"], 1))
    for guess in guesses:
        response = client.post("/checkout", data=checkout_form(client, checkout_key=guess))
        assert response.status_code == 303
        handoff = client.get(response.headers["Location"]).get_data(as_text=True)
        assert api_order["reference"] not in handoff and "Wanjiru" not in handoff
        assert "Asha Kumar" in handoff
        fill_cart(client, (shop["kurta_m"], 1))
    with app.app_context():
        shoppers_orders = db.session.scalars(select(Order).where(Order.source == "website")).all()
        assert len(shoppers_orders) == len(guesses)
        assert all(order.checkout_key.startswith("web:") for order in shoppers_orders)


def test_a_new_cart_after_an_order_makes_a_new_order(app, client, shop):
    fill_cart(client, (shop["kurta_m"], 1))
    client.post("/checkout", data=checkout_form(client))
    fill_cart(client, (shop["tea"], 1))
    client.post("/checkout", data=checkout_form(client))
    assert count(app, Order) == 2


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("name", "", "Please tell us your name."),
        ("phone", "", "Please enter your WhatsApp number."),
        ("phone", "12345", "isn't valid"),
        ("phone", "call me maybe", "doesn't look like a phone number"),
        ("phone", "9" * 40, "too long"),
        ("phone", "1800 123 4567", "That is a toll-free number, which can't have WhatsApp."),
        ("address", "   ", "Please give the delivery address."),
        ("payment_method", "card", "Not a valid choice"),
        ("fulfilment", "teleport", "Not a valid choice"),
        ("name", "x" * 81, "Field cannot be longer than 80 characters."),
        ("note", "n" * 501, "Field cannot be longer than 500 characters."),
    ],
)
def test_bad_checkout_input_is_explained_and_nothing_is_lost(app, client, shop, field, value, message):
    fill_cart(client, (shop["kurta_m"], 1))
    response = client.post("/checkout", data=checkout_form(client, **{field: value}))
    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))
    assert count(app, Order) == 0
    assert "Cotton Kurta" in client.get("/cart").get_data(as_text=True)


def test_missing_fields_altogether_are_a_422_not_a_500(app, client, shop):
    fill_cart(client, (shop["kurta_m"], 1))
    response = client.post("/checkout", data={})
    assert response.status_code == 422
    assert count(app, Order) == 0


@pytest.mark.parametrize("left_out", ["fulfilment", "payment_method"])
def test_choices_left_out_are_asked_for_not_assumed(app, client, shop, left_out):
    fill_cart(client, (shop["kurta_m"], 1))
    form = checkout_form(client)
    del form[left_out]
    response = client.post("/checkout", data=form)
    assert response.status_code == 422
    assert count(app, Order) == 0


def test_pickup_needs_no_address_and_pays_no_delivery(app, client, shop):
    fill_cart(client, (shop["tea"], 1))
    client.post("/checkout", data=checkout_form(client, fulfilment="pickup", address=""))
    order = only_order(app)
    assert (order.fulfilment, order.delivery_fee_minor, order.total_minor) == ("pickup", 0, 24000)


def test_address_is_kept_exactly_as_typed(app, client, shop):
    typed = "Flat 3B, Sai Kripa Apts,\nNear Hanuman Mandir, Opp. Bus Stop No. 7 — Andheri (E)"
    fill_cart(client, (shop["tea"], 1))
    client.post("/checkout", data=checkout_form(client, address=typed.replace("\n", "\r\n")))
    assert only_order(app).delivery_address == typed


def test_out_of_stock_at_checkout_explains_and_keeps_the_cart(app, client, shop):
    fill_cart(client, (shop["tea"], 3))
    form = checkout_form(client)
    with app.app_context():
        db.session.get(Variant, shop["tea"]).stock_on_hand = 1
        db.session.commit()
    response = client.post("/checkout", data=form)
    assert response.status_code == 409
    assert "Assam Tea: only 1 left" in response.get_data(as_text=True)
    assert count(app, Order) == 0 and count(app, StockReservation) == 0
    assert "Assam Tea" in client.get("/cart").get_data(as_text=True)


def test_changed_price_is_shown_before_any_order_is_made(app, client, shop):
    fill_cart(client, (shop["tea"], 1))
    form = checkout_form(client)
    with app.app_context():
        db.session.get(Variant, shop["tea"]).price_minor = 26000
        db.session.commit()
    response = client.post("/checkout", data=form)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Prices have changed" in page and "₹260.00" in page
    assert count(app, Order) == 0
    # Confirming with the figures now on the page places the order at the catalog price.
    assert client.post("/checkout", data=checkout_form(client)).status_code == 303
    assert only_order(app).total_minor == 26000 + 5000


def test_client_supplied_prices_are_ignored(app, client, shop):
    fill_cart(client, (shop["tea"], 1))
    client.post("/checkout", data=checkout_form(client, price="1", total="1", unit_price_minor="1"))
    assert only_order(app).subtotal_minor == 24000


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(app, client, shop):
    assert client.get("/checkout").headers["Location"].endswith("/cart")
    response = client.post("/checkout", data=FORM)
    assert response.status_code in (302, 422)
    assert count(app, Order) == 0


def test_status_page_shows_the_order_and_a_wrong_token_reveals_nothing(app, client, shop):
    fill_cart(client, (shop["tea"], 1))
    client.post("/checkout", data=checkout_form(client))
    order = only_order(app)
    page = client.get(f"/o/{order.status_token}").get_data(as_text=True)
    assert order.reference in page and "Waiting for confirmation" in page and "Order placed" in page
    for bad in ["x", order.status_token[:-1] + ("A" if order.status_token[-1] != "A" else "B"), "a" * 300]:
        response = client.get(f"/o/{bad}")
        assert response.status_code == 404
        assert order.reference not in response.get_data(as_text=True)
    nul = client.get("/o/%00")  # refused before any lookup
    assert nul.status_code == 400 and order.reference not in nul.get_data(as_text=True)


def test_qr_short_link_redirects_to_the_same_wa_me_link(app, client, shop):
    fill_cart(client, (shop["tea"], 1))
    handoff = client.get(client.post("/checkout", data=checkout_form(client)).headers["Location"]).get_data(
        as_text=True
    )
    link = re.search(r'id="continue-on-whatsapp" href="([^"]+)"', handoff).group(1).replace("&amp;", "&")
    order = only_order(app)
    assert client.get(f"/o/{order.status_token}/wa").headers["Location"] == link


def test_the_handoff_page_links_its_qr_code_which_encodes_the_prefilled_chat(app, client, shop):
    """The QR code is drawn only when a screen that shows it asks, and it encodes the page's own link."""
    fill_cart(client, (shop["tea"], 1))
    handoff = client.get(client.post("/checkout", data=checkout_form(client)).headers["Location"]).get_data(
        as_text=True
    )
    order = only_order(app)
    assert "<svg" not in handoff
    image_path = re.search(r'<img class="qr" src="([^"]+)"', handoff).group(1)
    assert image_path == f"/o/{order.status_token}/qr.svg"
    image = client.get(image_path)
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"
    assert "private" in image.headers["Cache-Control"]
    link = re.search(r'id="continue-on-whatsapp" href="([^"]+)"', handoff).group(1).replace("&amp;", "&")
    short_link = f"http://localhost/o/{order.status_token}/wa"
    assert image.get_data(as_text=True) == qr_svg(link if len(link) <= MAX_QR_LINK_CHARS else short_link)
    other_last = "y" if order.status_token.endswith("x") else "x"  # a token that differs, whatever its last letter
    assert client.get(f"/o/{order.status_token[:-1]}{other_last}/qr.svg").status_code == 404


def test_missing_csrf_token_is_a_clear_400(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_store()
        variant_id = make_product().variants[0].id
        db.session.remove()
    client = app.test_client()
    # The add needs no token (docs/performance.md, "Storefront CSRF"); the checkout does.
    assert client.post("/cart/add", data={"variant_id": variant_id, "quantity": 1}).status_code == 302
    response = client.post("/checkout", data=FORM)
    assert response.status_code == 400
    assert "This form expired" in response.get_data(as_text=True)
    assert count(app, Order) == 0


# --- holding stock and placing orders fast ------------------------------------------------------------------------


@pytest.fixture
def big_stock(app):
    with app.app_context():
        make_store(delivery_fee_minor=0, max_pending_units_per_phone=50)
        sari = make_product("Silk Sari", price_minor=100000, stock=400).variants[0].id
        db.session.remove()
    return sari


def checkout_as_a_new_visitor(app, variant_id, quantity, address="203.0.113.7", **changes):
    """A fresh browser (its own session) from `address` puts `quantity` in its cart and checks out."""
    visitor = app.test_client()
    visitor.environ_base["REMOTE_ADDR"] = address
    fill_cart(visitor, (variant_id, quantity))
    return visitor.post("/checkout", data=checkout_form(visitor, **changes))


def held_units(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.sum(StockReservation.quantity), 0)))


def test_one_phone_cannot_hold_a_shops_stock_with_big_checkouts(app, big_stock):
    """Six 99-unit checkouts from one address and one phone once held 396 of 400 units."""
    answers = [checkout_as_a_new_visitor(app, big_stock, 49 if i == 0 else 99) for i in range(6)]

    assert answers[0].status_code == 303
    refused = answers[1]
    assert refused.status_code == 422
    page = html.unescape(refused.get_data(as_text=True))
    under_the_phone = re.search(r'<p class="field-error" id="phone-error">([^<]+)</p>', page).group(1)
    assert "This number already has 49 items in orders waiting for confirmation" in under_the_phone
    assert "at most 50 at a time" in under_the_phone
    assert held_units(app) == 49
    assert count(app, Order) == 1


def test_orders_from_one_phone_are_rate_limited_however_the_number_is_typed(app, big_stock):
    typed = ["098765 43210", "+91 98765 43210", "9876543210", "+919876543210", "98765-43210", "098765 43210"]
    answers = [
        checkout_as_a_new_visitor(app, big_stock, 1, address=f"198.51.100.{i}", phone=phone)
        for i, phone in enumerate(typed)
    ]
    assert [a.status_code for a in answers] == [303] * 5 + [429]
    page = html.unescape(answers[-1].get_data(as_text=True))
    assert "Too many orders for this number" in re.search(r'id="phone-error">([^<]+)<', page).group(1)
    assert count(app, Order) == 5
    assert checkout_as_a_new_visitor(app, big_stock, 1, phone="+254712345678").status_code == 303


def test_orders_from_one_address_are_rate_limited(app, big_stock):
    answers = [
        checkout_as_a_new_visitor(app, big_stock, 1, phone=f"+2547123456{i:02d}", address="192.0.2.9")
        for i in range(11)
    ]
    assert [a.status_code for a in answers] == [303] * 10 + [429]
    assert count(app, Order) == 10
    assert checkout_as_a_new_visitor(app, big_stock, 1, phone="+254712345699", address="192.0.2.10").status_code == 303


def test_a_repeated_submission_is_not_counted_against_the_phone(app, big_stock):
    client = app.test_client()
    fill_cart(client, (big_stock, 1))
    form = checkout_form(client)
    first = client.post("/checkout", data=form)
    repeats = [client.post("/checkout", data=form) for _ in range(6)]
    assert all(r.headers["Location"] == first.headers["Location"] for r in repeats)
    assert count(app, Order) == 1


def test_every_missing_field_is_reported_in_one_answer(app, client, shop):
    fill_cart(client, (shop["kurta_m"], 1))
    response = client.post("/checkout", data=checkout_form(client, name="", phone="", address="  "))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    for message in (
        "Please tell us your name.",
        "Please enter your WhatsApp number.",
        "Please give the delivery address.",
    ):
        assert message in page
    summary = re.search(r'<div class="error-summary"[^>]*autofocus[^>]*>(.*?)</div>', page, re.S).group(1)
    assert re.findall(r'<a href="#(\w+)">', summary) == ["name", "phone", "address"]
    assert count(app, Order) == 0


def test_checkout_fields_tell_the_browser_what_to_autofill(client, shop):
    fill_cart(client, (shop["kurta_m"], 1))
    page = client.get("/checkout").get_data(as_text=True)
    assert re.search(r'<input autocomplete="name" id="name"', page)
    phone = re.search(r'<input[^>]* id="phone"[^>]*>', page).group(0)
    assert all(attribute in phone for attribute in ('autocomplete="tel"', 'inputmode="tel"', 'type="tel"'))
    assert re.search(r'<textarea autocomplete="street-address" id="address"', page)
    assert re.search(r'<textarea autocomplete="off" id="note"', page)


def _place(client, **changes):
    response = client.post("/checkout", data=checkout_form(client, **changes))
    assert response.status_code == 303
    return response.headers["Location"]


def test_a_shopper_back_from_whatsapp_sees_their_waiting_orders_and_no_one_else_does(app, client, shop):
    fill_cart(client, (shop["kurta_m"], 1))
    _place(client)
    order = only_order(app)
    waiting = f'Your order <span class="reference">{order.reference}</span> is waiting in WhatsApp'
    with app.app_context():
        product_page = f"/p/{db.session.get(Variant, shop['kurta_m']).product.slug}"
    for path in ("/", product_page, "/cart"):
        assert waiting in client.get(path).get_data(as_text=True), path
    assert f'href="/o/{order.status_token}">view order' in client.get("/").get_data(as_text=True)
    assert waiting not in app.test_client().get("/").get_data(as_text=True)

    with app.app_context():
        transition(db.session.get(Order, order.id), OrderStatus.CONFIRMED, actor="staff")
        db.session.commit()
    assert "is waiting in WhatsApp" not in client.get("/").get_data(as_text=True)


def test_status_page_asks_about_the_order_on_whatsapp_and_leads_back_to_the_handoff(app, client, shop):
    fill_cart(client, (shop["kurta_m"], 1))
    _place(client)
    order = only_order(app)
    page = html.unescape(client.get(f"/o/{order.status_token}").get_data(as_text=True))
    question = re.search(r'<a href="(https://wa\.me/[^"]+)"[^>]*>Ask Test Shop about this order on WhatsApp', page)
    assert unquote(question.group(1)) == f"https://wa.me/919876543210?text=About my order {order.reference}"
    assert f'<a href="/o/{order.status_token}/whatsapp">Back to sending this order on WhatsApp</a>' in page


def test_a_second_tab_with_other_details_is_told_the_first_details_stand(app, client, shop):
    fill_cart(client, (shop["kurta_m"], 1))
    first_tab = checkout_form(client)
    second_tab = {**first_tab, "address": "Moi Avenue 4", "name": "Asha K."}
    handoff = client.post("/checkout", data=first_tab).headers["Location"]

    response = client.post("/checkout", data=second_tab, follow_redirects=True)
    order = only_order(app)
    assert response.request.path == handoff
    page = html.unescape(response.get_data(as_text=True))
    assert (
        f"Order {order.reference} was already placed with the details you gave first, so the new name and address "
        "were not used. To change them, send Test Shop a message on WhatsApp." in page
    )
    assert (order.customer_name, order.delivery_address) == ("Asha Kumar", FORM["address"])


def test_a_plain_repeat_of_the_same_details_says_nothing_more(app, client, shop):
    fill_cart(client, (shop["kurta_m"], 1))
    form = checkout_form(client)
    client.post("/checkout", data=form)
    page = client.post("/checkout", data=form, follow_redirects=True).get_data(as_text=True)
    assert "was already placed" not in page
    assert count(app, Order) == 1
