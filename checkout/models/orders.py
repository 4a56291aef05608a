"""Orders, their lines (snapshots of what was bought), their timeline and their stock reservations."""

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, func, select, text
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from checkout.database import UTCDateTime, utcnow
from checkout.extensions import db

OPEN_STATUSES_SQL = (
    "status IN ('pending', 'confirmed', 'preparing', 'shipped', 'out_for_delivery', 'ready_for_pickup', "
    "'delivery_failed', 'rescheduled', 'returning')"
)


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total_minor >= 0", name="total_not_negative"),
        CheckConstraint("fulfilment IN ('delivery', 'pickup')", name="fulfilment_known"),
        Index("ix_orders_status_created", "status", "created_at", "id"),
        Index("ix_orders_created_id", "created_at", "id"),
        Index("ix_orders_customer_phone", "customer_phone"),
        # The desk's payment filter ("awaiting payment", "refunded"…), paged newest first like the rest.
        Index("ix_orders_payment_status_created", "payment_status", "created_at", "id"),
        # The desk's assignee filter, newest first: read in order whoever is chosen (one with few orders would
        # otherwise walk the whole created_at index, one with many sort them all).
        Index("ix_orders_assigned_created", "assigned_to_id", "created_at", "id"),
        # Only the open orders (lifecycle.OPEN_STATUSES; a test holds the two together), so the desk's tab
        # counts under any filter but a search are read from this small index alone.
        Index(
            "ix_orders_open",
            "status",
            "source",
            "assigned_to_id",
            "created_at",
            postgresql_where=text(OPEN_STATUSES_SQL),
            sqlite_where=text(OPEN_STATUSES_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    status_token: Mapped[str] = mapped_column(String(64), unique=True)
    # The shopper's checkout attempt: a repeat of the same submission finds this order again.
    checkout_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    status: Mapped[str] = mapped_column(String(24), default="pending")
    source: Mapped[str] = mapped_column(String(16), default="website")
    external_reference: Mapped[str] = mapped_column(String(64), default="")  # the shop's own id (Store API)
    fulfilment: Mapped[str] = mapped_column(String(16), default="delivery")
    customer_name: Mapped[str] = mapped_column(String(80))
    customer_phone: Mapped[str] = mapped_column(String(20))
    delivery_address: Mapped[str] = mapped_column(Text, default="")
    # A new address the customer typed after a failed delivery, waiting for staff to approve it ("" when none).
    requested_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    payment_method: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(Integer)
    delivery_fee_minor: Mapped[int] = mapped_column(Integer)
    # A discount code's part: what it took off the items, the delivery fee it waived (delivery_fee_minor is
    # then 0), and the code. total = subtotal - discount + delivery fee.
    discount_minor: Mapped[int] = mapped_column(Integer, default=0)
    delivery_discount_minor: Mapped[int] = mapped_column(Integer, default=0)
    coupon_code: Mapped[str] = mapped_column(String(40), default="")
    total_minor: Mapped[int] = mapped_column(Integer)
    # Fulfilment, filled in by staff as the order moves.
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    carrier: Mapped[str] = mapped_column(String(80), default="")
    tracking_number: Mapped[str] = mapped_column(String(80), default="", index=True)  # couriers' webhooks
    tracking_url: Mapped[str] = mapped_column(String(300), default="")
    expected_delivery_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # When the parcel should reach the door (UTC; shown in the shop's zone), and who brings it: set by staff or a
    # courier's update through checkout/orders/delivery.py.
    delivery_window_start = mapped_column(UTCDateTime, nullable=True)
    delivery_window_end = mapped_column(UTCDateTime, nullable=True)
    delivery_agent_name: Mapped[str] = mapped_column(String(80), default="")
    delivery_agent_phone: Mapped[str] = mapped_column(String(20), default="")  # E.164
    # Payment, recorded apart from fulfilment: its state (checkout/orders/payment_states.py decides it), what the
    # customer has paid less what was given back, and what was given back.
    payment_status: Mapped[str] = mapped_column(String(16), default="unpaid")
    amount_paid_minor: Mapped[int] = mapped_column(Integer, default=0)
    amount_refunded_minor: Mapped[int] = mapped_column(Integer, default=0)
    # Something staff should look at (a number mismatch, a message that failed); empty when all is well.
    attention: Mapped[str] = mapped_column(String(300), default="")
    # WhatsApp: when the customer's number was proven (they wrote to us from it), and the one reminder.
    phone_verified_at = mapped_column(UTCDateTime, nullable=True)
    # No longer written (orders before 2026-12 have it): the confirmation request's Message is its record.
    confirmation_requested_at = mapped_column(UTCDateTime, nullable=True)
    reminder_sent_at = mapped_column(UTCDateTime, nullable=True)
    # What won the order back, when a reminder or cart message did (its purpose; see checkout/whatsapp/recovery.py).
    recovered_by: Mapped[str] = mapped_column(String(40), default="")
    # The first time the shopper opened the WhatsApp hand-off page (the dashboard funnel counts it).
    handoff_opened_at = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )
    events: Mapped[list["OrderEvent"]] = relationship(
        back_populates="order", order_by="OrderEvent.id", cascade="all, delete-orphan"
    )
    reservations: Mapped[list["StockReservation"]] = relationship(
        back_populates="order", order_by="StockReservation.variant_id", cascade="all, delete-orphan"
    )

    assigned_to = relationship("StaffUser", foreign_keys=[assigned_to_id])
    payments: Mapped[list["Payment"]] = relationship(
        back_populates="order", order_by="Payment.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def balance_minor(self) -> int:
        """What the customer still owes: money given back is no longer owed (a refund takes it off the order)."""
        return max(0, (self.total_minor or 0) - (self.amount_paid_minor or 0) - (self.amount_refunded_minor or 0))


class OrderLine(db.Model):
    """What was bought, frozen at checkout: later catalog edits never change an order."""

    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id"), nullable=True, index=True)
    product_name: Mapped[str] = mapped_column(String(120))
    options_label: Mapped[str] = mapped_column(String(200), default="")
    sku: Mapped[str] = mapped_column(String(64))
    unit_price_minor: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total_minor: Mapped[int] = mapped_column(Integer)

    order: Mapped[Order] = relationship(back_populates="lines")


# Units in the order, counted by the database: the order desk shows it for fifty orders without loading
# their lines. Deferred: loaded where asked for (queries.find_orders), else on first access.
Order.item_count = column_property(
    select(func.coalesce(func.sum(OrderLine.quantity), 0))
    .where(OrderLine.order_id == Order.id)
    .correlate_except(OrderLine)
    .scalar_subquery(),
    deferred=True,
)


class OrderEvent(db.Model):
    """One entry of an order's timeline: who did what, when, from which status to which."""

    __tablename__ = "order_events"
    # When orders reached a status (the follow-up sweep and the dashboard's after-delivery figures).
    __table_args__ = (Index("ix_order_events_to_status_created", "to_status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    kind: Mapped[str] = mapped_column(String(24))  # created, status, note
    actor: Mapped[str] = mapped_column(String(80))  # "customer", "system" or a staff member's name
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    from_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")

    order: Mapped[Order] = relationship(back_populates="events")


class StockReservation(db.Model):
    """Units held for a pending order until `expires_at`; committed when the order is confirmed.

    A reservation counts against availability while it is neither released nor committed and has
    not expired — so an expired one stops counting at once, whether or not a job has cleaned it up.
    """

    __tablename__ = "stock_reservations"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_stock_reservations_variant_open", "variant_id", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    released_at = mapped_column(UTCDateTime, nullable=True)
    committed_at = mapped_column(UTCDateTime, nullable=True)

    order: Mapped[Order] = relationship(back_populates="reservations")


class Payment(db.Model):
    """Money received for (or refunded on) an order: method, amount, the payer's reference, who recorded it."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("kind IN ('payment', 'refund')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="payment")
    method: Mapped[str] = mapped_column(String(24))
    amount_minor: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(120), default="")
    # A refund: the payment it gives money back from (None for refunds recorded before refunds named one).
    refund_of_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), nullable=True, index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    recorded_by_name: Mapped[str] = mapped_column(String(80), default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    order: Mapped[Order] = relationship(back_populates="payments")
    refund_of: Mapped["Payment | None"] = relationship(remote_side="Payment.id")
