"""The delivered message says what to do if something is wrong: a "Return / problem" button while the shop takes
returns in the chat, the words to reply when its text is too long for a button message, nothing when returns are
off. Every variant passes Meta's limits (checked as it is built)."""

from checkout.extensions import db
from checkout.models import get_store_settings
from checkout.orders.lifecycle import OrderStatus
from checkout.whatsapp import messages
from checkout.whatsapp.limits import check_payload
from tests.factories import customer, make_order, make_product, make_store


def delivered_message(app, **settings):
    with app.app_context():
        make_store(name="Test Shop", **settings)
        order = make_order([(make_product("Cotton Kurta", stock=5).variants[0], 1)], details=customer())
        order.status = OrderStatus.DELIVERED
        built = messages.status_update(
            order, get_store_settings(), status_url="https://shop.example/o/x", in_window=True, language="en"
        )
        check_payload(built.payload)
        db.session.rollback()
        return built


def test_the_delivered_message_has_a_return_button_naming_the_order(make_app):
    built = delivered_message(make_app())
    buttons = built.payload["interactive"]["action"]["buttons"]
    [button] = buttons
    assert button["reply"]["title"] == "Return / problem" and button["reply"]["id"].startswith("return:")
    assert "reply “problem” or “return”" in built.body_text


def test_a_long_shop_text_keeps_a_text_message_with_the_words_to_reply(make_app):
    long_text = "Delivered! " + "Thank you for shopping with us. " * 28
    built = delivered_message(make_app(), message_texts={"delivered": long_text[:990]})
    assert built.payload["type"] == "text"
    assert built.body_text.endswith("Something wrong with your order? Reply “problem” or “return”.")


def test_with_returns_off_the_delivered_message_offers_no_return(make_app):
    built = delivered_message(make_app(), return_window_days=0)
    assert built.payload["type"] == "text" and "problem" not in built.body_text
