"""Ratings of delivered orders: reading a rating in a customer's words, and recording it (and its comment).

The delivered message and the follow-up ask for a rating from 1 to 5; customers answer "5", "5 stars",
"4/5", "⭐⭐⭐⭐⭐" or tap a row of the follow-up's list. A typed rating belongs to the customer's latest order
delivered within RATING_DAYS; the first rating of an order stands. After a rating the customer may add a
comment: their next message within COMMENT_HOURS is kept with it. Callers own the transaction.
"""

import re
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from checkout.extensions import db
from checkout.models.orders import Order, OrderEvent
from checkout.models.ratings import RATING_SOURCES, SCORE_MAX, SCORE_MIN, OrderRating
from checkout.orders import locks
from checkout.orders.lifecycle import OrderStatus, record_event
from checkout.phones import phone_forms

RATING_DAYS = 14  # longer than the latest follow-up (7 days) plus a week to answer it
COMMENT_HOURS = 24
COMMENT_MAX = 1000
DELIVERED = OrderStatus.DELIVERED.value
_STARS = "⭐🌟★✪✭✮✯✰"
_STAR_RATING = re.compile(f"^[{_STARS}\ufe0f\\s]+$")
_NUMBER_RATING = re.compile(
    r"^(?:rating\s*[:=-]?\s*|i\s+give\s+)?([1-5])(?:\.0)?\s*"
    rf"(?:/\s*5|out\s+of\s+5|of\s+5|stars?|[{_STARS}\ufe0f]+)?\s*(?:stars?)?[\s!.]*$",
    re.IGNORECASE,
)


def parse_rating(text: str) -> int | None:
    """The score a whole message gives ("5", "5 stars", "4/5", "⭐⭐⭐⭐", "rating: 3"), or None if it is not a rating."""
    text = (text or "").strip()
    if not text:
        return None
    if _STAR_RATING.match(text):
        stars = sum(character in _STARS for character in text)
        return stars if SCORE_MIN <= stars <= SCORE_MAX else None
    match = _NUMBER_RATING.match(text)
    return int(match.group(1)) if match else None


def delivered_at(order_id_column=Order.id):
    """SQL: when the order first became delivered (None if never)."""
    return (
        select(func.min(OrderEvent.created_at))
        .where(OrderEvent.order_id == order_id_column, OrderEvent.to_status == DELIVERED)
        .scalar_subquery()
    )


def latest_rateable_order(phone: str, now: datetime) -> Order | None:
    """The customer's latest order delivered within RATING_DAYS and not rated yet, locked; None if there is none."""
    forms = phone_forms(phone)
    if not forms:
        return None
    recently_delivered = exists().where(
        OrderEvent.order_id == Order.id,
        OrderEvent.to_status == DELIVERED,
        OrderEvent.created_at >= now - timedelta(days=RATING_DAYS),
    )
    query = (
        select(Order.id)
        .where(Order.customer_phone.in_(forms), Order.status == DELIVERED, recently_delivered)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(1)
    )
    order_id = db.session.scalar(query)
    if order_id is None:
        return None
    order = locks.lock_order(order_id)
    return order if order is not None and rating_of(order) is None else None


def rating_of(order: Order) -> OrderRating | None:
    return db.session.scalar(select(OrderRating).where(OrderRating.order_id == order.id))


def record_rating(order: Order, score: int, *, source: str, phone: str) -> OrderRating | None:
    """Record the order's rating (the caller holds the order's lock); None when it was rated already.

    In a savepoint: two taps of the same list row at once make one rating, the second finds it there.
    """
    if not SCORE_MIN <= score <= SCORE_MAX:
        raise ValueError(f"a rating is {SCORE_MIN} to {SCORE_MAX}, not {score}")
    if source not in RATING_SOURCES:
        raise ValueError(f"unknown rating source {source!r}")
    if rating_of(order) is not None:
        return None
    rating = OrderRating(order_id=order.id, score=score, source=source, customer_phone=phone)
    try:
        with db.session.begin_nested():
            db.session.add(rating)
    except IntegrityError:
        return None
    where = "the follow-up" if source == "follow_up" else "the delivered message"
    record_event(order, "rating", "customer", note=f"Rated {score}/5 on WhatsApp (answering {where})")
    return rating


def awaiting_comment(phone: str, now: datetime) -> OrderRating | None:
    """The customer's rating of the last COMMENT_HOURS that has no comment yet, if any: their next words are it."""
    forms = phone_forms(phone)
    if not forms:
        return None
    query = (
        select(OrderRating)
        .where(
            OrderRating.customer_phone.in_(forms),
            OrderRating.comment == "",
            OrderRating.created_at >= now - timedelta(hours=COMMENT_HOURS),
        )
        .order_by(OrderRating.id.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def record_comment(rating: OrderRating, text: str, now: datetime) -> None:
    """Keep the customer's words with their rating, once (the order's lock makes two at once go one by one)."""
    order = locks.lock_order(rating.order_id)
    db.session.refresh(rating)
    if order is None or rating.comment:
        return
    rating.comment = " ".join(text.split())[:COMMENT_MAX]
    rating.commented_at = now
    record_event(order, "rating", "customer", note=f"Comment with the rating: {rating.comment[:200]}")
