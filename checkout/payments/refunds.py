"""Refunds, full or partial: through the provider that took the payment when it can give money back (Stripe,
Razorpay), recorded by hand otherwise (UPI, Pix, cash, bank transfer), and the customer told in WhatsApp.

One use case, `refund_payment`, in one transaction holding the order's row lock from the check to the commit:
two staff pressing "Refund" at once go one after the other, and the second sees the first's refund (and a
changed order version), so the money goes back once. The provider is asked while the lock is held; its refund
id is recorded, and its failure records nothing (RefundFailed carries the provider's reason for staff). The
provider's idempotency key is made of the order's version, so a retry after a lost answer finds the refund the
provider already made instead of making a second one.
"""

from dataclasses import dataclass

from checkout.extensions import db
from checkout.models.orders import Order, Payment
from checkout.models.staff import StaffUser
from checkout.money import format_money
from checkout.orders.desk import (
    PAYMENT_RECORD_METHODS,
    PROVIDER_PAYMENT_METHODS,
    check_refund,
    order_change,
    record_refund,
    refundable_minor,
    refundable_payments,
)
from checkout.orders.errors import RefundFailed
from checkout.payments.providers import (
    PaymentProvider,
    ProviderNotConfigured,
    ProviderUnavailable,
    UnknownProvider,
    provider_named,
)

PROVIDER_REFUND_LABELS = {"stripe": "Stripe", "razorpay": "Razorpay"}
# When the customer can expect the money, by how it was paid; "" says nothing (cash is handed back).
REFUND_TIMING = {
    "stripe": "5–10 business days",  # card refunds reach the card's statement in 5–10 business days
    "razorpay": "5–7 business days",
    "card": "5–10 business days",
    "upi": "1–3 business days",
    "bank_transfer": "2–3 business days",
}


@dataclass(frozen=True)
class RefundDone:
    refund: Payment  # the refund row recorded
    provider_refund_id: str  # the provider's id for it; "" when recorded by hand


@dataclass(frozen=True)
class RefundChoice:
    """One payment money can go back from, as the order page offers it."""

    payment: Payment
    refundable_minor: int
    by_provider: bool  # True: the provider gives it back; False: the shop does, and staff record it

    def label(self, currency: str, locale: str) -> str:
        left = format_money(self.refundable_minor, currency, locale)
        how = f"refunded through {method_label(self.payment.method)}" if self.by_provider else "given back by hand"
        reference = f" · {self.payment.reference}" if self.payment.reference else ""
        return f"{method_label(self.payment.method)}{reference} — up to {left}, {how}"


def method_label(method: str) -> str:
    return PROVIDER_REFUND_LABELS.get(method) or PAYMENT_RECORD_METHODS.get(method) or method


def refund_choices(order: Order) -> list[RefundChoice]:
    """The order's payments with money left to give back, newest first (no query beyond its payments)."""
    return [
        RefundChoice(payment, refundable_minor(order, payment), payment.method in PROVIDER_PAYMENT_METHODS)
        for payment in refundable_payments(order)
    ]


def refund_timing(method: str) -> str:
    """When the customer should see money refunded to this payment method (the message's words)."""
    return REFUND_TIMING.get(method, "")


def refund_provider(payment: Payment) -> PaymentProvider | None:
    """The provider that gives this payment's money back, or None when staff give it back by hand.

    Payments staff recorded (UPI, cash, bank transfer…) are refunded by hand; a provider's payment through the
    provider when it supports refunds. Raises RefundFailed when that provider is not set up any more.
    """
    if payment.method not in PROVIDER_PAYMENT_METHODS:
        return None
    try:
        provider = provider_named(payment.method)
    except UnknownProvider:
        return None
    except ProviderNotConfigured as error:
        raise RefundFailed(f"{error} Set it up again to refund this payment.") from None
    return provider if getattr(provider, "supports_refunds", False) else None


def refund_payment(
    order: Order,
    *,
    payment_id: int | None,
    amount_minor: int,
    reason: str,
    staff: StaffUser,
    expected_version: int | None,
) -> RefundDone:
    """Give `amount_minor` back from the order's payment `payment_id` (its newest refundable one when None).

    Raises PaymentRejected (more than that payment has left, no reason, no such payment), StaleOrder (the page
    was out of date: someone else changed the order, or refunded it, first) or RefundFailed (the provider did
    not refund; nothing is recorded).
    """
    with order_change(order, expected_version):
        db.session.refresh(order, ["payments"])  # the payments as the lock holder committed them
        payment = _payment_of(order, payment_id)
        check_refund(order, payment, amount_minor, reason)
        provider_refund_id = give_back(order, payment, amount_minor)
        refund = record_refund(
            order, payment, amount_minor=amount_minor, reference=provider_refund_id, reason=reason, staff=staff
        )
        return RefundDone(refund, provider_refund_id)


def give_back(order: Order, payment: Payment, amount_minor: int) -> str:
    """Refund through the payment's provider (the caller holds the order's lock); its refund id, or "" when the
    shop gives the money back by hand. RefundFailed, with the provider's reason, when the provider does not."""
    provider = refund_provider(payment)
    if provider is None:
        return ""
    # The same page (order version) asking again finds the refund the provider made, never a second one.
    reference = f"{order.reference}-{payment.id}-v{order.version}"
    try:
        return provider.refund(payment.reference, amount_minor, order.currency, reference=reference)
    except ProviderUnavailable as error:
        raise RefundFailed(str(error)) from None


def _payment_of(order: Order, payment_id: int | None) -> Payment | None:
    if payment_id is None:
        return next(iter(refundable_payments(order)), None)
    return next((p for p in order.payments if p.id == payment_id and p.kind == "payment"), None)
