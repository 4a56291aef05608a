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

from checkout import events
from checkout.extensions import db
from checkout.models.orders import Order, Payment
from checkout.models.staff import StaffUser
from checkout.money import format_money
from checkout.orders.desk import (
    PAYMENT_RECORD_METHODS,
    PROVIDER_PAYMENT_METHODS,
    give_back_and_record,
    order_change,
    plan_refund,
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
# When the customer can expect money back, by how it was paid, with the longest wait in days (to say the longest
# when one refund goes back to several methods). A method not listed says nothing: cash is handed back.
REFUND_TIMING = {
    "stripe": ("5–10 business days", 10),  # card refunds reach the card's statement in 5–10 business days
    "card": ("5–10 business days", 10),
    "razorpay": ("5–7 business days", 7),
    "bank_transfer": ("2–3 business days", 3),
    "upi": ("1–3 business days", 3),
}


@dataclass(frozen=True)
class RefundDone:
    refunds: list[Payment]  # the refund rows recorded (one per payment the money went back from)
    provider_refund_ids: list[str]  # the providers' ids of those a provider gave back

    @property
    def amount_minor(self) -> int:
        return sum(refund.amount_minor for refund in self.refunds)


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
    labels = (PROVIDER_REFUND_LABELS, PAYMENT_RECORD_METHODS, PROVIDER_PAYMENT_METHODS)
    return next((names[method] for names in labels if method in names), method)


def refund_choices(order: Order) -> list[RefundChoice]:
    """The order's payments with money left to give back, newest first (no query beyond its payments)."""
    return [
        RefundChoice(payment, refundable_minor(order, payment), _refunded_by_provider(payment))
        for payment in refundable_payments(order)
    ]


def _refunded_by_provider(payment: Payment) -> bool:
    try:
        return refund_provider(payment) is not None
    except RefundFailed:
        return True  # its provider is not set up now: refunding says so


def refund_timing(*methods: str) -> str:
    """When the customer should see money refunded to these payment methods (the message's words; "" for none)."""
    known = [REFUND_TIMING[method] for method in methods if method in REFUND_TIMING]
    return max(known, key=lambda timing: timing[1])[0] if known else ""


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
    amount_minor: int,
    reason: str,
    staff: StaffUser,
    expected_version: int | None,
    payment_id: int | None = None,
) -> RefundDone:
    """Give `amount_minor` back from the order's payment `payment_id`, or (None) from its newest payments first,
    and tell the customer once.

    Raises PaymentRejected (more than is left to refund, no reason, no such payment), StaleOrder (the page was
    out of date: someone else changed the order, or refunded it, first) or RefundFailed (the provider did not
    refund; nothing is recorded).
    """
    with order_change(order, expected_version):
        db.session.refresh(order, ["payments"])  # the payments as the lock's holder committed them
        plan = plan_refund(order, payment_id, amount_minor, reason)
        done = give_back_and_record(order, plan, reason=reason, staff=staff, give_back=give_back)
        refunds = [refund for refund, _ in done]
        events.publish(events.REFUND_RECORDED, order=order, refunds=refunds, tell_customer=True)
    return RefundDone(refunds, [refund_id for _, refund_id in done if refund_id])


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
