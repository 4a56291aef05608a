"""Discount codes and the orders that used them.

A code is kept upper-case (the domain normalises what shoppers and staff type), so the unique constraint
makes codes unique whatever their case. A coupon takes a percentage or a fixed amount off the items, or
waives the delivery fee; it can need a minimum subtotal, run between two moments, be limited in total and
per customer (per phone), apply only to some products or categories, and be paused by staff.

Each placed order that used a code has one redemption row (order_id is unique): the limits count these rows,
so a repeated submission of the same checkout, which finds the same order, never counts twice.
"""

import enum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db

CODE_MAX = 40  # the cart keeps a code of this length too (carts.coupon_code)


class CouponKind(enum.StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"
    FREE_DELIVERY = "free_delivery"

    @property
    def label(self) -> str:
        return {"percent": "Percentage off", "fixed": "Amount off", "free_delivery": "Free delivery"}[self.value]


class Coupon(db.Model):
    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("kind IN ('percent', 'fixed', 'free_delivery')", name="kind_known"),
        CheckConstraint("code = upper(code)", name="code_upper_case"),
        CheckConstraint("value >= 0", name="value_not_negative"),
        CheckConstraint("kind != 'percent' OR value BETWEEN 1 AND 100", name="percent_in_range"),
        CheckConstraint("minimum_subtotal_minor >= 0", name="minimum_not_negative"),
        CheckConstraint("usage_limit IS NULL OR usage_limit > 0", name="usage_limit_positive"),
        CheckConstraint("per_customer_limit IS NULL OR per_customer_limit > 0", name="per_customer_limit_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_MAX), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    # percent: 1–100; fixed: minor units of the shop's currency; free_delivery: 0.
    value: Mapped[int] = mapped_column(Integer, default=0)
    minimum_subtotal_minor: Mapped[int] = mapped_column(Integer, default=0)
    starts_at = mapped_column(UTCDateTime, nullable=True)
    ends_at = mapped_column(UTCDateTime, nullable=True)
    usage_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)  # placed orders in all; None: no limit
    per_customer_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)  # per phone; None: no limit
    # Optional scope: only lines of these products or categories count (both empty: the whole cart).
    product_ids: Mapped[list] = mapped_column(db.JSON, default=list)
    category_ids: Mapped[list] = mapped_column(db.JSON, default=list)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    redemptions: Mapped[list["CouponRedemption"]] = relationship(
        back_populates="coupon", order_by="CouponRedemption.id.desc()"
    )

    @property
    def is_scoped(self) -> bool:
        return bool(self.product_ids or self.category_ids)


class CouponRedemption(db.Model):
    """One placed order that used a code: what the limits count, and the coupon's usage list."""

    __tablename__ = "coupon_redemptions"
    __table_args__ = (
        Index("ix_coupon_redemptions_coupon_phone", "coupon_id", "phone"),
        CheckConstraint("discount_minor >= 0", name="discount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    phone: Mapped[str] = mapped_column(String(20))
    # What the code took off: the items' discount, or the delivery fee it waived.
    discount_minor: Mapped[int] = mapped_column(Integer, default=0)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    coupon: Mapped[Coupon] = relationship(back_populates="redemptions")
    order = relationship("Order")
