"""After delivery on WhatsApp: the one "how was it?" follow-up, and the customer's rating and comment replies.

The follow-up goes `follow_up_after_days` (a shop setting, off by default) after an order is delivered: a
list of the five ratings inside the 24-hour window, the approved delivery_follow_up template outside it.
Never to a number that said STOP, never to an order already rated, never twice: the sweep locks the order
(skipping those another worker holds), looks again for the order's follow-up row, and writes that row, the
outbox message (its key unique per order) and the timeline entry in one transaction.

Replies: a tap on the list, or a typed rating ("5", "⭐⭐⭐⭐⭐") answering the delivered message or the
template, is recorded (checkout/orders/ratings.py) and thanked; the customer's next words are the comment.
Other messages are left to the rest of the conversation.
"""

from datetime import datetime, timedelta

from sqlalchemy import exists, select

from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.conversations import Conversation
from checkout.models.messaging import Message
from checkout.models.orders import Order, OrderEvent
from checkout.models.ratings import DeliveryFollowUp, OrderRating
from checkout.models.store import StoreSettings, get_store_settings
from checkout.orders import locks, ratings
from checkout.orders.lifecycle import OrderStatus, record_event
from checkout.outbox import enqueue_whatsapp
from checkout.phones import phone_forms
from checkout.shop.quiet_hours import is_quiet
from checkout.whatsapp import chats, intents, templates
from checkout.whatsapp.consent import opted_out
from checkout.whatsapp.conversation_window import in_window
from checkout.whatsapp.interactive import ListRow, list_message
from checkout.whatsapp.messages import OutboundMessage, template_message, text_message
from checkout.whatsapp.providers import messaging_enabled

PURPOSE = "delivery_follow_up"
RATE_PREFIX = "rate:"
# A shop turning follow-ups on writes to orders delivered in the days just due, not to every customer it
# ever delivered to; a sweep that missed a day or two (the shop's quiet hours, a stopped worker) catches up.
LATE_DAYS = 3
RATING_LABELS = {5: "Excellent", 4: "Good", 3: "Okay", 2: "Poor", 1: "Very poor"}


# --- the messages -------------------------------------------------------------------------------------------


def rating_row_id(order: Order, score: int) -> str:
    return f"{RATE_PREFIX}{order.reference}:{score}"


def rating_from_reply(reply_id: str) -> tuple[str, int] | None:
    """'rate:ABCD-2345:5' → ('ABCD-2345', 5); anything else → None."""
    if not reply_id.startswith(RATE_PREFIX):
        return None
    reference, _, score = reply_id[len(RATE_PREFIX) :].rpartition(":")
    if not reference or not score.isdigit() or not 1 <= int(score) <= 5:
        return None
    return reference.strip().upper(), int(score)


def follow_up_request(order: Order, settings: StoreSettings, *, in_window: bool, language: str) -> OutboundMessage:
    """ "How was it?": the five ratings as a list inside the window, the delivery_follow_up template outside it."""
    if not in_window:
        values = [order.customer_name, order.reference, settings.name]
        return template_message(PURPOSE, templates.DELIVERY_FOLLOW_UP, values, language)
    body = (
        f"Hi {order.customer_name}, your order {order.reference} from {settings.name} was delivered a few days "
        "ago. How was it? Pick a rating; you can tell us more after."
    )
    rows = [ListRow(rating_row_id(order, score), f"{'⭐' * score} {score}", label) for score, label in _labels()]
    return list_message(PURPOSE, body, "Rate your order", rows)


def _labels():
    return sorted(RATING_LABELS.items(), reverse=True)


def rating_thanks(order: Order, score: int) -> OutboundMessage:
    return text_message(
        "reply:rating",
        f"Thank you for rating order {order.reference} {score}/5! Anything you'd like to add? "
        "Just write it here (or ignore this message).",
    )


def already_rated(order: Order, rating: OrderRating) -> OutboundMessage:
    return text_message(
        "reply:rating", f"Thanks! We already have your rating of order {order.reference} ({rating.score}/5)."
    )


def comment_thanks(settings: StoreSettings) -> OutboundMessage:
    return text_message("reply:rating_comment", f"Thank you, we have passed your words on to {settings.name}.")


# --- the sweep ------------------------------------------------------------------------------------------------


def _follow_ups_due(now: datetime, days: int, settings: StoreSettings):
    delivered_in_time = exists().where(
        OrderEvent.order_id == Order.id,
        OrderEvent.to_status == OrderStatus.DELIVERED.value,
        OrderEvent.created_at <= now - timedelta(days=days),
        OrderEvent.created_at > now - timedelta(days=days + LATE_DAYS),
    )
    return select(Order).where(
        Order.status == OrderStatus.DELIVERED.value,
        delivered_in_time,
        ~exists().where(DeliveryFollowUp.order_id == Order.id),
        ~exists().where(OrderRating.order_id == Order.id),
        ~opted_out(Order.customer_phone, settings),
    )


def _claimed(order: Order) -> bool:
    """Read afresh after the lock: a sweep that committed between our query and our lock has its row there."""
    claimed = exists().where(DeliveryFollowUp.order_id == order.id)
    rated = exists().where(OrderRating.order_id == order.id)
    return bool(db.session.scalar(select(claimed | rated)))


def send_due_follow_ups(limit: int = 200, now: datetime | None = None) -> int:
    """One follow-up per delivered order, `follow_up_after_days` after delivery, if the shop turned them on.

    Not in the shop's quiet hours (the next sweep after them sends). However many workers sweep at once and
    however often they restart, an order gets one: see the module's docstring.
    """
    settings = get_store_settings()
    days = settings.follow_up_after_days
    if not days or not messaging_enabled():
        return 0
    now = now or utcnow()
    if is_quiet(settings, now):
        return 0
    sent = 0
    for order in locks.lock_unheld_orders(_follow_ups_due(now, days, settings).limit(limit)):
        if _claimed(order):
            continue
        outbound = follow_up_request(
            order,
            settings,
            in_window=in_window(order.customer_phone),
            language=chats.template_language_for(order.customer_phone),
        )
        message = enqueue_whatsapp(outbound, phone=order.customer_phone, key=f"follow-up:{order.id}", order=order)
        db.session.add(DeliveryFollowUp(order_id=order.id, message=message, sent_at=now))
        record_event(order, "follow_up", "system", note="Asked on WhatsApp how the order was (rating 1–5)")
        sent += 1
    db.session.commit()
    return sent


# --- the replies ----------------------------------------------------------------------------------------------


def take_rating_tap(row: Message, reply_id: str, *, fresh: bool) -> bool:
    """A tap on the follow-up's list: recorded on the order it names (the sender's own), thanked when fresh."""
    parsed = rating_from_reply(reply_id)
    if parsed is None:
        return False
    reference, score = parsed
    order = locks.lock_order_by_reference(reference)
    if order is None or not row.phone or order.customer_phone not in phone_forms(row.phone):
        return True  # someone else's order, or none: nothing to record, and nothing to tell a stranger
    row.order_id = order.id
    rating = ratings.record_rating(order, score, source="follow_up", phone=row.phone)
    if fresh:
        outbound = rating_thanks(order, score) if rating else already_rated(order, ratings.rating_of(order))
        enqueue_whatsapp(outbound, phone=row.phone, key=f"reply:{row.wamid}", order=order)
    return True


def take_text(row: Message, conversation: Conversation | None, *, fresh: bool, bot_answers: bool) -> bool:
    """A typed rating of the latest delivered order, or the comment after a rating; False: not ours, untouched.

    Not while the ordering chat is under way (a "2" there is a quantity or a choice).
    """
    if not row.phone or (conversation is not None and conversation.flow_step):
        return False
    now = utcnow()
    score = ratings.parse_rating(row.body_text)
    if score is not None:
        order = ratings.latest_rateable_order(row.phone, now)
        if order is None:
            return False
        row.order_id = order.id
        source = "follow_up" if _follow_up_sent(order) else "delivered_message"
        ratings.record_rating(order, score, source=source, phone=row.phone)
        if fresh and bot_answers:
            enqueue_whatsapp(rating_thanks(order, score), phone=row.phone, key=f"reply:{row.wamid}", order=order)
        return True
    if not bot_answers or _asks_for_something(row.body_text):
        return False
    rating = ratings.awaiting_comment(row.phone, now)
    if rating is None:
        return False
    row.order_id = rating.order_id
    ratings.record_comment(rating, row.body_text, now)
    if fresh:
        outbound = comment_thanks(get_store_settings())
        enqueue_whatsapp(outbound, phone=row.phone, key=f"reply:{row.wamid}", order=rating.order)
    return True


def _asks_for_something(text: str) -> bool:
    """Words that start something else (ordering again, a person, stopping) are never taken as a comment."""
    return intents.wants_to_order(text) or intents.wants_a_person(text) or intents.wants_to_stop_ordering(text)


def _follow_up_sent(order: Order) -> bool:
    return db.session.scalar(select(exists().where(DeliveryFollowUp.order_id == order.id))) or False
