"""Paid service sessions: the minutes an order bought of a staff member's time in the WhatsApp chat.

One session per paid order with service lines. It waits until the first staff reply in the inbox starts it
(so the customer's wait is not charged), runs for its minutes, and ends; a new paid order renews it.
"""

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db


class ServiceSession(db.Model):
    __tablename__ = "service_sessions"
    __table_args__ = (
        CheckConstraint("minutes > 0", name="minutes_positive"),
        CheckConstraint("(started_at IS NULL) = (ends_at IS NULL)", name="started_with_its_end"),
        Index("ix_service_sessions_phone", "customer_phone", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    customer_phone: Mapped[str] = mapped_column(String(20))  # the order's, E.164: how the inbox finds it
    minutes: Mapped[int] = mapped_column(Integer)
    # Who started it with the first reply; the name is kept should the account go.
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    staff_name: Mapped[str] = mapped_column(String(80), default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)  # paid: waiting for the first reply
    started_at = mapped_column(UTCDateTime, nullable=True)
    ends_at = mapped_column(UTCDateTime, nullable=True)
    ended_at = mapped_column(UTCDateTime, nullable=True)  # the sweep saw it run out and asked to renew

    order = relationship("Order")
    staff_user = relationship("StaffUser")
