"""The customer service window: free-form messages only within 24 hours of the customer's last message.

Outside it WhatsApp accepts nothing but an approved template (and refuses anything else with 131047).
"""

from datetime import timedelta

from sqlalchemy import select

from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.messaging import Contact

WINDOW = timedelta(hours=24)


def in_window(phone: str) -> bool:
    """Has this number written to us in the last 24 hours? Then free-form messages may be sent."""
    last = db.session.scalar(select(Contact.last_inbound_at).where(Contact.phone == phone))
    return last is not None and last > utcnow() - WINDOW
