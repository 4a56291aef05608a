"""Couriers that report to Chatout by webhook, and each event they sent, stored as it arrived."""

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db


class Carrier(db.Model):
    """One configured courier: its webhook address is /webhooks/carriers/<name>.

    `preset` names how its bodies are read (checkout/carriers/presets.py) or "generic", read through `paths`
    (our field → dotted path in the body). `status_map` turns the courier's status names into our events.
    `secret` signs (HMAC) or is the token; it is shown to staff once, when made.
    """

    __tablename__ = "carriers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(80), default="")
    preset: Mapped[str] = mapped_column(String(24), default="generic")
    auth: Mapped[str] = mapped_column(String(8), default="token")
    auth_header: Mapped[str] = mapped_column(String(64), default="")
    secret: Mapped[str] = mapped_column(String(128))
    paths: Mapped[dict] = mapped_column(db.JSON, default=dict)
    status_map: Mapped[dict] = mapped_column(db.JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where the customer's choice after a failed delivery is passed on (checkout/carriers/actions.py): an optional
    # URL the courier offers, and the bearer token it wants. "" when the courier has no such API.
    action_url: Mapped[str] = mapped_column(String(300), default="", server_default="")
    action_token: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class CarrierEvent(db.Model):
    """One authenticated courier event, once per (carrier, dedupe key): couriers resend, a resend changes nothing.

    `mapped_event` is our reading of the courier's `carrier_status` ("" when the status is not in the carrier's
    table); `outcome` says what processing did ("shipped", "already", "out_of_order", "unknown_tracking"…),
    `error` why it failed (it then stays unprocessed, to be tried again).
    """

    __tablename__ = "carrier_events"
    __table_args__ = (UniqueConstraint("carrier_id", "dedupe_key", name="uq_carrier_events_carrier_dedupe"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(255))
    received_at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    body: Mapped[str] = mapped_column(Text)
    tracking_number: Mapped[str] = mapped_column(String(80), default="", index=True)
    carrier_status: Mapped[str] = mapped_column(String(80), default="")
    mapped_event: Mapped[str] = mapped_column(String(24), default="")
    occurred: Mapped[str] = mapped_column(String(40), default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True, index=True)
    processed_at = mapped_column(UTCDateTime, nullable=True, index=True)
    outcome: Mapped[str] = mapped_column(String(24), default="")
    error: Mapped[str] = mapped_column(String(500), default="")

    carrier = relationship(Carrier, lazy="joined", innerjoin=True)
    order = relationship("Order", lazy="joined")
