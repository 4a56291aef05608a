"""The shop's own settings: one row, edited by the owner."""

from collections.abc import Callable

from flask import g
from sqlalchemy import Boolean, Integer, String, Text, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, object_session

from checkout.database import transaction
from checkout.dates import default_time_zone
from checkout.extensions import db

DEFAULT_CONSENT_WORDING = "Send me order updates and reminders on WhatsApp"
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
    # Shown in every storefront page's footer: where the shop is, and what it promises about returns and delivery.
    address: Mapped[str] = mapped_column(Text, default="")
    returns_policy: Mapped[str] = mapped_column(Text, default="")
    delivery_policy: Mapped[str] = mapped_column(Text, default="")
    low_stock_threshold: Mapped[int] = mapped_column(Integer, default=5)
    # A cart untouched this many days is deleted by the sweep (an order keeps its own copy of the lines).
    cart_expiry_days: Mapped[int] = mapped_column(Integer, default=30)
    # The most units one phone number may hold in orders not yet confirmed: throwaway checkouts cannot
    # tie up the shop's stock for a day.
    max_pending_units_per_phone: Mapped[int] = mapped_column(Integer, default=50)
    # Texts the shop can change: the handoff greeting and one per status notification (see checkout/messages).
    message_texts: Mapped[dict] = mapped_column(db.JSON, default=dict)
    # The shop's own wording of the ordering chat, {language: {key: text}}: only the texts it changed, the rest
    # are checkout/whatsapp/chat_order_texts.py's.
    chat_texts: Mapped[dict] = mapped_column(db.JSON, default=dict)
    # WhatsApp conversations: the one reminder for unanswered orders, and who hears of new orders.
    reminder_hours: Mapped[int] = mapped_column(Integer, default=1)
    # Reminders and cart recovery go only to customers who ticked this box (unticked unless the shop says).
    consent_wording: Mapped[str] = mapped_column(String(300), default=DEFAULT_CONSENT_WORDING)
    consent_ticked_by_default: Mapped[bool] = mapped_column(Boolean, default=False)
    cart_recovery_hours: Mapped[int] = mapped_column(Integer, default=24)
    # No reminder or recovery message between these local times ("22:00" to "08:00"); empty: none.
    quiet_hours_start: Mapped[str] = mapped_column(String(5), default="")
    quiet_hours_end: Mapped[str] = mapped_column(String(5), default="")
    staff_alert_numbers: Mapped[list] = mapped_column(db.JSON, default=list)  # E.164 numbers
    # The shop's own systems: order events are POSTed here, signed with the secret.
    webhook_url: Mapped[str] = mapped_column(String(300), default="")
    webhook_secret: Mapped[str] = mapped_column(String(100), default="")
    # The website plugin: sites allowed to call the Store API from a browser, and the chat button.
    allowed_origins: Mapped[list] = mapped_column(db.JSON, default=list)  # e.g. ["https://myshop.example"]
    widget_numbers: Mapped[list] = mapped_column(db.JSON, default=list)  # agents' E.164 numbers; empty: the shop's
    widget_rotation: Mapped[str] = mapped_column(String(16), default="round_robin")  # or "random"
    widget_greeting: Mapped[str] = mapped_column(String(200), default="")
    # The widget key the admin's preview uses, kept so visits reuse it (a widget key is public by design).
    preview_widget_key: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # {"mon": ["09:00", "18:00"], …, "timezone": "Asia/Kolkata"}; empty: always open
    working_hours: Mapped[dict] = mapped_column(db.JSON, default=dict)
    # The zone every time shown to staff and customers is in, e.g. "Asia/Kolkata"; empty: the usual zone of
    # default_region (checkout/dates.py), so a new shop in India reads Indian times without setting anything.
    time_zone: Mapped[str] = mapped_column(String(64), default="")
    # Payment requests (checkout/payments/): which provider asks customers to pay, and when (see
    # checkout/payments/providers.py for the allowed values, checked there in one place).
    payment_provider: Mapped[str] = mapped_column(String(20), default="", server_default="")
    payment_request_when: Mapped[str] = mapped_column(String(20), default="on_demand", server_default="on_demand")
    upi_payee_address: Mapped[str] = mapped_column(String(255), default="", server_default="")
    upi_payee_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    pix_key: Mapped[str] = mapped_column(String(77), default="", server_default="")
    pix_merchant_name: Mapped[str] = mapped_column(String(25), default="", server_default="")
    pix_merchant_city: Mapped[str] = mapped_column(String(15), default="", server_default="")
    # After an open request: one reminder after this many hours (0: none); past the unpaid limit (0: none) the
    # order is flagged for staff or cancelled, as unpaid_action says (checkout/payments/reminders.py).
    payment_reminder_after_hours: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    unpaid_limit_hours: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unpaid_action: Mapped[str] = mapped_column(String(10), default="flag", server_default="flag")
    # Printed on payment receipts (checkout/receipts/) under the shop's name, tagline and address.
    receipt_tax_number: Mapped[str] = mapped_column(String(40), default="", server_default="")  # GSTIN, VAT, KRA PIN
    receipt_footer: Mapped[str] = mapped_column(Text, default="", server_default="")  # e.g. "Thank you!"
    # How long delivery takes, in days from confirmation (0 and 0: the shop promises no date), and per area:
    # "prefix=days" lines, e.g. "560=1-2" or "Kasarani=2" (checkout/orders/delivery_promise.py reads them).
    delivery_days_min: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    delivery_days_max: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    delivery_area_days: Mapped[str] = mapped_column(Text, default="", server_default="")
    # After a failed delivery the customer may type a new address: staff approve it first (on), or it is used
    # at once (off). checkout/orders/delivery_exceptions.py.
    address_change_needs_approval: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The status messages the shop switched off (message keys, e.g. ["preparing"]); the status changes anyway.
    silent_statuses: Mapped[list] = mapped_column(db.JSON, default=list)
    # After delivery: one "how was it?" message this many days after an order is delivered (3 to 7); 0: none.
    # Off unless the shop turns it on (checkout/whatsapp/follow_ups.py).
    follow_up_after_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Days after delivery a customer may ask for a return in the chat; 0: no returns through the bot (a person).
    return_window_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")

    @property
    def zone_name(self) -> str:
        """The shop's time zone: the one it chose, else its country's."""
        return self.time_zone or default_time_zone(self.default_region)

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
    settings = db.session.get(StoreSettings, 1) or _create_store_settings()
    g._store_settings = settings
    return settings


def _create_store_settings() -> StoreSettings:
    """Insert the row with defaults, in a savepoint: on a new shop two workers (a webhook drain and the sweep)
    may both find it missing. The one whose insert loses takes the winner's row instead of failing, which
    would roll back a webhook's message after Meta had been told it was received."""
    try:
        with db.session.begin_nested():
            db.session.add(StoreSettings(id=1))
    except IntegrityError:
        pass  # made by another transaction meanwhile; committed, so visible to the next statement
    return db.session.get(StoreSettings, 1)


def save_store_settings(values_for: Callable[[StoreSettings], dict]) -> StoreSettings:
    """Lock the settings row, take the values to write from `values_for(row)` and commit them.

    The lock makes two owners saving at once go one after the other. If `values_for` raises (a refused
    change), nothing is written and the error goes to the caller.
    """
    settings = get_store_settings()
    with transaction():
        db.session.refresh(settings, with_for_update=True)
        for name, value in values_for(settings).items():
            setattr(settings, name, value)
    return settings
