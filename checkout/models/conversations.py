"""Conversations: one customer's chat with the shop, as the staff inbox and the in-chat ordering flow see it.

A conversation exists for every contact who has written, with or without an order. It carries what the
inbox lists (last activity, unread count, a preview, who handles it) and where the chat ordering flow
stands (its step, what it has gathered so far, and the server cart it fills). The messages themselves
stay in `messages`, found by the customer's phone.
"""

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db

HANDLERS = ("bot", "person")
MEDIA_STATES = ("pending", "stored", "failed")
PREVIEW_MAX = 200


class Conversation(db.Model):
    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint("handled_by IN ('bot', 'person')", name="handled_by_known"),
        Index("ix_conversations_activity", "last_activity_at", "id"),
        # The inbox badge and the "unread" filter read only the conversations with something unread.
        Index(
            "ix_conversations_unread",
            "last_activity_at",
            "id",
            postgresql_where=text("unread_count > 0"),
            sqlite_where=text("unread_count > 0"),
        ),
        Index(
            "ix_conversations_waiting",
            "waiting_since",
            postgresql_where=text("waiting_since IS NOT NULL"),
            sqlite_where=text("waiting_since IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), unique=True)
    phone: Mapped[str] = mapped_column(String(20), default="", index=True)  # E.164, "" for a username-only sender
    name: Mapped[str] = mapped_column(String(120), default="")  # the WhatsApp profile name, for the list and search
    # Who answers: the bot until a person takes the conversation (or it is handed over); a person until handed back.
    handled_by: Mapped[str] = mapped_column(String(8), default="bot")
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True, index=True)
    waiting_since = mapped_column(UTCDateTime, nullable=True)  # waiting for a person since; None when nobody waits
    last_activity_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_inbound_at = mapped_column(UTCDateTime, nullable=True)
    last_preview: Mapped[str] = mapped_column(String(PREVIEW_MAX), default="")
    unread_count: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str] = mapped_column(String(8), default="")  # the customer's language, once known
    # The chat ordering flow: the step it waits at ("" when no flow runs), what it has gathered, its cart.
    flow_step: Mapped[str] = mapped_column(String(24), default="")
    flow_data: Mapped[dict] = mapped_column(db.JSON, default=dict)
    flow_touched_at = mapped_column(UTCDateTime, nullable=True)
    misunderstood: Mapped[int] = mapped_column(Integer, default=0)  # the bot's misunderstandings in a row
    cart_id: Mapped[int | None] = mapped_column(ForeignKey("carts.id", ondelete="SET NULL"), nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    contact = relationship("Contact")
    assigned_to = relationship("StaffUser")
    cart = relationship("Cart")


class ConversationNote(db.Model):
    """A staff member's internal note on a conversation: never sent to the customer."""

    __tablename__ = "conversation_notes"
    __table_args__ = (Index("ix_conversation_notes_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    author = relationship("StaffUser")


class QuickReply(db.Model):
    """A reply the shop saved, one click away in the inbox's reply box."""

    __tablename__ = "quick_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class MediaFile(db.Model):
    """A picture, document, voice note or video a customer sent, downloaded and kept: Meta's media URLs expire."""

    __tablename__ = "media_files"
    __table_args__ = (CheckConstraint("status IN ('pending', 'stored', 'failed')", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    media_id: Mapped[str] = mapped_column(String(128))  # Meta's id, for GET /{media-id}
    mime_type: Mapped[str] = mapped_column(String(100), default="")
    file_name: Mapped[str] = mapped_column(String(255), default="")
    size_bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    storage_path: Mapped[str] = mapped_column(String(255), default="")  # relative to the media folder
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(300), default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    stored_at = mapped_column(UTCDateTime, nullable=True)

    message = relationship("Message")
