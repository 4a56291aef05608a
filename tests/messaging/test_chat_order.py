"""Ordering inside the WhatsApp chat, through the signed webhook, with the fake Graph API checking every payload."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from checkout import outbox
from checkout.catalog import stock
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import Cart, Conversation, Message, Order, Variant, WebhookEvent
from checkout.models.catalog import Category, Product
from checkout.shop.faq import FaqDraft, save_faq_entry
from checkout.whatsapp import chats, webhooks
from checkout.whatsapp.chat_text_editing import save_chat_texts
from tests.factories import make_product, make_store
from tests.messaging import payloads

ASHA, RAVI, STAFF = "919876543210", "919811122233", "919812345678"


@pytest.fixture
def shop(cloud_app, graph_api):
    """Teas and clothes: a chai in two sizes (20 each), an Assam tea with 5 left, a kurta whose L is sold out."""
    with cloud_app.app_context():
        make_store(staff_alert_numbers=["+" + STAFF], delivery_fee_minor=5000)
        tea, clothes = Category(name="Tea", slug="tea"), Category(name="Clothes", slug="clothes")
        chai = make_product(
            "Masala Chai",
            price_minor=20000,
            stock=20,
            category=tea,
            sku="MCHAI",
            options=[{"Size": "250 g"}, {"Size": "500 g"}],
        )
        assam = make_product("Assam Tea", price_minor=15000, stock=5, category=tea, sku="ASSAM")
        kurta = make_product(
            "Cotton Kurta",
            price_minor=89900,
            stock=3,
            category=clothes,
            sku="KURTA",
            options=[{"Size": "S"}, {"Size": "M"}, {"Size": "L"}],
        )
        gone = make_product("Darjeeling Tea", price_minor=30000, stock=0, category=tea, sku="DARJ")
        chai.keywords = assam.keywords = "chai"
        stock.change_on_hand(kurta.variants[2], -3, "Sold in the shop")
        db.session.commit()
        ids = {
            "chai": chai.id,
            "chai_small": chai.variants[0].id,
            "chai_large": chai.variants[1].id,
            "assam": assam.id,
            "assam_variant": assam.variants[0].id,
            "kurta": kurta.id,
            "gone": gone.id,
            "tea": tea.id,
            "clothes": clothes.id,
            "chai_small_sku": chai.variants[0].sku,
        }
        db.session.remove()
    return ids


def receive(app, body) -> None:
    """Post a signed webhook, process it as the worker does, and deliver the replies to the fake Graph API."""
    client = app.test_client()
    assert payloads.post_signed(client, app, body).status_code == 200
    with app.app_context():
        for event_id in db.session.scalars(select(WebhookEvent.id).where(WebhookEvent.processed_at.is_(None))).all():
            webhooks.process_event(event_id)
            assert db.session.get(WebhookEvent, event_id).error == ""
        outbox.run_due()
        db.session.remove()


def say(app, text, wa_id=ASHA, name="Asha") -> None:
    receive(app, payloads.text(text, wa_id=wa_id, name=name))


def tap(app, reply_id, title="tap", wa_id=ASHA, kind="list_reply") -> dict:
    body = payloads.inbound(
        {"type": "interactive", "interactive": {"type": kind, kind: {"id": reply_id, "title": title}}}, wa_id=wa_id
    )
    receive(app, body)
    return body


def press(app, reply_id, wa_id=ASHA) -> dict:
    return tap(app, reply_id, wa_id=wa_id, kind="button_reply")


def last(graph_api, wa_id=ASHA) -> dict:
    return graph_api.messages_to(wa_id)[-1].body


def body_text(message: dict) -> str:
    if message["type"] == "text":
        return message["text"]["body"]
    return message["interactive"]["body"]["text"]


def rows(message: dict) -> list[tuple[str, str]]:
    assert message["type"] == "interactive" and message["interactive"]["type"] == "list", message
    return [(row["id"], row["title"]) for s in message["interactive"]["action"]["sections"] for row in s["rows"]]


def buttons(message: dict) -> list[tuple[str, str]]:
    assert message["type"] == "interactive" and message["interactive"]["type"] == "button", message
    return [(b["reply"]["id"], b["reply"]["title"]) for b in message["interactive"]["action"]["buttons"]]


def conversation(app, wa_id=ASHA) -> Conversation:
    with app.app_context():
        row = db.session.scalar(select(Conversation).where(Conversation.phone == "+" + wa_id))
        _ = row.cart.lines if row.cart else None
        db.session.expunge_all()
        return row


def cart_lines(app, wa_id=ASHA) -> dict[int, int]:
    with app.app_context():
        row = db.session.scalar(select(Conversation).where(Conversation.phone == "+" + wa_id))
        cart = db.session.get(Cart, row.cart_id) if row.cart_id else None
        return {line.variant_id: line.quantity for line in cart.lines} if cart else {}


def orders(app) -> list[Order]:
    with app.app_context():
        found = db.session.scalars(select(Order).order_by(Order.id)).all()
        for order in found:
            _ = (order.lines, order.events)
        db.session.expunge_all()
        return found


def two_small_chai(app, graph_api, wa_id=ASHA) -> None:
    say(app, "I want to order", wa_id=wa_id)
    tap(app, f"product:{_id(app, 'Masala Chai')}", wa_id=wa_id)
    tap(app, "opt:0", wa_id=wa_id)
    tap(app, "qty:2", wa_id=wa_id)


def _id(app, name) -> int:
    with app.app_context():
        return db.session.scalar(select(Product.id).where(Product.name == name))


def confirm_button(graph_api, wa_id=ASHA) -> str:
    [(confirm_id, title), (cancel_id, _)] = buttons(last(graph_api, wa_id))
    assert title == "Confirm" and confirm_id.startswith("chat-confirm:") and cancel_id.startswith("chat-cancel:")
    return confirm_id


def test_a_whole_chat_order_in_english_ends_in_a_confirmed_whatsapp_order_with_stock_held(cloud_app, graph_api, shop):
    app = cloud_app
    say(app, "I want to order")
    assert conversation(app).language == "en"
    categories = rows(last(graph_api))
    assert categories == [(f"cat:{shop['clothes']}", "Clothes"), (f"cat:{shop['tea']}", "Tea")]

    tap(app, f"cat:{shop['tea']}")
    assert [title for _, title in rows(last(graph_api))] == ["Assam Tea", "Masala Chai"]  # Darjeeling is sold out

    tap(app, f"product:{shop['chai']}")
    assert "Masala Chai: which Size?" in body_text(last(graph_api))
    assert rows(last(graph_api)) == [("opt:0", "250 g"), ("opt:1", "500 g")]

    tap(app, "opt:0")
    quantities = rows(last(graph_api))
    assert quantities[:3] == [("qty:1", "1"), ("qty:2", "2"), ("qty:3", "3")] and quantities[-1] == (
        "qty:more",
        "10 or more",
    )
    assert len(quantities) == 10

    tap(app, "qty:2")
    assert "Added: 2 × Masala Chai (250 g)" in body_text(last(graph_api))
    assert [title for _, title in buttons(last(graph_api))] == ["Add more", "View cart", "Checkout"]

    press(app, "go:checkout")
    assert buttons(last(graph_api)) == [("name:whatsapp", "Use Asha")]
    press(app, "name:whatsapp")
    assert buttons(last(graph_api)) == [("fulfil:delivery", "Delivery"), ("fulfil:pickup", "Pickup")]
    press(app, "fulfil:delivery")
    assert "delivery address" in body_text(last(graph_api))
    address = "Flat 4, Beth House\nKasarani,  near the church\nNairobi"
    say(app, address)
    assert [b for b, _ in buttons(last(graph_api))] == ["pay:cod", "pay:transfer"]
    press(app, "pay:cod")

    summary = body_text(last(graph_api))
    assert "2 × Masala Chai (250 g) — ₹400.00" in summary
    assert "Delivery: ₹50.00" in summary and "Total: ₹450.00" in summary and "Kasarani,  near the church" in summary
    press(app, confirm_button(graph_api))

    [order] = orders(app)
    assert (order.source, order.status, order.customer_name, order.customer_phone) == (
        "whatsapp",
        "confirmed",
        "Asha",
        "+" + ASHA,
    )
    assert order.delivery_address == address and order.payment_method == "cod"
    assert [(line.variant_id, line.quantity) for line in order.lines] == [(shop["chai_small"], 2)]
    assert (order.subtotal_minor, order.delivery_fee_minor, order.total_minor) == (40000, 5000, 45000)
    with app.app_context():
        assert db.session.get(Variant, shop["chai_small"]).stock_on_hand == 18  # confirmed: the held units are taken
    purposes = [m.purpose for m in outgoing(app, ASHA)]
    assert "order_confirmation" not in purposes  # confirmed in the chat: no second "please confirm"
    assert purposes[-1] == "status:confirmed" and order.reference in body_text(last(graph_api))
    after = conversation(app)
    assert (after.flow_step, after.cart_id) == ("", None)
    with app.app_context():
        assert db.session.scalar(select(Cart.order_id)) == order.id
    assert [m.body["type"] for m in graph_api.messages_to(STAFF)] == ["template"]  # the staff alert of a new order


def outgoing(app, wa_id) -> list[Message]:
    with app.app_context():
        found = db.session.scalars(
            select(Message).where(Message.direction == "out", Message.phone == "+" + wa_id).order_by(Message.id)
        ).all()
        db.session.expunge_all()
        return found


def test_a_whole_chat_order_in_hinglish_is_answered_in_hinglish(cloud_app, graph_api, shop):
    app = cloud_app
    say(app, "mujhe chai chahiye", wa_id=RAVI, name="Ravi")
    assert conversation(app, RAVI).language == "hinglish"
    assert [title for _, title in rows(last(graph_api, RAVI))] == ["Assam Tea", "Masala Chai"]
    tap(app, f"product:{shop['assam']}", wa_id=RAVI)
    assert "Kitne Assam Tea chahiye?" in body_text(last(graph_api, RAVI))
    assert [row for row, _ in rows(last(graph_api, RAVI))] == [f"qty:{n}" for n in range(1, 6)]  # 5 left
    tap(app, "qty:3", wa_id=RAVI)
    assert "Cart mein daal diya: 3 × Assam Tea" in body_text(last(graph_api, RAVI))
    press(app, "go:checkout", wa_id=RAVI)
    assert "kis naam se" in body_text(last(graph_api, RAVI))
    say(app, "Ravi Sharma", wa_id=RAVI)
    press(app, "fulfil:pickup", wa_id=RAVI)
    press(app, "pay:transfer", wa_id=RAVI)
    summary = body_text(last(graph_api, RAVI))
    assert "Apna order check kijiye" in summary and "Pickup yahan se: 12 Market Road" in summary
    assert "Total: ₹450.00" in summary
    press(app, confirm_button(graph_api, RAVI), wa_id=RAVI)
    [order] = orders(app)
    assert (order.source, order.fulfilment, order.customer_name, order.total_minor) == (
        "whatsapp",
        "pickup",
        "Ravi Sharma",
        45000,
    )
    with app.app_context():
        variant = db.session.get(Variant, shop["assam_variant"])
        assert variant.stock_on_hand == 2 and stock.available_quantities([variant])[variant.id] == 2


def test_the_same_product_and_options_again_merge_into_one_line(cloud_app, graph_api, shop):
    app = cloud_app
    two_small_chai(app, graph_api)
    press(app, "go:more")
    say(app, "masala chai")
    tap(app, f"product:{shop['chai']}")
    tap(app, "opt:0")
    tap(app, "qty:3")
    assert "Added: 5 × Masala Chai (250 g)" in body_text(last(graph_api))
    assert cart_lines(app) == {shop["chai_small"]: 5}
    press(app, "go:cart")
    assert rows(last(graph_api))[0] == (f"line:{shop['chai_small']}", "Masala Chai (250 g)")
    tap(app, f"line:{shop['chai_small']}")
    press(app, f"change:{shop['chai_small']}")
    tap(app, "qty:4")
    assert cart_lines(app) == {shop["chai_small"]: 4}
    press(app, "go:cart")
    tap(app, f"line:{shop['chai_small']}")
    press(app, f"remove:{shop['chai_small']}")
    assert cart_lines(app) == {}
    assert "Removed Masala Chai (250 g)" in body_text(last(graph_api))


def test_an_unexpected_message_repeats_the_question_and_keeps_the_cart(cloud_app, graph_api, shop):
    app = cloud_app
    two_small_chai(app, graph_api)
    asked = last(graph_api)
    say(app, "purple elephant")
    again = last(graph_api)
    assert body_text(again).startswith("Sorry, I didn't understand that.")
    assert buttons(again) == buttons(asked)
    assert cart_lines(app) == {shop["chai_small"]: 2}
    press(app, "go:cart")  # understood: the count starts again
    say(app, "purple elephant")
    assert conversation(app).handled_by == "bot"
    say(app, "green giraffe")  # twice in a row: a person is called
    assert conversation(app).handled_by == "person"
    assert "Someone from the shop will reply" in body_text(last(graph_api))
    assert cart_lines(app) == {shop["chai_small"]: 2}


def test_a_question_the_shop_answered_in_its_faq_is_answered_mid_flow(cloud_app, graph_api, shop):
    app = cloud_app
    with app.app_context():
        save_faq_entry(
            None, FaqDraft("Do you deliver on Sundays?", "sunday", "Yes, we deliver every Sunday until 2 pm.")
        )
    two_small_chai(app, graph_api)
    press(app, "go:checkout")
    press(app, "name:whatsapp")
    press(app, "fulfil:delivery")
    before = len(graph_api.messages_to(ASHA))
    say(app, "Do you deliver on sunday?")
    answer, question = [m.body for m in graph_api.messages_to(ASHA)[before:]]
    assert body_text(answer) == "Yes, we deliver every Sunday until 2 pm."
    assert "delivery address" in body_text(question)
    assert conversation(app).flow_step == "address"


def test_a_customer_asking_for_a_person_gets_one_the_bot_goes_quiet_until_handed_back(cloud_app, graph_api, shop):
    app = cloud_app
    say(app, "noted", wa_id=STAFF, name="Shop owner")  # the staff number wrote today: alerts can be texts
    two_small_chai(app, graph_api)
    say(app, "insaan se baat karni hai")
    assert conversation(app).handled_by == "person"
    [alert] = [m.body for m in graph_api.messages_to(STAFF)]
    assert "Asha (+919876543210) is waiting for a person" in body_text(alert)
    assert f"/admin/inbox/{conversation(app).id}" in body_text(alert)
    sent = len(graph_api.messages_to(ASHA))
    say(app, "hi")
    tap(app, f"product:{shop['chai']}")
    assert len(graph_api.messages_to(ASHA)) == sent  # the bot stays quiet while a person has the chat
    with app.app_context():
        chats.hand_to_bot(db.session.scalar(select(Conversation).where(Conversation.phone == "+" + ASHA)))
        db.session.commit()
    say(app, "hi")
    assert rows(last(graph_api))[0] == ("go:cart", "Your cart")
    assert cart_lines(app) == {shop["chai_small"]: 2}


def test_a_staff_number_outside_its_window_is_alerted_with_the_approved_template(cloud_app, graph_api, shop):
    app = cloud_app
    say(app, "agent please", wa_id=RAVI, name="Ravi")
    [alert] = [m.body for m in graph_api.messages_to(STAFF)]
    assert alert["type"] == "template" and alert["template"]["name"] == "chat_waiting_alert"
    values = [p["text"] for p in alert["template"]["components"][0]["parameters"]]
    assert values[:2] == ["Ravi", "+" + RAVI]
    assert values[3].endswith(f"/admin/inbox/{conversation(app, RAVI).id}")


def test_a_catalog_cart_becomes_the_order_and_unknown_items_are_named(cloud_app, graph_api, shop):
    app = cloud_app
    items = [
        {"product_retailer_id": shop["chai_small_sku"], "quantity": 3, "item_price": 200, "currency": "INR"},
        {"product_retailer_id": "NOT-IN-SHOP-7", "quantity": 1, "item_price": 99, "currency": "INR"},
        {"product_retailer_id": "ASSAM", "quantity": 1, "item_price": 150, "currency": "INR"},
    ]
    receive(
        app, payloads.inbound({"type": "order", "order": {"catalog_id": "CAT1", "product_items": items}}, wa_id=ASHA)
    )
    asked = last(graph_api)
    assert "We couldn't find these items: NOT-IN-SHOP-7." in body_text(asked)
    assert buttons(asked) == [("name:whatsapp", "Use Asha")]
    press(app, "name:whatsapp")
    press(app, "fulfil:pickup")
    press(app, "pay:cod")
    press(app, confirm_button(graph_api))
    [order] = orders(app)
    assert order.source == "whatsapp"
    assert sorted((line.sku, line.quantity) for line in order.lines) == [("ASSAM-0", 1), (shop["chai_small_sku"], 3)]
    assert order.subtotal_minor == 3 * 20000 + 15000


def test_a_retried_confirm_tap_and_a_second_tap_on_the_same_button_make_one_order(cloud_app, graph_api, shop):
    app = cloud_app
    two_small_chai(app, graph_api)
    press(app, "go:checkout")
    press(app, "name:whatsapp")
    press(app, "fulfil:pickup")
    press(app, "pay:cod")
    confirm_id = confirm_button(graph_api)
    tap_body = press(app, confirm_id)
    receive(app, tap_body)  # Meta delivers the same webhook again
    press(app, confirm_id)  # the customer taps the same Confirm again
    [order] = orders(app)
    assert order.status == "confirmed"
    assert body_text(last(graph_api)) == (
        f"This order is already placed: {order.reference}. Follow it here: https://shop.example/o/{order.status_token}"
    )
    with app.app_context():
        assert db.session.get(Variant, shop["chai_small"]).stock_on_hand == 18
        assert db.session.scalar(select(func.count(Order.id))) == 1


def test_cancel_on_the_summary_clears_the_cart_and_saves_nothing(cloud_app, graph_api, shop):
    app = cloud_app
    two_small_chai(app, graph_api)
    press(app, "go:checkout")
    press(app, "name:whatsapp")
    press(app, "fulfil:pickup")
    press(app, "pay:cod")
    [_, (cancel_id, _)] = buttons(last(graph_api))
    press(app, cancel_id)
    assert orders(app) == [] and cart_lines(app) == {} and conversation(app).flow_step == ""
    assert "nothing was ordered" in body_text(last(graph_api))


def test_stop_ordering_leaves_the_flow_and_keeps_the_cart(cloud_app, graph_api, shop):
    app = cloud_app
    two_small_chai(app, graph_api)
    say(app, "stop ordering")
    assert conversation(app).flow_step == "" and cart_lines(app) == {shop["chai_small"]: 2}
    assert "Your cart is kept" in body_text(last(graph_api))


def test_a_flow_idle_for_a_day_ends_and_the_next_message_starts_fresh_offering_the_kept_cart(
    cloud_app, graph_api, shop
):
    app = cloud_app
    two_small_chai(app, graph_api)
    with app.app_context():
        row = db.session.scalar(select(Conversation).where(Conversation.phone == "+" + ASHA))
        row.flow_touched_at = utcnow() - timedelta(hours=25)
        db.session.commit()
    press(app, "qty:5")  # a tap on yesterday's quantity list is not taken as today's answer
    assert cart_lines(app) == {shop["chai_small"]: 2}
    say(app, "hi")
    started = last(graph_api)
    assert "Your cart from before is kept (2 items)." in body_text(started)
    assert rows(started)[0] == ("go:cart", "Your cart")
    assert conversation(app).flow_step == "product" and cart_lines(app) == {shop["chai_small"]: 2}


def test_sold_out_products_and_options_are_not_offered(cloud_app, graph_api, shop):
    app = cloud_app
    say(app, "darjeeling tea")
    assert f"product:{shop['gone']}" not in [row for row, _ in rows(last(graph_api))]
    tap(app, f"product:{shop['kurta']}")
    assert rows(last(graph_api)) == [("opt:0", "S"), ("opt:1", "M")]  # L is sold out
    tap(app, f"product:{shop['gone']}")  # an old list's row for what has sold out since
    assert "Darjeeling Tea is sold out." in body_text(last(graph_api))


def test_a_quantity_over_the_stock_is_bounded(cloud_app, graph_api, shop):
    app = cloud_app
    say(app, "Assam tea")
    tap(app, f"product:{shop['assam']}")
    say(app, "7")
    assert body_text(last(graph_api)) == "Only 5 of Assam Tea left. Type a number up to 5."
    say(app, "5")
    assert cart_lines(app) == {shop["assam_variant"]: 5}
    say(app, "masala chai")
    tap(app, f"product:{shop['chai']}")
    tap(app, "opt:1")
    tap(app, "qty:more")
    assert "Type how many Masala Chai (500 g) you want (up to 20)." in body_text(last(graph_api))
    say(app, "25")
    assert "Only 20 of Masala Chai (500 g) left" in body_text(last(graph_api))
    say(app, "12")
    assert cart_lines(app) == {shop["assam_variant"]: 5, shop["chai_large"]: 12}


def test_the_shops_own_chat_texts_are_what_the_customer_receives(cloud_app, graph_api, shop):
    """Saved as the settings page saves them; a Hinglish customer gets the shop's Hinglish, then ours, then its
    English; an English customer gets the shop's English."""
    app = cloud_app
    with app.app_context():
        save_chat_texts(
            "hinglish",
            {
                "choose_quantity": "{item} kitne? Ek ka {price}.",
                "checkout": "Bas, order karo",
                "total": "KUL: {amount}",
            },
        )
        save_chat_texts("en", {"add_more": "Something else", "view_cart": "My basket", "prices_changed": "New prices"})
        db.session.remove()

    say(app, "mujhe chai chahiye", wa_id=RAVI, name="Ravi")
    tap(app, f"product:{shop['assam']}", wa_id=RAVI)
    assert body_text(last(graph_api, RAVI)) == "Assam Tea kitne? Ek ka ₹150.00."
    tap(app, "qty:1", wa_id=RAVI)
    # Hinglish has its own "Aur add karein" and "Cart dekhein": the shop's English does not replace them.
    assert [title for _, title in buttons(last(graph_api, RAVI))] == [
        "Aur add karein",
        "Cart dekhein",
        "Bas, order karo",
    ]
    press(app, "go:checkout", wa_id=RAVI)
    say(app, "Ravi Sharma", wa_id=RAVI)
    press(app, "fulfil:pickup", wa_id=RAVI)
    press(app, "pay:cod", wa_id=RAVI)
    assert "KUL: ₹150.00" in body_text(last(graph_api, RAVI))

    say(app, "I want to order")
    tap(app, f"product:{shop['assam']}")
    assert body_text(last(graph_api)) == "How many Assam Tea? (₹150.00 each)"  # the Hinglish text is not English
    tap(app, "qty:1")
    assert [title for _, title in buttons(last(graph_api))] == ["Something else", "My basket", "Checkout"]
