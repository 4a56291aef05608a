"""Returns after delivery: the rules of a return request, from the customer's ask to the refund.

    requested ──approve──▶ approved ──received (stock back)──▶ received ──refund──▶ refunded
    requested ──reject──▶ rejected
    asked after the shop's return window ──▶ sent_to_person (a person answers in the chat)

The order stays "delivered" throughout: a return is its own record, and each step is written on the order's
timeline (kind "return"). Staff steps lock the order first (checkout/orders/locks.py), then the return, and
commit once; the customer hears of each through events.RETURN_UPDATED (checkout/notifications.py). The
refund is the one refund path (checkout/payments/refunds.py), run in the same transaction as marking the
return refunded, so a refund that fails marks nothing.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from checkout import events
from checkout.catalog import stock
from checkout.database import transaction
from checkout.extensions import db
from checkout.models.conversations import MediaFile
from checkout.models.messaging import Message
from checkout.models.orders import Order, OrderEvent
from checkout.models.returns import COMMENT_MAX, RETURN_REASONS, STAFF_NOTE_MAX, ReturnPhoto, ReturnRequest
from checkout.models.staff import StaffUser
from checkout.models.store import StoreSettings
from checkout.orders import locks
from checkout.orders.desk import refundable_payments
from checkout.orders.errors import ReturnNotAllowed
from checkout.orders.lifecycle import OrderStatus, record_event
from checkout.payments.refunds import RefundDone, refund_payment
from checkout.phones import phone_forms

REASON_LABELS = {
    "damaged": "Damaged",
    "wrong_item": "Wrong item",
    "not_as_described": "Not as described",
    "other": "Something else",
}
STATUS_LABELS = {
    "requested": "Requested",
    "approved": "Approved: on its way back",
    "rejected": "Rejected",
    "received": "Received back",
    "refunded": "Refunded",
    "sent_to_person": "With a person (after the return window)",
}
OPEN_STATUSES = ("requested", "approved", "received")  # staff still have something to do
PHOTOS_MAX = 10  # per request: a customer sending a whole album does not fill the order page
LIST_PAGE = 50
DEFAULT_APPROVAL_NOTE = "Please pack the item(s) as they came; we will arrange the pickup and write to you here."


@dataclass(frozen=True)
class Eligibility:
    """Whether a delivered order may still be returned through the chat, and until when."""

    delivered_at: datetime | None
    window_days: int

    @property
    def ends_at(self) -> datetime | None:
        return self.delivered_at + timedelta(days=self.window_days) if self.delivered_at else None

    def open_at(self, now: datetime) -> bool:
        return self.window_days > 0 and self.ends_at is not None and now <= self.ends_at


def delivered_at(order: Order) -> datetime | None:
    """When the order was (last) marked delivered, from its timeline; None when it is not delivered."""
    if order.status != OrderStatus.DELIVERED:
        return None
    return db.session.scalar(
        select(func.max(OrderEvent.created_at)).where(
            OrderEvent.order_id == order.id, OrderEvent.kind == "status", OrderEvent.to_status == "delivered"
        )
    )


def eligibility(order: Order, settings: StoreSettings) -> Eligibility:
    return Eligibility(delivered_at(order), settings.return_window_days or 0)


def latest_delivered_order(phone: str) -> Order | None:
    """The customer's most recently delivered order: what "problem" or "return" in the chat is about."""
    if not phone:
        return None
    delivered = (
        select(OrderEvent.order_id, func.max(OrderEvent.created_at).label("at"))
        .where(OrderEvent.kind == "status", OrderEvent.to_status == "delivered")
        .group_by(OrderEvent.order_id)
        .subquery()
    )
    return db.session.scalar(
        select(Order)
        .join(delivered, delivered.c.order_id == Order.id)
        .where(Order.customer_phone.in_(phone_forms(phone)), Order.status == OrderStatus.DELIVERED)
        .order_by(delivered.c.at.desc(), Order.id.desc())
        .limit(1)
    )


def open_return_of(order: Order) -> ReturnRequest | None:
    """The order's return still with staff (requested, approved or received), if there is one."""
    return db.session.scalar(
        select(ReturnRequest)
        .where(ReturnRequest.order_id == order.id, ReturnRequest.status.in_(OPEN_STATUSES))
        .order_by(ReturnRequest.id.desc())
        .limit(1)
    )


def returns_of(order: Order) -> list[ReturnRequest]:
    """The order's returns for its page, newest first, with their photos' files in one more query."""
    return list(
        db.session.scalars(
            select(ReturnRequest)
            .where(ReturnRequest.order_id == order.id)
            .options(selectinload(ReturnRequest.photos).selectinload(ReturnPhoto.media_file))
            .order_by(ReturnRequest.id.desc())
        )
    )


def find_returns(status: str | None, limit: int = LIST_PAGE) -> list[ReturnRequest]:
    """The returns list: newest first, optionally of one status, with their orders."""
    query = select(ReturnRequest).options(selectinload(ReturnRequest.order), selectinload(ReturnRequest.photos))
    if status:
        query = query.where(ReturnRequest.status == status)
    return list(
        db.session.scalars(query.order_by(ReturnRequest.created_at.desc(), ReturnRequest.id.desc()).limit(limit))
    )


def count_by_status() -> dict[str, int]:
    rows = db.session.execute(select(ReturnRequest.status, func.count()).group_by(ReturnRequest.status))
    return {status: count for status, count in rows}


def returned_items_minor(order: Order) -> int:
    """What the returned items cost the customer (the lines less the discount), capped at what can go back."""
    items = max(0, (order.subtotal_minor or 0) - (order.discount_minor or 0))
    return min(items, order.amount_paid_minor or 0)


# ---------------------------------------------------------------------------------------------------------------
# The customer's side (called from the chat, inside the webhook's transaction)
# ---------------------------------------------------------------------------------------------------------------


def create_request(order: Order, *, reason: str, comment: str, media_file_ids: list[int]) -> ReturnRequest:
    """The customer finished the chat's return questions: the request, its photos, a timeline line, and the order
    flagged for staff. Only media of messages from the order's own number attach."""
    if reason not in RETURN_REASONS:
        reason = "other"
    request = ReturnRequest(order_id=order.id, reason=reason, comment=comment.strip()[:COMMENT_MAX])
    db.session.add(request)
    for media_file in _customers_media(order, media_file_ids):
        request.photos.append(ReturnPhoto(media_file_id=media_file.id))
    photos = f", {len(request.photos)} photo(s)" if request.photos else ""
    note = f"Return requested in the chat: {REASON_LABELS[reason]}{photos}"
    record_event(order, "return", "customer", note=note)
    order.attention = f"Return requested: {REASON_LABELS[reason]}. Approve or reject it on the order page."[:300]
    db.session.flush()
    return request


def send_to_person(order: Order, *, comment: str = "") -> ReturnRequest:
    """Asked after the return window (or with returns off): kept on the order for the person who answers."""
    request = ReturnRequest(order_id=order.id, reason="other", comment=comment.strip()[:COMMENT_MAX])
    request.status = "sent_to_person"
    db.session.add(request)
    record_event(order, "return", "customer", note="Return asked after the return window: a person answers")
    db.session.flush()
    return request


def _customers_media(order: Order, media_file_ids: list[int]) -> list[MediaFile]:
    ids = [media_id for media_id in media_file_ids if isinstance(media_id, int)][:PHOTOS_MAX]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(MediaFile)
            .join(Message, Message.id == MediaFile.message_id)
            .where(
                MediaFile.id.in_(ids),
                Message.direction == "in",
                Message.phone.in_(phone_forms(order.customer_phone)),
                ~select(ReturnPhoto.id).where(ReturnPhoto.media_file_id == MediaFile.id).exists(),
            )
            .order_by(MediaFile.id)
        )
    )


# ---------------------------------------------------------------------------------------------------------------
# Staff's side
# ---------------------------------------------------------------------------------------------------------------


def _lock_return(order: Order, return_id: int, status: str) -> ReturnRequest:
    """Lock the order, then its return (the order first, in every staff step), and refuse the step unless the
    return is still `status`: staff acting on a page that has gone stale are told to reload it."""
    locks.lock_order(order.id)
    request = db.session.scalar(
        select(ReturnRequest)
        .where(ReturnRequest.id == return_id, ReturnRequest.order_id == order.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if request is None:
        raise ReturnNotAllowed("That return is not on this order.")
    if request.status != status:
        raise ReturnNotAllowed(
            f"This return is {STATUS_LABELS[request.status].lower()}: reload the page to see where it stands."
        )
    return request


def _decided(order: Order, request: ReturnRequest, staff: StaffUser, status: str, note: str) -> None:
    request.status, request.decided_by_id = status, staff.id
    record_event(order, "return", staff.name, note=note, staff_user_id=staff.id)
    order.attention = ""
    db.session.flush()
    events.publish(events.RETURN_UPDATED, return_request=request)


def _answer_request(order: Order, return_id: int, staff: StaffUser, status: str, *, staff_note: str) -> ReturnRequest:
    """Approve or reject a requested return: staff's words go to the customer and onto the timeline."""
    with transaction():
        request = _lock_return(order, return_id, "requested")
        request.staff_note = staff_note
        _decided(order, request, staff, status, f"Return {status}: {staff_note}")
    return request


def approve(order: Order, return_id: int, *, instructions: str, staff: StaffUser) -> ReturnRequest:
    """Staff accept the return; the customer is told how to send it back (staff's words, or the standard ones)."""
    instructions = " ".join(instructions.split()) or DEFAULT_APPROVAL_NOTE
    if len(instructions) > STAFF_NOTE_MAX:
        raise ReturnNotAllowed(f"Keep the instructions to {STAFF_NOTE_MAX} characters.")
    return _answer_request(order, return_id, staff, "approved", staff_note=instructions)


def reject(order: Order, return_id: int, *, reason: str, staff: StaffUser) -> ReturnRequest:
    """Staff refuse the return with a reason the customer gets."""
    reason = " ".join(reason.split())
    if not reason:
        raise ReturnNotAllowed("Give the reason the customer will read.")
    if len(reason) > STAFF_NOTE_MAX:
        raise ReturnNotAllowed(f"Keep the reason to {STAFF_NOTE_MAX} characters.")
    return _answer_request(order, return_id, staff, "rejected", staff_note=reason)


def mark_received(order: Order, return_id: int, *, staff: StaffUser) -> ReturnRequest:
    """The items are back: their stock goes back on hand (a ledger row each), and the refund can be given."""
    with transaction():
        request = _lock_return(order, return_id, "approved")
        stock.return_to_shelf(order, by=staff.name, staff_user_id=staff.id)
        _decided(order, request, staff, "received", "Return received: the items are back in stock")
    return request


def refund_return(
    order: Order,
    return_id: int,
    *,
    amount_minor: int,
    reason: str,
    staff: StaffUser,
    expected_version: int | None,
    payment_id: int | None = None,
) -> RefundDone:
    """Give the money back for a received return through the one refund path, and mark the return refunded in
    the same transaction: a refund the provider refuses marks nothing. The customer hears of it once, in the
    refund message (amount and timing)."""
    with transaction(), db.session.begin_nested():
        # Checked before the provider is asked: a refused step gives nothing back.
        request = _lock_return(order, return_id, "received")
        done = refund_payment(
            order,
            amount_minor=amount_minor,
            reason=reason,
            staff=staff,
            expected_version=expected_version,
            payment_id=payment_id,
        )
        request.status, request.refund_minor = "refunded", (request.refund_minor or 0) + done.amount_minor
        record_event(order, "return", staff.name, note="Return refunded", staff_user_id=staff.id)
    return done


def can_refund(order: Order) -> bool:
    """Is there money on the order to give back for a received return?"""
    return bool(refundable_payments(order))
