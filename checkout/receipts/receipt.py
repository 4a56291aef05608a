"""What a payment receipt says, worked out once: the PDF and the WhatsApp caption both print this.

A receipt is a record of one payment at the moment it was made: "paid to date" and "balance" count the
payments up to and including this one, so an old receipt reads the same after later payments.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from checkout.dates import format_moment
from checkout.models.orders import Order, Payment
from checkout.models.store import PAYMENT_METHOD_LABELS, StoreSettings
from checkout.money import format_money
from checkout.orders.desk import recorded_method_label

# fpdf2 draws these itself; anything else (an SVG logo, a remote address) is left off the receipt.
LOGO_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif")


@dataclass(frozen=True)
class ReceiptLine:
    name: str
    options: str
    quantity: int
    unit_price: str
    line_total: str


@dataclass(frozen=True)
class Receipt:
    """Every value ready to print, money formatted in the order's currency and the shop's locale."""

    number: str  # the order reference and the payment's place among the order's payments: "7KQ4-M2XP-1"
    shop_name: str
    shop_tagline: str
    shop_address: str
    tax_number: str
    footer: str
    logo_path: Path | None
    order_reference: str
    paid_at: str  # in the shop's time zone and locale
    ordered_at: str
    lines: tuple[ReceiptLine, ...]
    subtotal: str
    delivery: str  # "" for pickup with no fee
    discount: str  # "" without one; e.g. "−₹50.00 (code DIWALI)"
    total: str
    payment_method: str
    payment_reference: str
    amount_paid: str
    paid_to_date: str
    balance: str
    customer_name: str
    customer_phone: str
    customer_address: str
    status_url: str

    @property
    def filename(self) -> str:
        return receipt_filename(self.number)


def receipt_filename(number: str) -> str:
    """Safe in a Content-Disposition header and on every file system."""
    return f"Receipt-{re.sub(r'[^A-Za-z0-9-]', '', number)}.pdf"


def receipt_payments(order: Order) -> list[Payment]:
    """The payments of `order` that have a receipt (refunds have none); an unpaid order costs no query."""
    if order.payment_status == "unpaid":
        return []
    return [payment for payment in order.payments if payment.kind == "payment"]


def receipt_payment(order: Order, payment_id: int) -> Payment | None:
    """`order`'s payment with this id, or None: another order's payment or a refund is not found here."""
    return next((payment for payment in receipt_payments(order) if payment.id == payment_id), None)


def receipt_number(order: Order, payment: Payment) -> str:
    payments = receipt_payments(order)
    position = next((index for index, p in enumerate(payments, 1) if p.id == payment.id), len(payments))
    return f"{order.reference}-{position}"


def paid_to_date_minor(order: Order, payment: Payment) -> int:
    """Payments less refunds recorded up to and including `payment` (ids grow with time)."""
    return sum(p.amount_minor if p.kind == "payment" else -p.amount_minor for p in order.payments if p.id <= payment.id)


def build_receipt(
    order: Order, payment: Payment, settings: StoreSettings, *, status_url: str, static_folder: str | None = None
) -> Receipt:
    money = lambda amount: format_money(amount, order.currency, settings.locale)  # noqa: E731
    when = lambda moment: format_moment(moment, settings.zone_name, settings.locale)  # noqa: E731
    paid_to_date = paid_to_date_minor(order, payment)
    return Receipt(
        number=receipt_number(order, payment),
        shop_name=settings.name,
        shop_tagline=settings.tagline,
        shop_address=settings.address,
        tax_number=settings.receipt_tax_number,
        footer=settings.receipt_footer,
        logo_path=local_logo(settings.logo_url, static_folder),
        order_reference=order.reference,
        paid_at=when(payment.created_at),
        ordered_at=when(order.created_at),
        lines=tuple(
            ReceiptLine(
                line.product_name,
                line.options_label,
                line.quantity,
                money(line.unit_price_minor),
                money(line.line_total_minor),
            )
            for line in order.lines
        ),
        subtotal=money(order.subtotal_minor),
        delivery=_delivery(order, money),
        discount=_discount(order, money),
        total=money(order.total_minor),
        payment_method=PAYMENT_METHOD_LABELS.get(payment.method) or recorded_method_label(payment.method),
        payment_reference=payment.reference,
        amount_paid=money(payment.amount_minor),
        paid_to_date=money(paid_to_date),
        balance=money(max(0, order.total_minor - paid_to_date)),
        customer_name=order.customer_name,
        customer_phone=order.customer_phone,
        customer_address=order.delivery_address if order.fulfilment == "delivery" else "",
        status_url=status_url,
    )


def _delivery(order: Order, money) -> str:
    if order.fulfilment != "delivery" and not order.delivery_fee_minor:
        return ""
    if order.delivery_discount_minor:
        return f"{money(0)} (free delivery, {money(order.delivery_discount_minor)} waived)"
    return money(order.delivery_fee_minor)


def _discount(order: Order, money) -> str:
    if not order.discount_minor:
        return ""
    code = f" (code {order.coupon_code})" if order.coupon_code else ""
    return f"−{money(order.discount_minor)}{code}"


def local_logo(logo_url: str, static_folder: str | None) -> Path | None:
    """The shop's logo as a file of this site, when it is one fpdf2 can draw; else None (never fetched)."""
    if not static_folder or not logo_url.startswith("/static/") or not logo_url.lower().endswith(LOGO_SUFFIXES):
        return None
    folder = Path(static_folder).resolve()
    path = (folder / logo_url.removeprefix("/static/")).resolve()
    return path if path.is_relative_to(folder) and path.is_file() else None
