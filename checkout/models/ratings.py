"""After delivery: the customer's rating of an order, and the one follow-up message that asks for it.

One rating per order (the first one stands), from 1 to 5, with an optional comment the customer adds in
their next message; where it came from says whether they answered the delivered message or the follow-up.
A follow-up row is the claim of the one "how was it?" message: written in the same transaction as the
outbox message, under the order's lock, and unique per order, so no sweep sends a second.
"""

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db

RATING_SOURCES = ("delivered_message", "follow_up")
SCORE_MIN, SCORE_MAX = 1, 5


class OrderRating(db.Model):
    __tablename__ = "order_ratings"
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score_in_range"),
        CheckConstraint("source IN ('delivered_message', 'follow_up')", name="source_known"),
        Index("ix_order_ratings_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20))
    customer_phone: Mapped[str] = mapped_column(String(20), default="", index=True)  # E.164, for the comment
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    commented_at = mapped_column(UTCDateTime, nullable=True)

    order = relationship("Order")


class DeliveryFollowUp(db.Model):
    """The one "how was it?" message of an order: its row exists if and only if the message was queued."""

    __tablename__ = "delivery_follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), nullable=True)
    sent_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    message = relationship("Message")
