"""Returns after delivery: the customer's request (reason, comment, photos sent in the chat) and where staff took it.

A return is its own record beside the order: the order stays "delivered" while its return is requested,
approved or rejected, received and refunded (checkout/orders/returns.py holds the rules).
"""

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db

RETURN_REASONS = ("damaged", "wrong_item", "not_as_described", "other")
RETURN_STATUSES = ("requested", "approved", "rejected", "received", "refunded", "sent_to_person")
COMMENT_MAX = 1000
STAFF_NOTE_MAX = 500


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class ReturnRequest(db.Model):
    __tablename__ = "return_requests"
    __table_args__ = (
        CheckConstraint(_in("reason", RETURN_REASONS), name="reason_known"),
        CheckConstraint(_in("status", RETURN_STATUSES), name="status_known"),
        Index("ix_return_requests_status_created", "status", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20), default="other")
    comment: Mapped[str] = mapped_column(Text, default="")  # the customer's words, exactly as typed
    status: Mapped[str] = mapped_column(String(16), default="requested")
    # What staff told the customer: how to send it back (approved) or why not (rejected).
    staff_note: Mapped[str] = mapped_column(String(STAFF_NOTE_MAX), default="")
    refund_minor: Mapped[int] = mapped_column(Integer, default=0)  # what was given back for it
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    order = relationship("Order")
    photos: Mapped[list["ReturnPhoto"]] = relationship(
        back_populates="return_request", order_by="ReturnPhoto.id", cascade="all, delete-orphan"
    )


class ReturnPhoto(db.Model):
    """A picture or document the customer sent in the chat for a return: the inbound media, kept as all media is."""

    __tablename__ = "return_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_request_id: Mapped[int] = mapped_column(ForeignKey("return_requests.id"), index=True)
    media_file_id: Mapped[int] = mapped_column(ForeignKey("media_files.id"), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    return_request: Mapped[ReturnRequest] = relationship(back_populates="photos")
    media_file = relationship("MediaFile")
