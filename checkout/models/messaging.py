"""WhatsApp messages (both directions), the transactional outbox, and the raw webhook store."""

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db


class Contact(db.Model):
    """A customer as WhatsApp knows them. `last_inbound_at` opens the 24-hour window for free-form messages."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True, nullable=True)  # E.164
    wa_id: Mapped[str] = mapped_column(String(32), default="", index=True)
    user_id: Mapped[str] = mapped_column(String(128), default="", index=True)  # business-scoped user id
    name: Mapped[str] = mapped_column(String(120), default="")
    last_inbound_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class Message(db.Model):
    """One WhatsApp message, ours or the customer's. Outbound ones are sent through the outbox."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("direction IN ('in', 'out')", name="direction_known"),
        Index("ix_messages_order_created", "order_id", "id"),
        Index("ix_messages_phone_created", "phone", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True)
    phone: Mapped[str] = mapped_column(String(20), default="")  # E.164 of the customer (or staff member)
    wa_id: Mapped[str] = mapped_column(String(32), default="")
    user_id: Mapped[str] = mapped_column(String(128), default="")
    kind: Mapped[str] = mapped_column(String(24))  # text, interactive, template, button, location, …
    purpose: Mapped[str] = mapped_column(String(40), default="")  # order_confirmation, status:shipped, reply…
    payload: Mapped[dict] = mapped_column(db.JSON, default=dict)  # what we send / what Meta sent us
    body_text: Mapped[str] = mapped_column(Text, default="")  # readable text for the timeline and simulator
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued sent delivered read failed received
    wamid: Mapped[str | None] = mapped_column(String(160), unique=True, nullable=True)
    context_wamid: Mapped[str] = mapped_column(String(160), default="")  # the message this one replies to
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_title: Mapped[str] = mapped_column(String(300), default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    sent_at = mapped_column(UTCDateTime, nullable=True)
    delivered_at = mapped_column(UTCDateTime, nullable=True)
    read_at = mapped_column(UTCDateTime, nullable=True)

    order = relationship("Order")
    # An inbound picture, document or voice note, once noted for download (checkout/whatsapp/media.py).
    media = relationship("MediaFile", uselist=False, viewonly=True)


class OutboxItem(db.Model):
    """Work that must happen after a commit — a WhatsApp send, a call to the shop's own webhook.

    Written in the same transaction as the change that causes it, so it exists if and only if the
    change does. Workers claim items one at a time; `ordering_key` keeps one customer's messages
    in order; `idempotency_key` makes a repeated enqueue a no-op.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'done', 'failed')", name="status_known"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_ordering", "ordering_key", "id"),
        Index("ix_outbox_done_at", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))  # whatsapp, shop_webhook
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), nullable=True, unique=True)
    payload: Mapped[dict] = mapped_column(db.JSON, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    ordering_key: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    claimed_until = mapped_column(UTCDateTime, nullable=True)
    last_attempt_at = mapped_column(UTCDateTime, nullable=True)  # when the latest send began: pacing, in-doubt wait
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False)  # a send timed out: it may have gone out
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    done_at = mapped_column(UTCDateTime, nullable=True)

    message: Mapped[Message | None] = relationship()


class WebhookEvent(db.Model):
    """A signed webhook POST exactly as it arrived; processed after the 200 has gone back to Meta."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    body: Mapped[str] = mapped_column(Text)
    processed_at = mapped_column(UTCDateTime, nullable=True, index=True)
    error: Mapped[str] = mapped_column(String(500), default="")


class MessageStatusUpdate(db.Model):
    """Each (message, status) pair once: Meta repeats status webhooks and sends them out of order."""

    __tablename__ = "message_status_updates"
    __table_args__ = (UniqueConstraint("wamid", "status", name="uq_message_status_updates_wamid_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wamid: Mapped[str] = mapped_column(String(160))
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_title: Mapped[str] = mapped_column(String(300), default="")
    received_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class SendingPause(db.Model):
    """A time WhatsApp refused the shop's whole account (expired token, locked account…) and sending stopped.

    While a pause is open no worker on any host sends WhatsApp messages; they wait, pending. One waiting
    message is tried now and then (`next_probe_at`) and the first that gets through ends the pause.
    `open_slot` is 1 on the open pause and NULL on ended ones: its unique constraint lets only one be open,
    so two workers hitting the same error at once open one pause (and alert staff once).
    """

    __tablename__ = "sending_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    open_slot: Mapped[int | None] = mapped_column(Integer, unique=True, nullable=True)
    started_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ended_at = mapped_column(UTCDateTime, nullable=True)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_title: Mapped[str] = mapped_column(String(300), default="")
    probes: Mapped[int] = mapped_column(Integer, default=0)  # tries since the pause began, all refused
    next_probe_at = mapped_column(UTCDateTime, nullable=False)
