"""The shop's own settings: one row, edited by the owner."""

from collections.abc import Callable

from flask import g
from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, object_session

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db

PAYMENT_METHOD_LABELS = {
    "cod": "Cash on delivery",
    "transfer": "Bank / UPI transfer on confirmation",
}


class StoreSettings(db.Model):
    __tablename__ = "store_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), default="My Shop")
    tagline: Mapped[str] = mapped_column(String(160), default="")
    whatsapp_number: Mapped[str] = mapped_column(String(20), default="")  # E.164, e.g. +919876543210
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    locale: Mapped[str] = mapped_column(String(16), default="en_IN")
    default_region: Mapped[str] = mapped_column(String(2), default="IN")
    delivery_fee_minor: Mapped[int] = mapped_column(Integer, default=0)
    free_delivery_threshold_minor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pickup_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    pickup_address: Mapped[str] = mapped_column(Text, default="")
    reservation_hours: Mapped[int] = mapped_column(Integer, default=24)
    payment_methods: Mapped[list] = mapped_column(db.JSON, default=lambda: ["cod", "transfer"])
    logo_url: Mapped[str] = mapped_column(String(300), default="")
    low_stock_threshold: Mapped[int] = mapped_column(Integer, default=5)
    # Texts the shop can change: the handoff greeting and one per status notification (see checkout/messages).
    message_texts: Mapped[dict] = mapped_column(db.JSON, default=dict)
    # WhatsApp conversations: the one reminder for unanswered confirmations, and who hears of new orders.
    reminder_hours: Mapped[int] = mapped_column(Integer, default=6)
    staff_alert_numbers: Mapped[list] = mapped_column(db.JSON, default=list)  # E.164 numbers
    # The shop's own systems: order events are POSTed here, signed with the secret.
    webhook_url: Mapped[str] = mapped_column(String(300), default="")
    webhook_secret: Mapped[str] = mapped_column(String(100), default="")
    # The website plugin: sites allowed to call the Store API from a browser, and the chat button.
    allowed_origins: Mapped[list] = mapped_column(db.JSON, default=list)  # e.g. ["https://myshop.example"]
    widget_numbers: Mapped[list] = mapped_column(db.JSON, default=list)  # agents' E.164 numbers; empty: the shop's
    widget_rotation: Mapped[str] = mapped_column(String(16), default="round_robin")  # or "random"
    widget_greeting: Mapped[str] = mapped_column(String(200), default="")
    # {"mon": ["09:00", "18:00"], …, "timezone": "Asia/Kolkata"}; empty: always open
    working_hours: Mapped[dict] = mapped_column(db.JSON, default=dict)

    @property
    def whatsapp_digits(self) -> str:
        """The number as wa.me wants it: international digits, no '+'."""
        return self.whatsapp_number.lstrip("+")

    @property
    def payment_choices(self) -> list[tuple[str, str]]:
        return [(m, PAYMENT_METHOD_LABELS[m]) for m in self.payment_methods if m in PAYMENT_METHOD_LABELS]


def get_store_settings() -> StoreSettings:
    """The settings row, created with defaults the first time it is asked for.

    Held in `g` while the session lasts: the session only keeps a weak reference, so a page rendered in
    parts (and every price on it) would otherwise load the row again.
    """
    held = g.get("_store_settings")
    if held is not None and object_session(held) is db.session():
        return held
    settings = db.session.get(StoreSettings, 1)
    if settings is None:
        settings = StoreSettings(id=1)
        db.session.add(settings)
        db.session.flush()
    g._store_settings = settings
    return settings


def save_store_settings(values_for: Callable[[StoreSettings], dict]) -> StoreSettings:
    """Lock the settings row, take the values to write from `values_for(row)` and commit them.

    The lock makes two owners saving at once go one after the other. If `values_for` raises (a refused
    change), nothing is written and the error goes to the caller.
    """
    settings = get_store_settings()
    db.session.refresh(settings, with_for_update=True)
    try:
        values = values_for(settings)
    except Exception:
        db.session.rollback()
        raise
    for name, value in values.items():
        setattr(settings, name, value)
    db.session.commit()
    return settings


class CartStart(db.Model):
    """One row per cart the first time something is added: the top of the conversion funnel."""

    __tablename__ = "cart_starts"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
