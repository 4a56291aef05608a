"""After delivery, through the signed WhatsApp webhook and the fake Graph API (which refuses what Meta would):
ratings typed after the delivered message, the one follow-up N days on (a list inside the window, the
delivery_follow_up template outside it), its rating tapped and a comment added; never after STOP, never with
the setting off, never twice however many sweeps race or restart."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from checkout import outbox
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models import (
    Contact,
    Conversation,
    DeliveryFollowUp,
    Message,
    Order,
    OrderEvent,
    OrderRating,
    OutboxItem,
    get_store_settings,
)
from checkout.orders.lifecycle import OrderStatus
from checkout.whatsapp.follow_ups import send_due_follow_ups
from checkout.whatsapp.limits import check_payload
from tests.factories import give_consent, make_product, make_store
from tests.messaging import payloads
from tests.messaging.conftest import cloud_settings, move_order_to, outgoing_messages, place, receive_webhook

ASHA, ASHA_DIGITS = "+919876543210", "919876543210"
S = OrderStatus


def delivered(variant_id, *, days_ago: float = 0, phone: str = ASHA) -> Order:
    """An order taken to the door; its delivery `days_ago` days back (the timeline's event moved)."""
    order = place(variant_id, phone=phone)
    for status in (S.CONFIRMED, S.PREPARING, S.SHIPPED, S.OUT_FOR_DELIVERY, S.DELIVERED):
        move_order_to(order, status)
    if days_ago:
        event = db.session.scalar(
            select(OrderEvent).where(OrderEvent.order_id == order.id, OrderEvent.to_status == "delivered")
        )
        event.created_at = utcnow() - timedelta(days=days_ago)
        db.session.commit()
    outbox.run_due()
    return order


def customer_writes(app, body: dict) -> None:
    receive_webhook(app, body)
    outbox.run_due()


def rating_of(order_id: int) -> OrderRating | None:
    db.session.expire_all()
    return db.session.scalar(select(OrderRating).where(OrderRating.order_id == order_id))


def window_open(phone: str = ASHA) -> None:
    """The customer wrote to the shop a minute ago: free-form messages may go."""
    contact = db.session.scalar(select(Contact).where(Contact.phone == phone))
    if contact is None:
        db.session.add(Contact(phone=phone, wa_id=phone.lstrip("+"), last_inbound_at=utcnow()))
    else:
        contact.last_inbound_at = utcnow()
    db.session.commit()


def follow_ups_after(days: int) -> None:
    get_store_settings().follow_up_after_days = days
    db.session.commit()


def every_outbound_passes_the_limits() -> None:
    for message in outgoing_messages():
        check_payload(message.payload)


# --- ratings typed after the delivered message ------------------------------------------------------------


@pytest.mark.parametrize("typed,score", [("⭐⭐⭐⭐⭐", 5), ("5", 5), ("5 stars", 5), ("4/5", 4), ("3 out of 5", 3)])
def test_a_rating_typed_after_the_delivered_message_is_recorded_and_thanked(cloud, graph_api, variant_id, typed, score):
    order = delivered(variant_id)
    customer_writes(cloud, payloads.text(typed, wa_id=ASHA_DIGITS))

    rating = rating_of(order.id)
    assert (rating.score, rating.source, rating.comment) == (score, "delivered_message", "")
    thanks = graph_api.messages_to(ASHA_DIGITS)[-1].body["text"]["body"]
    assert f"Thank you for rating order {order.reference} {score}/5" in thanks
    every_outbound_passes_the_limits()


def test_the_customers_next_words_after_a_rating_are_its_comment_and_only_those(cloud, graph_api, variant_id):
    order = delivered(variant_id)
    customer_writes(cloud, payloads.text("⭐⭐⭐⭐", wa_id=ASHA_DIGITS))
    customer_writes(cloud, payloads.text("Lovely fabric, but the parcel came a day late", wa_id=ASHA_DIGITS))
    customer_writes(cloud, payloads.text("Also thanks again", wa_id=ASHA_DIGITS))

    rating = rating_of(order.id)
    assert (rating.score, rating.comment) == (4, "Lovely fabric, but the parcel came a day late")
    notes = [e.note for e in db.session.get(Order, order.id).events if e.kind == "rating"]
    assert notes == [
        "Rated 4/5 on WhatsApp (answering the delivered message)",
        "Comment with the rating: Lovely fabric, but the parcel came a day late",
    ]
    texts = [m.body["text"]["body"] for m in graph_api.messages_to(ASHA_DIGITS) if m.body["type"] == "text"]
    assert len([text for text in texts if "passed your words on to Test Shop" in text]) == 1


def test_asking_for_something_after_a_rating_is_not_taken_as_its_comment(cloud, graph_api, variant_id):
    order = delivered(variant_id)
    customer_writes(cloud, payloads.text("5", wa_id=ASHA_DIGITS))
    customer_writes(cloud, payloads.text("talk to a person please", wa_id=ASHA_DIGITS))
    assert rating_of(order.id).comment == ""
    conversation = db.session.scalar(select(Conversation).where(Conversation.phone == ASHA))
    assert conversation.waiting_since is not None  # the chat handled it as it always does


def test_the_first_rating_stands(cloud, graph_api, variant_id):
    order = delivered(variant_id)
    customer_writes(cloud, payloads.text("2", wa_id=ASHA_DIGITS))
    customer_writes(cloud, payloads.text("5", wa_id=ASHA_DIGITS))
    assert rating_of(order.id).score == 2
    assert db.session.scalar(select(func.count(OrderRating.id))) == 1


def test_replies_that_are_not_ratings_are_left_to_the_conversation(cloud, graph_api, variant_id):
    order = delivered(variant_id)
    customer_writes(cloud, payloads.text("where is my order?", wa_id=ASHA_DIGITS))
    customer_writes(cloud, payloads.text("5 kurtas please", wa_id=ASHA_DIGITS))
    assert rating_of(order.id) is None
    replies = [m.purpose for m in outgoing_messages() if m.purpose.startswith("reply:")]
    assert replies[0] == "reply:status" and "reply:rating" not in replies


def test_a_rating_long_after_delivery_or_with_no_delivered_order_is_not_recorded(cloud, graph_api, variant_id):
    old = delivered(variant_id, days_ago=15)
    waiting = place(variant_id, phone=ASHA)
    customer_writes(cloud, payloads.text("5", wa_id=ASHA_DIGITS))
    assert rating_of(old.id) is None and rating_of(waiting.id) is None


# --- the follow-up ----------------------------------------------------------------------------------------------


def test_the_follow_up_is_a_list_of_ratings_inside_the_window_and_its_tap_and_comment_are_recorded(
    cloud, graph_api, variant_id
):
    follow_ups_after(3)
    order = delivered(variant_id, days_ago=3.5)
    window_open()
    assert send_due_follow_ups() == 1
    outbox.run_due()

    follow_up = graph_api.messages_to(ASHA_DIGITS)[-1].body
    rows = follow_up["interactive"]["action"]["sections"][0]["rows"]
    assert follow_up["interactive"]["type"] == "list"
    assert [row["id"] for row in rows] == [f"rate:{order.reference}:{score}" for score in (5, 4, 3, 2, 1)]

    customer_writes(cloud, payloads.list_reply(f"rate:{order.reference}:4", "⭐⭐⭐⭐ 4", wa_id=ASHA_DIGITS))
    customer_writes(cloud, payloads.text("Fits well, colour a bit darker than the photo", wa_id=ASHA_DIGITS))

    rating = rating_of(order.id)
    assert (rating.score, rating.source) == (4, "follow_up")
    assert rating.comment == "Fits well, colour a bit darker than the photo"
    assert [e.kind for e in db.session.get(Order, order.id).events][-3:] == ["follow_up", "rating", "rating"]
    every_outbound_passes_the_limits()


def test_outside_the_window_the_follow_up_is_the_approved_template_and_a_typed_answer_rates(
    cloud, graph_api, variant_id
):
    follow_ups_after(5)
    order = delivered(variant_id, days_ago=5.2)
    assert send_due_follow_ups() == 1
    outbox.run_due()
    template = graph_api.messages_to(ASHA_DIGITS)[-1].body["template"]
    assert template["name"] == "delivery_follow_up"  # the fake checks it against the approved wording

    customer_writes(cloud, payloads.text("⭐⭐⭐⭐⭐", wa_id=ASHA_DIGITS))
    assert (rating_of(order.id).score, rating_of(order.id).source) == (5, "follow_up")


def test_a_follow_up_list_refused_for_a_closed_window_goes_again_as_the_template(cloud, graph_api, variant_id):
    follow_ups_after(3)
    order = delivered(variant_id, days_ago=4)
    window_open()  # we believe the window is open; Meta says it closed
    graph_api.fail_next("outside_window", when=lambda body: body["type"] == "interactive")
    assert send_due_follow_ups() == 1
    assert outbox.run_due() == {"failed": 1, "sent": 1}

    fallback = graph_api.messages_to(ASHA_DIGITS)[-1].body["template"]
    assert fallback["name"] == "delivery_follow_up"
    assert [p["text"] for p in fallback["components"][0]["parameters"]][1] == order.reference
    assert db.session.get(Order, order.id).attention == ""


def test_no_follow_up_before_its_day_nor_for_an_order_rated_already(cloud, graph_api, variant_id):
    follow_ups_after(3)
    delivered(variant_id, days_ago=2)
    assert send_due_follow_ups() == 0
    rated = delivered(variant_id, days_ago=4)
    customer_writes(cloud, payloads.text("5", wa_id=ASHA_DIGITS))
    assert rating_of(rated.id) is not None
    assert send_due_follow_ups() == 0


def test_no_follow_up_while_the_setting_is_off(cloud, graph_api, variant_id):
    delivered(variant_id, days_ago=4)
    assert get_store_settings().follow_up_after_days == 0  # off unless the shop turns it on
    assert send_due_follow_ups() == 0
    assert not [m for m in outgoing_messages() if m.purpose == "delivery_follow_up"]


@pytest.mark.parametrize("consented_first", [False, True])
def test_no_follow_up_to_a_customer_who_sent_stop(cloud, graph_api, variant_id, consented_first):
    follow_ups_after(3)
    if consented_first:
        give_consent(ASHA)
    delivered(variant_id, days_ago=4)
    customer_writes(cloud, payloads.text("STOP", wa_id=ASHA_DIGITS))
    assert send_due_follow_ups() == 0
    assert db.session.scalar(select(func.count(DeliveryFollowUp.id))) == 0


def test_a_customer_who_agreed_again_after_stop_gets_the_follow_up(cloud, graph_api, variant_id):
    follow_ups_after(3)
    customer_writes(cloud, payloads.text("STOP", wa_id=ASHA_DIGITS))
    delivered(variant_id, days_ago=4)
    give_consent(ASHA)
    assert send_due_follow_ups() == 1


def test_the_follow_up_goes_once_across_racing_sweeps_and_restarts(make_app, graph_api):
    settings = cloud_settings(graph_api.url)
    first, second = make_app(**settings), make_app(**settings)
    with first.app_context():
        make_store(name="Test Shop")
        variant_id = make_product("Cotton Kurta", price_minor=89900, stock=50).variants[0].id
        follow_ups_after(3)
        orders = [delivered(variant_id, days_ago=4, phone=f"+9198765432{n:02d}").id for n in range(6)]
        db.session.remove()

    start, sent = threading.Barrier(2), []

    def sweep(app):
        with app.app_context():
            start.wait()
            sent.append(send_due_follow_ups())
            db.session.remove()

    workers = [threading.Thread(target=sweep, args=(app,)) for app in (first, second)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    restarted = make_app(**settings)  # a worker that starts again later: a new app, a new session
    with restarted.app_context():
        assert send_due_follow_ups() == 0
        outbox.run_due()
        assert sum(sent) == len(orders)
        keys = db.session.scalars(
            select(OutboxItem.idempotency_key).where(OutboxItem.idempotency_key.like("follow-up:%"))
        )
        assert sorted(keys) == sorted(f"follow-up:{order_id}" for order_id in orders)
        assert db.session.scalar(select(func.count(DeliveryFollowUp.id))) == len(orders)
        events = select(func.count(OrderEvent.id)).where(OrderEvent.kind == "follow_up")
        assert db.session.scalar(events) == len(orders)
        sent_follow_ups = select(func.count(Message.id)).where(Message.purpose == "delivery_follow_up")
        assert db.session.scalar(sent_follow_ups) == len(orders)
        db.session.remove()
