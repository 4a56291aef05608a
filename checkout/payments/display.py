"""What the customer's pages (hand-off and status) and the admin's order page show of a payment request."""

from dataclasses import dataclass

from markupsafe import Markup

from checkout.models.orders import Order, Payment
from checkout.models.payments import PaymentRequest
from checkout.models.store import StoreSettings, get_store_settings
from checkout.money import format_money
from checkout.orders import payment_states
from checkout.payments.providers import REQUEST_ON_DEMAND
from checkout.payments.requests import latest_request_of, open_request_of, why_payment_not_requested
from checkout.whatsapp.links import qr_svg


@dataclass(frozen=True)
class CustomerPayment:
    """The open request, as the customer's page shows it: a link to tap, a QR code to scan, a code to copy."""

    request: PaymentRequest
    link_url: str  # https:// or upi://; "" for Pix
    link_label: str
    qr_svg: Markup  # inline SVG; empty when there is nothing to scan
    copy_code: str  # Pix copia e cola; "" otherwise
    hint: str  # what happens next, in the customer's words


# What the customer is told under the request, by provider; DEFAULT_HINT for the rest.
HINTS = {"mpesa": "We sent an M-Pesa prompt to your phone: enter your M-Pesa PIN there to pay."}
DEFAULT_HINT = "We confirm your order as soon as the payment arrives."


def customer_payment(order: Order, settings: StoreSettings) -> CustomerPayment | None:
    """The open request of this order, or None. A shop that asks for no payments pays no query for it."""
    if not settings.payment_provider:
        return None
    request = open_request_of(order)
    if request is None:
        return None
    return CustomerPayment(
        request=request,
        link_url=request.url,
        link_label="Pay with a UPI app" if request.url.startswith("upi:") else "Pay now",
        qr_svg=Markup(qr_svg(request.qr_payload)) if request.qr_payload else Markup(""),
        copy_code=request.qr_payload if request.provider == "pix" else "",  # a gateway's link is no Pix code
        hint=HINTS.get(request.provider, DEFAULT_HINT),
    )


@dataclass(frozen=True)
class PaymentState:
    """Where the customer stands with paying, in the words a shopper expects on the status page."""

    kind: str  # "awaiting" | "partly_paid" | "paid" | "partly_refunded" | "refunded": the CSS hook
    text: str  # "Awaiting payment", "Paid ₹5,844.00", "Partly paid — ₹844.00 still to pay", "Refunded ₹500.00"
    receipt: Payment | None  # the latest payment's receipt to download, once something was paid


def payment_state(
    order: Order, settings: StoreSettings, payment: CustomerPayment | None, receipts: list[Payment]
) -> PaymentState | None:
    """The order's payment state (orders/payment_states.py decides it) in a shopper's words; no query of its own.

    None when there is nothing to say beyond the payment method: unpaid with no request open (cash on delivery,
    a shop that asks for no payments, a request not sent yet).
    """
    receipt = receipts[-1] if receipts else None
    state = order.payment_status

    def money(amount_minor: int) -> str:
        return format_money(amount_minor, order.currency, settings.locale)

    if state == payment_states.PAID:
        return PaymentState("paid", f"Paid {money(order.amount_paid_minor)}", receipt)
    if state == payment_states.PARTLY_PAID:
        return PaymentState("partly_paid", f"Partly paid — {money(order.balance_minor)} still to pay", receipt)
    if state == payment_states.PARTLY_REFUNDED:
        text = f"Paid {money(order.amount_paid_minor)} — {money(order.amount_refunded_minor)} refunded"
        return PaymentState("partly_refunded", text, receipt)
    if state == payment_states.REFUNDED:
        return PaymentState("refunded", f"Refunded {money(order.amount_refunded_minor)}", None)
    if payment is not None:
        return PaymentState("awaiting", payment_states.payment_state_label(state), None)
    return None


@dataclass(frozen=True)
class StaffPaymentRequest:
    latest: PaymentRequest | None
    refusal: str | None  # why "Request payment" is not offered now; None: it is


def staff_payment_request(order: Order) -> StaffPaymentRequest | None:
    """The order page's payment request part; None (and no query) when the shop asks for no payments."""
    if not get_store_settings().payment_provider:
        return None
    return StaffPaymentRequest(latest_request_of(order), why_payment_not_requested(order, REQUEST_ON_DEMAND))
