"""What staff do to an order: status changes, fulfilment details, assignment, notes, payments.

Each function is one use case in one transaction. `expected_version` is the order version the
staff member's page showed; if someone else changed the order since, StaleOrder is raised and
nothing is written (and the version column catches the same race between two open transactions).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlsplit

from sqlalchemy.orm.exc import StaleDataError

from checkout import events
from checkout.database import transaction
from checkout.extensions import db
from checkout.models.orders import Order, Payment
from checkout.models.staff import StaffUser
from checkout.models.store import get_store_settings
from checkout.money import format_money
from checkout.orders import delivery, locks
from checkout.orders.errors import (
    InvalidFulfilment,
    NotAllowedInBulk,
    OrderError,
    PaymentRejected,
    ReasonRequired,
    RefundDecisionNeeded,
    RefundFailed,
    StaleOrder,
    TransitionNotAllowed,
)
from checkout.orders.lifecycle import OrderStatus, can_transition, record_event, transition
from checkout.orders.payment_states import refresh_payment_state
from checkout.orders.queries import get_order_by_reference

PAYMENT_RECORD_METHODS = {
    "cod": "Cash on delivery",
    "upi": "UPI",
    "bank_transfer": "Bank transfer",
    "cash": "Cash at the shop",
    "card": "Card terminal",
    "other": "Other",
}
# Payments a provider confirms itself (its webhook records them); staff never pick these.
PROVIDER_PAYMENT_METHODS = {"stripe": "Card (Stripe)", "razorpay": "Razorpay", "mpesa": "M-Pesa"}


def recorded_method_label(method: str) -> str:
    """How a recorded payment's method reads on the timeline, the order page and the receipt."""
    return PAYMENT_RECORD_METHODS.get(method) or PROVIDER_PAYMENT_METHODS.get(method) or method


NOTE_MAX = 2000
# The longest carrier, tracking number and tracking link an order keeps (the columns' sizes).
FULFILMENT_FIELD_MAX = {"carrier": 80, "tracking_number": 80, "tracking_url": 300}


@contextmanager
def order_change(order: Order, expected_version: int | None) -> Iterator[None]:
    """Lock `order`, run one change of it and commit, or write nothing at all.

    The lock reads the order afresh, so the version compared is the one the last change committed.
    """
    try:
        with transaction():
            locks.lock_order(order.id)
            if expected_version is not None and order.version != expected_version:
                raise StaleOrder()
            yield
    except StaleDataError:
        raise StaleOrder() from None


@dataclass(frozen=True)
class FulfilmentDetails:
    """Every fulfilment field as staff left it on the form: an empty one clears what the order had."""

    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    expected_delivery_date: date | None = None
    delivery_window_start: datetime | None = None  # aware; see delivery.window_from_local
    delivery_window_end: datetime | None = None
    delivery_agent_name: str = ""
    delivery_agent_phone: str = ""  # as typed; stored as E.164

    @classmethod
    def of(cls, order: Order) -> "FulfilmentDetails":
        """The order's details as they are, to change one or two of them."""
        return cls(**{name: getattr(order, name) for name in delivery.DELIVERY_FIELDS})

    def validate(self) -> None:
        for name, limit in FULFILMENT_FIELD_MAX.items():
            if len(getattr(self, name)) > limit:
                raise InvalidFulfilment(name, f"At most {limit} characters.")
        if self.tracking_url:
            parts = urlsplit(self.tracking_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise InvalidFulfilment("tracking_url", "Give a full web address starting with https://")

    def checked_values(self, region: str) -> dict:
        """The column values, every one checked (InvalidFulfilment names the first field that is not right)."""
        self.validate()
        start, end = delivery.checked_window(self.delivery_window_start, self.delivery_window_end)
        return {
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "tracking_url": self.tracking_url,
            "expected_delivery_date": self.expected_delivery_date,
            "delivery_window_start": start,
            "delivery_window_end": end,
            "delivery_agent_name": delivery.checked_agent_name(self.delivery_agent_name),
            "delivery_agent_phone": delivery.checked_agent_phone(self.delivery_agent_phone, region),
        }


def _apply_fulfilment(order: Order, details: FulfilmentDetails, staff: StaffUser) -> None:
    values = details.checked_values(get_store_settings().default_region)
    delivery.apply_delivery_changes(order, values, actor=staff.name, staff_user_id=staff.id)


def change_status(
    order: Order,
    target: OrderStatus | str,
    *,
    staff: StaffUser,
    expected_version: int | None,
    note: str = "",
    fulfilment: FulfilmentDetails | None = None,
    refund_paid: bool | None = None,
    give_back: "GiveBack | None" = None,
) -> None:
    """Move the order along the state machine; shipping may carry the tracking details with it.

    A cash-on-delivery order marked delivered has its balance recorded as collected, before the status
    changes, so the one "delivered" message the customer gets already says it is paid.

    Cancelling an order with money paid needs `refund_paid`: True refunds all of it now, each payment through
    `give_back` (payments.refunds.give_back: the provider's refund, or by hand), False keeps it for now; the
    cancellation message says which.
    """
    with order_change(order, expected_version):
        if fulfilment is not None:
            _apply_fulfilment(order, fulfilment, staff)
        if target == OrderStatus.DELIVERED and order.payment_method == "cod" and order.balance_minor:
            _add_payment(order, "payment", "cod", order.balance_minor, "Collected on delivery", staff, tell=False)
        if target == OrderStatus.CANCELLED and order.amount_paid_minor > 0:
            if refund_paid is None:
                raise RefundDecisionNeeded(format_money(order.amount_paid_minor, order.currency))
            if refund_paid:
                # Refused before any money moves: a provider's refund can't be rolled back with the transaction.
                if not can_transition(order, target):
                    raise TransitionNotAllowed(OrderStatus(order.status), OrderStatus(target))
                if not note.strip():
                    raise ReasonRequired()
                _refund_everything(order, f"Order cancelled: {note}".strip(": "), staff, give_back)
        transition(order, target, actor=staff.name, note=note, staff_user_id=staff.id)


def update_fulfilment(
    order: Order, details: FulfilmentDetails, *, staff: StaffUser, expected_version: int | None
) -> None:
    with order_change(order, expected_version):
        _apply_fulfilment(order, details, staff)


def assign_order(order: Order, assignee: StaffUser | None, *, staff: StaffUser, expected_version: int | None) -> None:
    with order_change(order, expected_version):
        if order.assigned_to_id == (assignee.id if assignee else None):
            return
        order.assigned_to_id = assignee.id if assignee else None
        note = f"Assigned to {assignee.name}" if assignee else "Unassigned"
        record_event(order, "assigned", staff.name, note=note, staff_user_id=staff.id)


def add_note(order: Order, text: str, *, staff: StaffUser) -> None:
    """Internal notes never reach the customer; they need no version check (they can't conflict)."""
    text = text.strip()
    if not text:
        raise InvalidFulfilment("note", "Write something first.")
    if len(text) > NOTE_MAX:
        raise InvalidFulfilment("note", f"A note can be at most {NOTE_MAX} characters.")
    with transaction():
        record_event(order, "note", staff.name, note=text, staff_user_id=staff.id)


def _add_payment(
    order: Order,
    kind: str,
    method: str,
    amount_minor: int,
    reference: str,
    staff: StaffUser | None,
    tell: bool = True,
    actor: str = "",
    refund_of: Payment | None = None,
    note: str = "",
) -> Payment:
    """Record money in or out; `staff` recorded it, or (None) a provider's webhook named by `actor`."""
    actor = staff.name if staff else actor
    staff_id = staff.id if staff else None
    payment = Payment(
        kind=kind,
        method=method,
        amount_minor=amount_minor,
        reference=reference,
        refund_of=refund_of,
        recorded_by_id=staff_id,
        recorded_by_name=actor,
    )
    order.payments.append(payment)
    order.amount_paid_minor += amount_minor if kind == "payment" else -amount_minor
    if kind == "refund":
        order.amount_refunded_minor = (order.amount_refunded_minor or 0) + amount_minor
    refresh_payment_state(order)
    amount = format_money(amount_minor, order.currency)
    label = recorded_method_label(method)
    what = f"Payment of {amount} received ({label})" if kind == "payment" else f"Refund of {amount} ({label})"
    what += (f" — {reference}" if reference else "") + (f" · {note}" if note else "")
    record_event(order, kind, actor, note=what, staff_user_id=staff_id)
    db.session.flush()
    if kind == "payment":
        events.publish(events.PAYMENT_RECORDED, order=order, payment=payment, tell_customer=tell)
    return payment


def record_payment(
    order: Order,
    *,
    method: str,
    amount_minor: int,
    reference: str,
    staff: StaffUser,
    expected_version: int | None,
) -> None:
    with order_change(order, expected_version):
        if order.status == OrderStatus.CANCELLED:
            raise PaymentRejected("A cancelled order takes no payments.")
        if method not in PAYMENT_RECORD_METHODS:
            raise PaymentRejected("Choose how the customer paid.")
        if amount_minor <= 0:
            raise PaymentRejected("The amount must be more than zero.")
        if amount_minor > order.balance_minor:
            raise PaymentRejected(
                f"That is more than the balance of {format_money(order.balance_minor, order.currency)}."
            )
        _add_payment(order, "payment", method, amount_minor, reference.strip()[:120], staff)


def record_provider_payment(order: Order, *, method: str, amount_minor: int, reference: str, actor: str) -> None:
    """Money a payment provider says has arrived, recorded as staff's payments are (the customer is told).

    The caller holds the order's lock in its own transaction and decides what staff must look at: the money is
    recorded whatever the balance, because it has been taken from the customer.
    """
    if method not in PROVIDER_PAYMENT_METHODS:
        raise PaymentRejected(f"Unknown payment provider {method!r}.")
    _add_payment(order, "payment", method, amount_minor, reference.strip()[:120], None, actor=actor)


def refundable_minor(order: Order, payment: Payment) -> int:
    """What may still be given back from `payment`: never more than it brought in, less its refunds, nor more
    than the order holds (refunds recorded before refunds named their payment count against the order only)."""
    if payment.kind != "payment":
        return 0
    refunded = sum(p.amount_minor for p in order.payments if p.kind == "refund" and p.refund_of_id == payment.id)
    return max(0, min(payment.amount_minor - refunded, order.amount_paid_minor))


def refundable_payments(order: Order) -> list[Payment]:
    """The order's payments with money left to give back, newest first."""
    return [p for p in reversed(order.payments) if refundable_minor(order, p) > 0]


def plan_refund(order: Order, payment_id: int | None, amount_minor: int, reason: str) -> list[tuple[Payment, int]]:
    """How `amount_minor` goes back: from the payment `payment_id`, or (None) from the newest payments first.

    Raises PaymentRejected when it can't: no reason, nothing to refund, or more than that payment (or the whole
    order) has left to give back. The caller holds the order's lock, so what is left is what was committed.
    Payments refunded by hand come first and providers' last, so a provider's failure leaves nothing behind.
    """
    if not reason.strip():
        raise PaymentRejected("Say why the money is refunded.")
    if amount_minor <= 0:
        raise PaymentRejected("The amount must be more than zero.")
    if payment_id is not None:
        payment = next((p for p in order.payments if p.id == payment_id and p.kind == "payment"), None)
        if payment is None:
            raise PaymentRejected("Choose the payment to refund.")
        sources = [(payment, refundable_minor(order, payment))]
    else:
        sources = [(payment, refundable_minor(order, payment)) for payment in refundable_payments(order)]
    left = min(sum(amount for _, amount in sources), order.amount_paid_minor)
    if amount_minor > left:
        raise PaymentRejected(
            f"At most {format_money(left, order.currency)} can be refunded"
            + (" from this payment" if payment_id is not None else "")
            + (": it has all been refunded already." if left == 0 else ".")
        )
    plan, still = [], amount_minor
    for payment, available in sources:
        if still > 0 and available > 0:
            plan.append((payment, min(still, available)))
            still -= plan[-1][1]
    return sorted(plan, key=lambda portion: portion[0].method in PROVIDER_PAYMENT_METHODS)


# Gives `amount` of `payment` back through its provider, under the order's lock; the provider's refund id, or ""
# when the shop gives it back by hand. Raises RefundFailed when the provider fails (nothing is then recorded).
GiveBack = Callable[[Order, Payment, int], str]


def give_back_and_record(
    order: Order, plan: list[tuple[Payment, int]], *, reason: str, staff: StaffUser, give_back: GiveBack | None
) -> list[tuple[Payment, str]]:
    """Give each portion of `plan` back (through `give_back`) and record it as a refund row, in the caller's
    transaction. When a provider fails after another already refunded, the error says so: the same refund
    asked again (same amounts, same order version) finds those provider refunds again instead of repeating them.
    """
    refunds: list[tuple[Payment, str]] = []  # each refund row and its provider's refund id ("" by hand)
    for payment, amount_minor in plan:
        try:
            provider_refund_id = give_back(order, payment, amount_minor) if give_back else ""
        except RefundFailed as error:
            made = [(refund, refund_id) for refund, refund_id in refunds if refund_id]
            if made:
                done = ", ".join(
                    f"{format_money(r.amount_minor, order.currency)} ({refund_id})" for r, refund_id in made
                )
                raise RefundFailed(
                    f"{error} Already refunded by the provider: {done}. Refund the same amount again to finish: "
                    "what was refunded is not refunded twice."
                ) from None
            raise
        note = f"Reason: {reason.strip()}" if provider_refund_id else ""
        reference = (provider_refund_id or reason).strip()[:120]
        refund = _add_payment(
            order, "refund", payment.method, amount_minor, reference, staff, refund_of=payment, note=note
        )
        refunds.append((refund, provider_refund_id))
    return refunds


def _refund_everything(order: Order, reason: str, staff: StaffUser, give_back: GiveBack | None) -> None:
    """The cancellation's refund of all the order holds, payment by payment; the cancellation message says it."""
    plan = plan_refund(order, None, order.amount_paid_minor, reason)
    give_back_and_record(order, plan, reason=reason, staff=staff, give_back=give_back)


@dataclass
class BulkResult:
    changed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def bulk_change_status(references: list[str], target: OrderStatus | str, *, staff: StaffUser) -> BulkResult:
    """Move each selected order that may move; report the others with the reason. Never cancels."""
    result = BulkResult()
    if OrderStatus(target) is OrderStatus.CANCELLED:
        raise NotAllowedInBulk()
    for reference in dict.fromkeys(references):
        order = get_order_by_reference(reference)
        if order is None:
            result.skipped.append((reference, "not found"))
            continue
        try:
            change_status(order, target, staff=staff, expected_version=None)
        except OrderError as error:
            result.skipped.append((order.reference, str(error)))
        else:
            result.changed.append(order.reference)
    return result
