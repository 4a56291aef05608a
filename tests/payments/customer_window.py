"""The customer's 24-hour window as a test sets it: when they last wrote to the shop on WhatsApp."""

from datetime import timedelta

from sqlalchemy import select

from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.messaging import Contact


def customer_wrote(phone: str, ago: timedelta = timedelta(minutes=1)) -> None:
    """The customer wrote `ago`: within a day, free-form messages may go; longer ago, only templates."""
    contact = db.session.scalar(select(Contact).where(Contact.phone == phone))
    if contact is None:
        contact = Contact(phone=phone, wa_id=phone.lstrip("+"))
        db.session.add(contact)
    contact.last_inbound_at = utcnow() - ago
    db.session.commit()
