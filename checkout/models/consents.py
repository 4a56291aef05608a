"""A customer's consent to WhatsApp updates and reminders: given at checkout, withdrawn by "STOP" or by staff.

One row per time consent was given, kept after it is withdrawn: the history shows who agreed to what
words, where and when, and how it ended. A number has consent while one of its rows is not withdrawn.
"""

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db

CONSENT_SOURCES = ("website", "widget", "api", "whatsapp")
WITHDRAWAL_WAYS = ("stop_message", "staff")


class Consent(db.Model):
    __tablename__ = "consents"
    __table_args__ = (
        CheckConstraint("source IN ('website', 'widget', 'api', 'whatsapp')", name="source_known"),
        CheckConstraint("withdrawn_by IN ('', 'stop_message', 'staff')", name="withdrawn_by_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164
    source: Mapped[str] = mapped_column(String(16))  # where the box was ticked
    wording: Mapped[str] = mapped_column(Text)  # exactly what the customer was shown
    given_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True, index=True)
    withdrawn_at = mapped_column(UTCDateTime, nullable=True)
    withdrawn_by: Mapped[str] = mapped_column(String(16), default="")  # stop_message or staff
    withdrawal_note: Mapped[str] = mapped_column(String(200), default="")  # the customer's words, or the staff name
