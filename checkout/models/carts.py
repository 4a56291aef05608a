"""Carts kept on the server, shared by every channel: the website, the widget, the Store API and WhatsApp.

A cart is found by an unguessable token (the browser's session, the widget's storage or a WhatsApp
conversation keeps only that). Its lines hold variant ids and quantities, and the unit price the shopper
last saw, so a price that changed since can be explained instead of silently changed. The order placed
from a cart keeps its own snapshot; the cart is deleted by the sweep once idle past the shop's expiry.
"""

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db

CART_CHANNELS = ("website", "widget", "api", "whatsapp")


class Cart(db.Model):
    __tablename__ = "carts"
    __table_args__ = (
        CheckConstraint("channel IN ('website', 'widget', 'api', 'whatsapp')", name="channel_known"),
        Index("ix_carts_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16), default="website")  # where the cart was started
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)  # last change: expiry counts from here
    # The customer, once known: typed at checkout, or the number chatting in WhatsApp.
    phone: Mapped[str] = mapped_column(String(20), default="", index=True)
    customer_name: Mapped[str] = mapped_column(String(80), default="")
    checkout_started_at = mapped_column(UTCDateTime, nullable=True)  # the checkout page was opened with lines
    # The order placed from this cart. The order keeps its own copy of the lines, so neither blocks the other's
    # deletion: the sweep deletes an idle cart whatever it made.
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), nullable=True, index=True
    )
    coupon_code: Mapped[str] = mapped_column(String(40), default="")
    recovery_sent_at = mapped_column(UTCDateTime, nullable=True)  # the one recovery message, when consent allows

    lines: Mapped[list["CartLine"]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartLine.id"
    )


class CartLine(db.Model):
    __tablename__ = "cart_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        UniqueConstraint("cart_id", "variant_id", name="uq_cart_lines_cart_variant"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    # The unit price when the shopper last saw the line: a later price change is explained, never silent.
    seen_price_minor: Mapped[int] = mapped_column(Integer)
    added_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    cart: Mapped[Cart] = relationship(back_populates="lines")
    variant = relationship("Variant")
