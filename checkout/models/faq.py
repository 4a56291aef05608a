"""The shop's answers to questions customers ask in WhatsApp: keywords that recognise the question, and the answer.

While a customer orders in the chat, a message that matches an active entry's keywords gets its answer, and
the order continues. Entries are tried in `position` order (then oldest first) when several match equally.
"""

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db


class FaqEntry(db.Model):
    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(String(200))  # how staff recognise the entry in the list
    keywords: Mapped[str] = mapped_column(String(500))  # comma-separated phrases, any one of which matches
    answer: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    @property
    def keyword_list(self) -> list[str]:
        return [keyword.strip() for keyword in self.keywords.split(",") if keyword.strip()]
