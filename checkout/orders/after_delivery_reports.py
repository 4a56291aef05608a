"""Dashboard figures after delivery: ratings and their trend, the comments, and how orders end.

- Ratings: the average of the last 30 days against the 30 before, the distribution, the latest comments.
- Orders placed in the period: the share of cash-on-delivery orders the customer confirmed (of those no longer
  waiting), the share of delivered orders delivered at the first attempt (never "delivery_failed"), the return
  rate (`returned_condition` over delivered orders), and the median time from order to delivery.
- The inbox: the median time from a customer's message to the next staff reply.

Each figure is one aggregate query, read alike on SQLite and PostgreSQL; four queries in all. Statuses of
failed deliveries and returns are compared by their names.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from checkout.database import seconds_between
from checkout.extensions import db
from checkout.models.messaging import Message
from checkout.models.orders import Order, OrderEvent
from checkout.models.ratings import SCORE_MAX, SCORE_MIN, OrderRating
from checkout.models.returns import ReturnRequest
from checkout.orders.ratings import delivered_at
from checkout.orders.reports import Period, describe_wait, last_days

DELIVERED, CONFIRMED, PENDING = "delivered", "confirmed", "pending"
DELIVERY_FAILED = "delivery_failed"
RETURN_STATUSES = ("returning", "returned")
ACCEPTED_RETURN_STATUSES = ("approved", "received", "refunded")
STAFF_REPLY_PURPOSE = "staff_message"  # checkout/staff/conversation.py's: a person wrote it
COMMENTS_SHOWN = 5
TREND_DAYS = 30


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _average(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


# --- ratings ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingSummary:
    period: Period
    previous: Period
    count: int
    average: float | None
    previous_count: int
    previous_average: float | None
    distribution: list[tuple[int, int, float | None]]  # (score, ratings, percent of the period's), 5 first

    @property
    def trend(self) -> float | None:
        """The change of the average against the period before; None when either has no rating."""
        if self.average is None or self.previous_average is None:
            return None
        return round(self.average - self.previous_average, 2)


def previous_period(period: Period) -> Period:
    length = period.end - period.start
    return Period(
        f"{period.key}-before",
        f"The {period.label.lower()} before",
        period.start - length,
        period.start,
        period.zone_name,
    )


def rating_summary(now: datetime, zone_name: str = "UTC", days: int = TREND_DAYS) -> RatingSummary:
    """Ratings given in the shop's last `days` days and in the `days` before them: one query grouped by score."""
    period = last_days(now, days, zone_name)
    previous = previous_period(period)
    in_period = and_(OrderRating.created_at >= period.start, OrderRating.created_at < period.end)
    rows = db.session.execute(
        select(
            OrderRating.score,
            func.count(OrderRating.id).filter(in_period),
            func.count(OrderRating.id).filter(OrderRating.created_at < previous.end),
        )
        .where(OrderRating.created_at >= previous.start, OrderRating.created_at < period.end)
        .group_by(OrderRating.score)
    ).all()
    now_counts = {score: count for score, count, _ in rows}
    before_counts = {score: count for score, _, count in rows}
    count, previous_count = sum(now_counts.values()), sum(before_counts.values())
    distribution = [
        (score, now_counts.get(score, 0), _percent(now_counts.get(score, 0), count))
        for score in range(SCORE_MAX, SCORE_MIN - 1, -1)
    ]
    return RatingSummary(
        period,
        previous,
        count,
        _average(sum(score * n for score, n in now_counts.items()), count),
        previous_count,
        _average(sum(score * n for score, n in before_counts.items()), previous_count),
        distribution,
    )


@dataclass(frozen=True)
class RatingComment:
    reference: str
    customer_name: str
    score: int
    comment: str
    at: datetime


def latest_comments(limit: int = COMMENTS_SHOWN) -> list[RatingComment]:
    """The newest ratings that came with words, newest first."""
    rows = db.session.execute(
        select(Order.reference, Order.customer_name, OrderRating.score, OrderRating.comment, OrderRating.commented_at)
        .join(Order, Order.id == OrderRating.order_id)
        .where(OrderRating.comment != "")
        .order_by(OrderRating.commented_at.desc(), OrderRating.id.desc())
        .limit(limit)
    ).all()
    return [RatingComment(*row) for row in rows]


# --- how orders end -----------------------------------------------------------------------------------------


def _reached(*statuses: str):
    return exists().where(OrderEvent.order_id == Order.id, OrderEvent.to_status.in_(statuses))


def returned_condition():
    """SQL: the order counts as returned: its parcel went back to the shop ("returning" or "returned" after a
    failed delivery), or the customer asked for a return after delivery and staff accepted it (a rejected
    request, or one handed to a person, is not a return)."""
    accepted = exists().where(ReturnRequest.order_id == Order.id, ReturnRequest.status.in_(ACCEPTED_RETURN_STATUSES))
    return or_(_reached(*RETURN_STATUSES), accepted)


@dataclass(frozen=True)
class DeliveryOutcomes:
    period: Period
    cod_decided: int  # cash-on-delivery orders no longer waiting for the customer
    cod_confirmed: int
    delivered: int
    delivered_first_attempt: int
    returned: int

    @property
    def cod_confirmation_rate(self) -> float | None:
        return _percent(self.cod_confirmed, self.cod_decided)

    @property
    def first_attempt_rate(self) -> float | None:
        return _percent(self.delivered_first_attempt, self.delivered)

    @property
    def return_rate(self) -> float | None:
        return _percent(self.returned, self.delivered)


def delivery_outcomes(period: Period) -> DeliveryOutcomes:
    """Orders placed in the period: COD confirmed, delivered (at the first attempt), returned. One query."""
    cod = Order.payment_method == "cod"
    delivered = _reached(DELIVERED)
    row = db.session.execute(
        select(
            func.count(Order.id).filter(cod, Order.status != PENDING),
            func.count(Order.id).filter(cod, _reached(CONFIRMED)),
            func.count(Order.id).filter(delivered),
            func.count(Order.id).filter(delivered, ~_reached(DELIVERY_FAILED)),
            func.count(Order.id).filter(returned_condition()),
        ).where(Order.created_at >= period.start, Order.created_at < period.end)
    ).one()
    return DeliveryOutcomes(period, *(int(value or 0) for value in row))


# --- medians ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MedianTimes:
    period: Period
    order_to_delivery: timedelta | None
    staff_response: timedelta | None

    @property
    def order_to_delivery_label(self) -> str:
        return describe_wait(self.order_to_delivery) if self.order_to_delivery is not None else ""

    @property
    def staff_response_label(self) -> str:
        return describe_wait(self.staff_response) if self.staff_response is not None else ""


def _order_to_delivery_waits(period: Period):
    """Seconds from placing to (first) delivery, for orders placed in the period and delivered."""
    delivered = delivered_at()
    return select(
        literal("delivery").label("what"), seconds_between(delivered, Order.created_at).label("seconds")
    ).where(Order.created_at >= period.start, Order.created_at < period.end, delivered.is_not(None))


def _staff_response_waits(period: Period):
    """Seconds from a customer's message to the staff reply that answered it, for staff replies in the period.

    A reply answers the customer's first message since the shop's previous staff reply to that number (the
    customer's later messages in between wait less, and are not counted again); messages before the period
    and chats no person answered are not counted.
    """
    reply, earlier_reply, inbound = aliased(Message), aliased(Message), aliased(Message)
    is_staff_reply = and_(reply.direction == "out", reply.purpose == STAFF_REPLY_PURPOSE)
    previous_reply_id = (
        select(func.max(earlier_reply.id))
        .where(
            earlier_reply.phone == reply.phone,
            earlier_reply.direction == "out",
            earlier_reply.purpose == STAFF_REPLY_PURPOSE,
            earlier_reply.id < reply.id,
        )
        .correlate(reply)
        .scalar_subquery()
    )
    first_unanswered = (
        select(func.min(inbound.created_at))
        .where(
            inbound.phone == reply.phone,
            inbound.direction == "in",
            inbound.id < reply.id,
            inbound.id > func.coalesce(previous_reply_id, 0),
            inbound.created_at >= period.start,
        )
        .correlate(reply)
        .scalar_subquery()
    )
    return select(
        literal("response").label("what"), seconds_between(reply.created_at, first_unanswered).label("seconds")
    ).where(
        is_staff_reply,
        reply.phone != "",
        reply.created_at >= period.start,
        reply.created_at < period.end,
        first_unanswered.is_not(None),
    )


def median_times(period: Period) -> MedianTimes:
    """The median time from order to delivery and the median staff response: one query, medians by ranking
    (SQLite has no median function; ranking reads alike on both databases)."""
    waits = union_all(_order_to_delivery_waits(period), _staff_response_waits(period)).subquery("waits")
    ranked = select(
        waits.c.what,
        waits.c.seconds,
        func.row_number().over(partition_by=waits.c.what, order_by=waits.c.seconds).label("rank"),
        func.count().over(partition_by=waits.c.what).label("count"),
    ).subquery("ranked")
    middle = and_(ranked.c.rank * 2 >= ranked.c.count, ranked.c.rank * 2 <= ranked.c.count + 2)
    rows = db.session.execute(
        select(ranked.c.what, func.avg(case((ranked.c.seconds < 0, 0.0), else_=ranked.c.seconds)))
        .where(middle)
        .group_by(ranked.c.what)
    ).all()
    medians = {what: timedelta(seconds=round(float(seconds))) for what, seconds in rows if seconds is not None}
    return MedianTimes(period, medians.get("delivery"), medians.get("response"))
