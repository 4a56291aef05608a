"""Payment providers' webhook events, stored exactly as they arrived before anything is done with them."""

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db


class PaymentEvent(db.Model):
    """One verified provider event, once per (provider, event id): providers resend, and a resend changes nothing.

    `processed_at` is set when the event has been acted on, `outcome` says how ("paid", "short", "over",
    "cancelled_order", "ignored"…), `error` why processing failed (it stays unprocessed, to be tried again by
    the sweep at `next_attempt_at`, up to MAX_EVENT_ATTEMPTS `attempts` in all: checkout/payments/events.py).
    """

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("provider", "event_id", name="uq_payment_events_provider_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    received_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    body: Mapped[str] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True, index=True)
    processed_at = mapped_column(UTCDateTime, nullable=True, index=True)
    outcome: Mapped[str] = mapped_column(String(24), default="")
    error: Mapped[str] = mapped_column(String(500), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at = mapped_column(UTCDateTime, nullable=True)
