"""The sandbox simulator beyond text and buttons: list rows by section, carts from the catalog, locations and
pictures, each sent as the customer through the signed webhook and shown as the phone shows it."""

import io

import pytest
from sqlalchemy import select

from checkout import outbox
from checkout.extensions import db
from checkout.models import MediaFile, Message, Variant
from checkout.whatsapp import interactive, media
from checkout.whatsapp.interactive import ListRow
from checkout.whatsapp.limits import check_payload
from checkout.whatsapp.messages import OutboundMessage
from tests.admin_helpers import make_staff, sign_in
from tests.factories import make_product, make_store
from tests.messaging.test_media import PIXEL_PNG

PHONE, DIGITS = "+919876543210", "919876543210"
CHAT = f"/sandbox/chat/{DIGITS}"


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(WHATSAPP_PROVIDER="sandbox", WHATSAPP_APP_SECRET="sandbox-secret", MEDIA_FOLDER=str(tmp_path))


@pytest.fixture
def client(app):
    with app.app_context():
        make_store(name="Test Shop")
        make_product("Masala Chai", price_minor=12050, sku="CHAI")
        make_product("Ginger Biscuits", price_minor=9000, sku="BISC", options=[{"Pack": "Small"}, {"Pack": "Large"}])
        make_staff("owner")
        db.session.remove()
    client = app.test_client()
    sign_in(client, "owner@sunrise.example.com")
    return client


def queue(app, message: OutboundMessage, key: str) -> int:
    with app.app_context():
        row = outbox.enqueue_whatsapp(message, phone=PHONE, key=key)
        db.session.commit()
        return row.id


def inbound(app) -> list[Message]:
    with app.app_context():
        rows = list(db.session.scalars(select(Message).where(Message.direction == "in").order_by(Message.id)))
        db.session.expunge_all()
        return rows


def two_section_list() -> OutboundMessage:
    payload = {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "header": {"type": "text", "text": "Our teas"},
            "body": {"text": "What would you like?"},
            "footer": {"text": "Prices include tax"},
            "action": {
                "button": "See the menu",
                "sections": [
                    {"title": "Hot", "rows": [{"id": "product:1", "title": "Masala Chai", "description": "₹120.50"}]},
                    {"title": "Snacks", "rows": [{"id": "product:2", "title": "Ginger Biscuits"}]},
                ],
            },
        },
    }
    check_payload(payload)
    return OutboundMessage("chat_order", payload, "What would you like?")


def test_a_list_shows_its_sections_and_a_tapped_row_arrives_as_a_list_reply(app, client):
    message_id = queue(app, two_section_list(), "list-1")
    page = client.get(CHAT).get_data(as_text=True)
    assert "Our teas" in page and "Prices include tax" in page and "<summary>See the menu</summary>" in page
    assert 'aria-label="Hot"' in page and 'aria-label="Snacks"' in page

    response = client.post(f"{CHAT}/tap", data={"message": message_id, "option": 1})

    assert response.status_code == 303
    [reply] = inbound(app)
    assert reply.payload["interactive"] == {
        "type": "list_reply",
        "list_reply": {"id": "product:2", "title": "Ginger Biscuits"},
    }
    assert reply.body_text == "Ginger Biscuits" and reply.context_wamid


def test_reply_buttons_are_tapped_as_button_replies(app, client):
    buttons = interactive.reply_buttons("chat_order", "Next?", [("add_more", "Add more"), ("checkout", "Checkout")])
    message_id = queue(app, buttons, "buttons-1")
    client.get(CHAT)
    client.post(f"{CHAT}/tap", data={"message": message_id, "option": 1})
    [reply] = inbound(app)
    assert reply.payload["interactive"]["button_reply"] == {"id": "checkout", "title": "Checkout"}


def test_a_single_section_list_from_the_builder_is_tappable_too(app, client):
    rows = [ListRow("qty:1", "1"), ListRow("qty:2", "2")]
    message_id = queue(app, interactive.list_message("chat_order", "How many?", "Choose", rows), "qty-1")
    client.get(CHAT)
    client.post(f"{CHAT}/tap", data={"message": message_id, "option": 0})
    assert inbound(app)[0].payload["interactive"]["list_reply"]["id"] == "qty:1"


def catalog_field(app, sku: str) -> str:
    with app.app_context():
        return f"quantity-{db.session.scalar(select(Variant.id).where(Variant.sku == sku))}"


def test_a_cart_from_the_catalog_arrives_as_an_order_message_by_sku(app, client):
    page = client.get(CHAT).get_data(as_text=True)
    assert "Send a cart" in page and "Quantity of Ginger Biscuits (Pack Large)" in page
    chai = catalog_field(app, "CHAI-0")
    large = catalog_field(app, "BISC-1")

    response = client.post(f"{CHAT}/cart", data={chai: "2", large: "1", "note": "Before 6 please"})

    assert response.status_code == 303
    [order] = inbound(app)
    assert order.kind == "order"
    items = {item["product_retailer_id"]: item for item in order.payload["order"]["product_items"]}
    assert items["CHAI-0"] == {"product_retailer_id": "CHAI-0", "quantity": 2, "item_price": 120.5, "currency": "INR"}
    assert (items["BISC-1"]["quantity"], items["BISC-1"]["item_price"]) == (1, 90)
    assert order.payload["order"]["text"] == "Before 6 please"
    shown = client.get(CHAT).get_data(as_text=True)
    assert "Cart from the catalog" in shown and "Masala Chai" in shown and "CHAI-0" in shown


@pytest.mark.parametrize("quantity", ["", "0", "-1", "1000", "two"])
def test_a_cart_with_no_sensible_quantity_is_refused_with_a_clear_error(app, client, quantity):
    response = client.post(f"{CHAT}/cart", data={catalog_field(app, "CHAI-0"): quantity})
    assert response.status_code == 422
    assert "Quantit" in response.get_data(as_text=True) or "Choose a quantity" in response.get_data(as_text=True)
    assert inbound(app) == []


def test_a_location_arrives_with_its_place_and_shows_a_map_link(app, client):
    response = client.post(
        f"{CHAT}/location",
        data={"latitude": "19.0596", "longitude": "72.8295", "place_name": "Bandra", "address": "Hill Rd, Mumbai"},
    )
    assert response.status_code == 303
    [pin] = inbound(app)
    assert pin.payload["location"] == {
        "latitude": 19.0596,
        "longitude": 72.8295,
        "name": "Bandra",
        "address": "Hill Rd, Mumbai",
    }
    page = client.get(CHAT).get_data(as_text=True)
    assert "https://www.openstreetmap.org/?mlat=19.0596&amp;mlon=72.8295" in page and "Hill Rd, Mumbai" in page


@pytest.mark.parametrize("latitude,longitude", [("91", "0"), ("0", "-181"), ("north", "0"), ("", "")])
def test_an_impossible_location_is_refused(app, client, latitude, longitude):
    response = client.post(f"{CHAT}/location", data={"latitude": latitude, "longitude": longitude})
    assert response.status_code == 422 and inbound(app) == []


def test_a_picture_the_tester_sends_is_stored_at_once_and_shown(app, client):
    response = client.post(
        f"{CHAT}/picture",
        data={"picture": (io.BytesIO(PIXEL_PNG), "blue.png", "image/png"), "caption": "This one?"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    [picture] = inbound(app)
    with app.app_context():
        stored = db.session.scalars(select(MediaFile)).one()
        assert (stored.message_id, stored.status, stored.mime_type) == (picture.id, "stored", "image/png")
        assert media.stored_file(stored).read_bytes() == PIXEL_PNG
        media_url = f"/admin/chat-media/{stored.id}"
    page = client.get(CHAT).get_data(as_text=True)
    assert f'src="{media_url}"' in page and 'alt="This one?"' in page
    assert client.get(media_url).data == PIXEL_PNG


@pytest.mark.parametrize(
    "data,mime_type",
    [(b"GIF89a....", "image/gif"), (b"not a png", "image/png"), (b"", "image/jpeg")],
)
def test_a_file_that_is_not_a_jpeg_or_png_picture_is_refused(app, client, data, mime_type):
    response = client.post(
        f"{CHAT}/picture",
        data={"picture": (io.BytesIO(data), "x", mime_type)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and inbound(app) == []


def test_a_payment_link_button_is_shown_as_the_link_it_opens(app, client):
    payload = {
        "type": "interactive",
        "interactive": {
            "type": "cta_url",
            "body": {"text": "Please pay ₹450.00 for order ABCD-2345."},
            "action": {"name": "cta_url", "parameters": {"display_text": "Pay now", "url": "https://pay.example/cs_1"}},
        },
    }
    check_payload(payload)
    queue(app, OutboundMessage("payment_request", payload, "Please pay ₹450.00 for order ABCD-2345."), "cta")
    page = client.get(CHAT).get_data(as_text=True)
    assert 'href="https://pay.example/cs_1"' in page and "Pay now" in page
