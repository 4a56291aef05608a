"""Payment requests: what the shop asked a customer to pay, through which provider, and how it went."""

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db
from checkout.models.orders import Order

REQUEST_STATUSES = ("requested", "paid", "expired", "failed")


class PaymentRequest(db.Model):
    """One request for payment of an order: the link or code the customer was sent.

    `failed` means the provider could not make the link (down, timed out, refused); the sweep asks again at
    `next_attempt_at` (None: it gave up) and `attempts` / `last_error` tell staff how that is going. A
    provider's webhook finds the request by (provider, provider_reference). `reminded_at` and
    `unpaid_limit_at` record the one reminder and the one act on the shop's unpaid limit
    (checkout/payments/reminders.py), so neither happens twice.
    """

    __tablename__ = "payment_requests"
    __table_args__ = (
        UniqueConstraint("provider", "provider_reference"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("status IN ('requested', 'paid', 'expired', 'failed')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    # Empty until the provider answered; a failed request keeps a placeholder unique per request.
    provider_reference: Mapped[str] = mapped_column(String(120))
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    url: Mapped[str] = mapped_column(Text, default="")
    qr_payload: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="requested")
    trigger: Mapped[str] = mapped_column(String(20), default="on_demand")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    next_attempt_at = mapped_column(UTCDateTime, nullable=True)
    reminded_at = mapped_column(UTCDateTime, nullable=True)
    unpaid_limit_at = mapped_column(UTCDateTime, nullable=True)

    order: Mapped[Order] = relationship()
