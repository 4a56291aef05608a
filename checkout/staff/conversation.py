"""Staff and the customer's WhatsApp conversation: read it, write into it, and watch the outbox.

A staff member may write free-form text only while the customer's 24-hour window is open (Meta
refuses anything but an approved template outside it, code 131047). The message goes through the
outbox like every other message, and the order's timeline says who sent what. The outbox listing
and its Retry button let staff see and unblock deliveries that gave up.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from checkout import outbox, service_sessions
from checkout.database import transaction, utcnow
from checkout.extensions import db
from checkout.models.messaging import Contact, Message, OutboxItem
from checkout.models.orders import Order
from checkout.models.staff import StaffUser
from checkout.models.store import get_store_settings
from checkout.orders.lifecycle import record_event
from checkout.web.urls import status_url
from checkout.whatsapp import chats
from checkout.whatsapp.conversation_window import WINDOW, in_window
from checkout.whatsapp.limits import TEXT_BODY_MAX, template_parameter, template_parameter_room
from checkout.whatsapp.messages import STAFF_UPDATE_WORDS, staff_update_template, staff_update_values, text_message
from checkout.whatsapp.providers import messaging_enabled
from checkout.whatsapp.templates import ORDER_UPDATE as ORDER_UPDATE_TEMPLATE

CONVERSATION_LIMIT = 50
STAFF_MESSAGE_MAX = TEXT_BODY_MAX
STAFF_MESSAGE_PURPOSE = "staff_message"
TIMELINE_EXCERPT_MAX = 120
OUTBOX_STATUSES = ("pending", "failed", "done")
OUTBOX_PAGE_SIZE = 100


# ---------------------------------------------------------------------------------------------------------------
# Errors the admin turns into a 422 or a 409
# ---------------------------------------------------------------------------------------------------------------


class StaffMessageError(Exception):
    """Something a staff member can be told in plain words."""

    message = "The message could not be sent."

    def __str__(self) -> str:
        return self.message


class MessagingOff(StaffMessageError):
    message = "WhatsApp messaging is switched off for this shop, so nothing can be sent from here."


class WindowClosed(StaffMessageError):
    message = (
        "The customer has not written to you on WhatsApp in the last 24 hours, so WhatsApp only allows "
        "approved templates. Only templates can be sent until the customer writes again."
    )


class InvalidMessageText(StaffMessageError):
    def __init__(self, message: str):
        self.message = message


class NotRetryable(StaffMessageError):
    def __init__(self, message: str):
        self.message = message


class SessionRefusal(StaffMessageError):
    """The customer's paid service session does not allow this reply (ended, or not this staff member's role)."""

    def __init__(self, message: str):
        self.message = message


def claim_session(phone: str, staff: StaffUser) -> None:
    """Inside a staff message's transaction: a paid session decides whether it may go; the first one starts it."""
    try:
        service_sessions.claim_for_reply(phone, staff)
    except service_sessions.SessionRefused as refused:
        raise SessionRefusal(refused.message) from None


# ---------------------------------------------------------------------------------------------------------------
# The conversation as staff see it
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryState:
    name: str  # queued sent delivered read failed: also the CSS modifier
    symbol: str
    label: str


DELIVERY_STATES = {
    "queued": DeliveryState("queued", "⏳", "Queued"),
    "sent": DeliveryState("sent", "✓", "Sent"),
    "delivered": DeliveryState("delivered", "✓✓", "Delivered"),
    "read": DeliveryState("read", "✓✓", "Read"),
    "failed": DeliveryState("failed", "✗", "Failed"),
}


@dataclass(frozen=True)
class ConversationEntry:
    direction: str  # in, out
    at: datetime
    text: str
    type_label: str  # "[image]" for an inbound non-text message, "Template" for ours; else ""
    purpose_label: str
    delivery: DeliveryState | None  # outbound only
    error: str  # "131047: Re-engagement message" for a failed message


@dataclass(frozen=True)
class ConversationWindow:
    open: bool
    last_inbound_at: datetime | None
    closes_at: datetime | None
    as_of: datetime  # the moment it was worked out: "wrote 5 min ago" counts from here


@dataclass(frozen=True)
class OrderConversation:
    phone: str
    window: ConversationWindow
    entries: list[ConversationEntry]
    messaging_enabled: bool
    template_room: int  # the most characters staff may write into the order update template for this order

    @property
    def can_send(self) -> bool:
        return self.messaging_enabled and self.window.open

    @property
    def can_send_template(self) -> bool:
        """Outside the window staff may still send their words inside the approved order_update template."""
        return self.messaging_enabled and not self.window.open


def purpose_label(purpose: str) -> str:
    """'status:out_for_delivery' → 'Status: out for delivery'; 'order_confirmation' → 'Order confirmation'."""
    if not purpose:
        return ""
    head, _, tail = purpose.partition(":")
    label = head.replace("_", " ").capitalize()
    return f"{label}: {tail.replace('_', ' ')}" if tail else label


def _error_text(message: Message) -> str:
    if message.status != "failed":
        return ""
    title = message.error_title or "Not delivered"
    return f"{message.error_code}: {title}" if message.error_code is not None else title


def _type_label(message: Message) -> str:
    if message.direction == "in":
        return "" if message.kind == "text" else f"[{message.kind}]"
    return "Template" if message.kind == "template" else ""


def _entry(message: Message) -> ConversationEntry:
    type_label = _type_label(message)
    # Inbound media has no text of its own: the webhook stored the same "[image]" placeholder.
    text = "" if message.body_text == type_label else message.body_text
    return ConversationEntry(
        direction=message.direction,
        at=message.created_at,
        text=text,
        type_label=type_label,
        purpose_label=purpose_label(message.purpose) if message.direction == "out" else "",
        delivery=DELIVERY_STATES.get(message.status) if message.direction == "out" else None,
        error=_error_text(message),
    )


def conversation_window(phone: str, now: datetime | None = None) -> ConversationWindow:
    """Whether staff may write freely to `phone` now, and until when."""
    now = now or utcnow()
    last = db.session.scalar(select(Contact.last_inbound_at).where(Contact.phone == phone)) if phone else None
    if last is None:
        return ConversationWindow(False, None, None, now)
    return ConversationWindow(bool(phone) and in_window(phone), last, last + WINDOW, now)


def conversation_for(order: Order, limit: int = CONVERSATION_LIMIT) -> OrderConversation:
    """The last `limit` messages with the order's customer (both directions, any order of theirs), oldest first."""
    phone = order.customer_phone or ""
    rows = []
    if phone:
        query = (
            select(Message)
            .where(Message.phone == phone)
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(limit)
        )
        rows = list(db.session.scalars(query))
    return OrderConversation(
        phone=phone,
        window=conversation_window(phone),
        entries=[_entry(message) for message in reversed(rows)],
        messaging_enabled=messaging_enabled(),
        template_room=template_room(order),
    )


def template_room(order: Order) -> int:
    """How many characters of a staff member's words fit in the order update template for this order.

    Meta counts the template's body with every parameter filled in (at most 1,024, else 132005), so the room
    is what the fixed text, the reference, the shop's name and the status link leave over.
    """
    values = _template_values(order, "")
    return template_parameter_room(ORDER_UPDATE_TEMPLATE, values, STAFF_UPDATE_WORDS)


def _template_values(order: Order, text: str) -> list[str]:
    values = staff_update_values(order, get_store_settings(), text, status_url=status_url(order))
    return [template_parameter(value) for value in values]


# ---------------------------------------------------------------------------------------------------------------
# Writing to the customer
# ---------------------------------------------------------------------------------------------------------------


def checked_staff_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidMessageText("Write a message first.")
    if len(text) > STAFF_MESSAGE_MAX:
        raise InvalidMessageText(f"A WhatsApp message can be at most {STAFF_MESSAGE_MAX} characters.")
    return text


def check_fits_template(order: Order, text: str) -> None:
    room = template_room(order)
    words = template_parameter(text)  # as it will be sent: one line
    if len(words) > room:
        raise InvalidMessageText(
            f"Sent as an order update, your words can be at most {room} characters "
            f"(WhatsApp allows 1,024 for the whole update, link and shop name included); "
            f"this message has {len(words)}. Shorten it, or wait until the customer writes and reply freely."
        )


def timeline_excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TIMELINE_EXCERPT_MAX else flat[: TIMELINE_EXCERPT_MAX - 1] + "…"


def queued_under(key: str) -> OutboxItem | None:
    return db.session.scalar(select(OutboxItem).where(OutboxItem.idempotency_key == key))


def _repeat_of(item: OutboxItem | None, order: Order) -> Message | None:
    if item is not None and item.message is not None and item.message.order_id == order.id:
        return item.message
    return None


def send_staff_message(
    order: Order, text: str, *, staff: StaffUser, request_key: str = "", as_template: bool = False
) -> Message:
    """Queue `text` to the order's customer and note it on the timeline; one transaction, committed here.

    Inside the 24-hour window the text goes as it is; outside it only with `as_template`, inside the
    approved order_update template (one line). `request_key` comes from the form the staff member saw:
    a double click or a resent form queues the message once. Raises MessagingOff, WindowClosed,
    InvalidMessageText or SessionRefusal (a paid session's rule) and then writes nothing.
    """
    text = checked_staff_text(text)
    key = f"staff:{request_key or uuid.uuid4().hex}"
    earlier = queued_under(key)
    if _repeat_of(earlier, order) is not None:
        return earlier.message
    if earlier is not None:
        key = f"staff:{uuid.uuid4().hex}"  # a key from some other form: never let it swallow this message
    if not messaging_enabled():
        raise MessagingOff()
    if in_window(order.customer_phone):
        outbound = text_message(STAFF_MESSAGE_PURPOSE, text)
    elif as_template:
        check_fits_template(order, text)
        outbound = staff_update_template(
            order,
            get_store_settings(),
            text,
            status_url=status_url(order),
            language=chats.template_language_for(order.customer_phone),
        )
    else:
        raise WindowClosed()
    try:
        with transaction():
            claim_session(order.customer_phone, staff)
            message = outbox.enqueue_whatsapp(outbound, phone=order.customer_phone, key=key, order=order)
            record_event(order, "whatsapp", staff.name, note=f"Sent: {timeline_excerpt(text)}", staff_user_id=staff.id)
    except IntegrityError:
        # The same form posted twice at once: the other request queued it.
        repeated = _repeat_of(queued_under(key), order)
        if repeated is None:
            raise
        return repeated
    return message


# ---------------------------------------------------------------------------------------------------------------
# The outbox as staff see it
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxRow:
    id: int
    kind: str
    status: str
    recipient: str  # E.164 phone, or the host of the shop's webhook URL
    recipient_is_phone: bool
    purpose: str
    order_reference: str
    attempts: int
    next_attempt_at: datetime | None  # pending items only
    last_error: str
    in_doubt: bool
    created_at: datetime
    done_at: datetime | None
    retryable: bool


@dataclass(frozen=True)
class OutboxPage:
    status: str
    rows: list[OutboxRow]
    older_than: int | None  # the id to continue from, when there are older items


def outbox_counts() -> dict[str, int]:
    counts = dict.fromkeys(OUTBOX_STATUSES, 0)
    for status, count in db.session.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status)):
        counts[status] = count
    return counts


def _retry_refusal(item: OutboxItem) -> str | None:
    """Why this item may not be retried, or None when it may."""
    if item.status != "failed":
        return f"Only failed items can be retried; this one is {item.status}."
    if item.message is not None and item.message.wamid:
        # A timed-out send that Meta's status webhook later confirmed: sending it again would be a duplicate.
        return "WhatsApp already accepted this message, so retrying would send it twice."
    return None


def _row(item: OutboxItem) -> OutboxRow:
    message = item.message
    if item.kind == "whatsapp" and message is not None:
        recipient, is_phone = message.phone, True
        purpose = purpose_label(message.purpose)
        reference = message.order.reference if message.order is not None else ""
    else:
        payload = item.payload or {}
        recipient, is_phone = urlsplit(payload.get("url") or "").hostname or "", False
        purpose = payload.get("event") or item.kind
        reference = ((payload.get("data") or {}).get("order") or {}).get("reference") or ""
    return OutboxRow(
        id=item.id,
        kind=item.kind,
        status=item.status,
        recipient=recipient,
        recipient_is_phone=is_phone,
        purpose=purpose,
        order_reference=reference,
        attempts=item.attempts,
        next_attempt_at=item.next_attempt_at if item.status == "pending" else None,
        last_error=item.last_error,
        in_doubt=item.in_doubt,
        created_at=item.created_at,
        done_at=item.done_at,
        retryable=_retry_refusal(item) is None,
    )


def outbox_page(status: str, older_than: int | None = None, limit: int = OUTBOX_PAGE_SIZE) -> OutboxPage:
    """Items with `status`, newest first, `limit` at a time; `older_than` continues from an earlier page."""
    if status not in OUTBOX_STATUSES:
        raise ValueError(f"unknown outbox status {status!r}")
    query = (
        select(OutboxItem)
        .where(OutboxItem.status == status)
        .options(selectinload(OutboxItem.message).selectinload(Message.order))
        .order_by(OutboxItem.id.desc())
        .limit(limit + 1)
    )
    if older_than is not None:
        query = query.where(OutboxItem.id < older_than)
    items = list(db.session.scalars(query))
    older = items[limit - 1].id if len(items) > limit else None
    return OutboxPage(status=status, rows=[_row(item) for item in items[:limit]], older_than=older)


def retry_failed_item(item_id: int) -> OutboxItem | None:
    """Put a failed item back in the queue, due now; commits (which nudges the queue). None if there is none.

    Raises NotRetryable for an item that has not failed, or whose message WhatsApp already accepted.
    """
    item = db.session.scalar(select(OutboxItem).where(OutboxItem.id == item_id).with_for_update())
    if item is None:
        db.session.rollback()
        return None
    refusal = _retry_refusal(item)
    if refusal is not None:
        db.session.rollback()
        raise NotRetryable(refusal)
    outbox.retry_now(item)
    db.session.commit()
    return item
