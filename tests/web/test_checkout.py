"""Checkout through the Flask test client: the order is created once, correctly, or not at all."""

import html
import re
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import func, select

from checkout.extensions import db
from checkout.models import Order, StockReservation, Variant
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
    assert client.get(f"/o/{order.status_token[:-1]}x/qr.svg").status_code == 404


def test_missing_csrf_token_is_a_clear_400(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_store()
        variant_id = make_product().variants[0].id
        db.session.remove()
    client = app.test_client()
    response = client.post("/cart/add", data={"variant_id": variant_id, "quantity": 1})
    assert response.status_code == 400
    assert "This form expired" in response.get_data(as_text=True)
    assert client.post("/checkout", data=FORM).status_code == 400
    assert count(app, Order) == 0
