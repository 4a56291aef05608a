"""The staff inbox: every customer's conversation, with or without an order, and what staff do with one.

Queries read the `conversations` rows that every inbound message keeps current (checkout/whatsapp/chats.py),
so the list, its filters and the unread badge never scan `messages`; each list is one keyset page of
(last_activity_at, id), newest first, read from an index that matches its filter. A conversation's
messages are the `messages` rows with its phone.

Use cases lock the conversation row, change it and commit once. A reply goes through the outbox like every
other message: free text inside the customer's 24-hour window, outside it only the approved order update
template (when the customer has an order to carry it), with the form's key so a double submit sends once.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, func, literal_column, select, tuple_, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from checkout import outbox, service_sessions
from checkout.database import transaction
from checkout.extensions import db
from checkout.models.carts import Cart
from checkout.models.conversations import Conversation, ConversationNote, QuickReply
from checkout.models.messaging import Message, OutboxItem
from checkout.models.orders import Order
from checkout.models.staff import StaffUser
from checkout.models.store import get_store_settings
from checkout.orders.lifecycle import OPEN_STATUSES, record_event
from checkout.phones import phone_forms
from checkout.staff.conversation import (
    STAFF_MESSAGE_PURPOSE,
    ConversationWindow,
    MessagingOff,
    StaffMessageError,
    WindowClosed,
    check_fits_template,
    checked_staff_text,
    claim_session,
    conversation_window,
    queued_under,
    template_room,
    timeline_excerpt,
)
from checkout.staff.permissions import Permission, role_allows
from checkout.web.urls import status_url
from checkout.whatsapp import chats
from checkout.whatsapp.conversation_window import in_window
from checkout.whatsapp.messages import staff_update_template, text_message
from checkout.whatsapp.providers import messaging_enabled
from checkout.whatsapp.templates import template_language

PAGE_SIZE = 50
MESSAGES_PAGE_SIZE = 50
SIDE_ORDERS = 10
SIDE_CARTS = 5
SEARCH_MAX = 100
NOTE_MAX = 2000
QUICK_REPLY_TITLE_MAX = 40
QUICK_REPLY_BODY_MAX = 4096

ALL, UNREAD, MINE, UNASSIGNED, WAITING, OPEN_ORDER = "all", "unread", "mine", "unassigned", "waiting", "open_order"
FILTERS = {
    ALL: "All",
    UNREAD: "Unread",
    MINE: "Mine",
    UNASSIGNED: "Unassigned",
    WAITING: "Waiting for a person",
    OPEN_ORDER: "Has an open order",
}


# ---------------------------------------------------------------------------------------------------------------
# Errors staff are told in plain words (the admin answers them with a 422)
# ---------------------------------------------------------------------------------------------------------------


class InboxRefusal(StaffMessageError):
    def __init__(self, message: str):
        self.message = message


class TemplateOnly(StaffMessageError):
    message = (
        "The customer has not written in the last 24 hours, so WhatsApp only allows approved templates, and the "
        "only one staff can send (the order update) needs an order. This customer has none: wait until they "
        "write again, then reply freely."
    )


# ---------------------------------------------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the last row's (last_activity_at, id). In URLs as '<microseconds since 1970>.<id>'."""

    at: datetime
    id: int

    def token(self) -> str:
        micros = int(self.at.timestamp()) * 1_000_000 + self.at.microsecond
        return f"{micros}.{self.id}"

    @classmethod
    def parse(cls, token: str | None) -> "Cursor | None":
        """None for anything that is not a cursor we made (bad input is the first page, never an error)."""
        match = re.fullmatch(r"(\d{1,17})\.(\d{1,10})", (token or "").strip())
        if not match or int(match[2]) > 2**31 - 1:
            return None
        micros = int(match[1])
        try:
            at = datetime.fromtimestamp(micros // 1_000_000, UTC).replace(microsecond=micros % 1_000_000)
        except (OverflowError, OSError, ValueError):
            return None
        return cls(at, int(match[2]))


@dataclass(frozen=True)
class InboxQuery:
    show: str = ALL
    search: str = ""
    after: Cursor | None = None  # continue after this row (older activity)

    @classmethod
    def parse(cls, show: str | None, search: str | None, after: str | None) -> "InboxQuery":
        return cls(
            show=show if show in FILTERS else ALL,
            search=" ".join((search or "").split())[:SEARCH_MAX],
            after=Cursor.parse(after),
        )


@dataclass(frozen=True)
class InboxRow:
    id: int
    phone: str
    name: str
    preview: str
    last_activity_at: datetime
    unread: int
    handled_by: str
    waiting: bool
    assigned_to: str  # the staff member's name, "" when nobody
    has_open_order: bool


@dataclass(frozen=True)
class InboxPage:
    query: InboxQuery
    rows: list[InboxRow]
    next_cursor: Cursor | None  # the cursor of the next (older) page, when there is one

    @property
    def version(self) -> str:
        """Changes whenever what the page shows changes: the poll answers 'nothing new' while it holds."""
        state = [(r.id, r.last_activity_at.isoformat(), r.unread, r.handled_by, r.assigned_to) for r in self.rows]
        return uuid.uuid5(uuid.NAMESPACE_OID, repr(state)).hex[:16]


# The partial indexes' own condition, written as a literal: a bound parameter (unread_count > ?) would keep
# SQLite (and PostgreSQL's generic plans) from seeing that the index covers the query.
HAS_UNREAD = Conversation.unread_count > literal_column("0")


def _open_order_exists():
    """The phones of open orders, gathered once from the open-orders index, not looked up per conversation."""
    open_phones = select(Order.customer_phone).where(Order.status.in_(OPEN_STATUSES))
    return and_(Conversation.phone != "", Conversation.phone.in_(open_phones))


def _search_condition(search: str):
    """Conversations whose name, messages or phone digits contain the words.

    Each way of matching gathers its conversation ids through its own index (pg_trgm on PostgreSQL) and the
    page keeps those: an OR over the list itself would test every conversation in turn (150 ms at 100,000).
    """
    pattern = f"%{_escape_like(search)}%"
    said_it = select(Message.phone).where(Message.body_text.ilike(pattern, escape="\\"))
    matches = [
        select(Conversation.id).where(Conversation.name.ilike(pattern, escape="\\")),
        select(Conversation.id).where(Conversation.phone != "", Conversation.phone.in_(said_it)),
    ]
    digits = re.sub(r"\D", "", search)
    if len(digits) >= 3:
        matches.append(select(Conversation.id).where(Conversation.phone.like(f"%{digits}%")))
    return Conversation.id.in_(union(*matches))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filter_condition(show: str, staff_id: int):
    return {
        UNREAD: HAS_UNREAD,
        MINE: Conversation.assigned_to_id == staff_id,
        UNASSIGNED: Conversation.assigned_to_id.is_(None),
        WAITING: Conversation.waiting_since.is_not(None),
        OPEN_ORDER: _open_order_exists(),
    }.get(show)


def inbox_page(query: InboxQuery, staff_id: int, limit: int = PAGE_SIZE) -> InboxPage:
    """One page of conversations, newest activity first: one query for the rows, one for their open orders."""
    statement = (
        select(Conversation, StaffUser.name)
        .outerjoin(StaffUser, StaffUser.id == Conversation.assigned_to_id)
        .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
        .limit(limit + 1)
    )
    condition = _filter_condition(query.show, staff_id)
    if condition is not None:
        statement = statement.where(condition)
    if query.search:
        statement = statement.where(_search_condition(query.search))
    if query.after is not None:
        statement = statement.where(
            tuple_(Conversation.last_activity_at, Conversation.id) < tuple_(query.after.at, query.after.id)
        )
    found = db.session.execute(statement).all()
    shown = found[:limit]
    with_open_orders = _phones_with_open_orders([conversation.phone for conversation, _ in shown])
    rows = [
        _row(conversation, assignee or "", conversation.phone in with_open_orders) for conversation, assignee in shown
    ]
    last = shown[-1][0] if len(found) > limit else None
    next_cursor = Cursor(last.last_activity_at, last.id) if last is not None else None
    return InboxPage(query=query, rows=rows, next_cursor=next_cursor)


def _phones_with_open_orders(phones: list[str]) -> set[str]:
    phones = [phone for phone in phones if phone]
    if not phones:
        return set()
    # Statuses are checked here, not in SQL: with them PostgreSQL prefers the open orders' trigram index for the
    # phone list (built for the desk's search), which costs milliseconds per phone instead of microseconds.
    found = db.session.execute(select(Order.customer_phone, Order.status).where(Order.customer_phone.in_(phones)))
    return {phone for phone, status in found if status in OPEN_STATUSES}


def _row(conversation: Conversation, assignee: str, has_open_order: bool) -> InboxRow:
    return InboxRow(
        id=conversation.id,
        phone=conversation.phone,
        name=conversation.name,
        preview=conversation.last_preview,
        last_activity_at=conversation.last_activity_at,
        unread=conversation.unread_count,
        handled_by=conversation.handled_by,
        waiting=conversation.waiting_since is not None,
        assigned_to=assignee,
        has_open_order=has_open_order,
    )


def unread_total() -> int:
    """How many conversations have something unread: counted from the partial index of exactly those rows."""
    return db.session.scalar(select(func.count()).select_from(Conversation).where(HAS_UNREAD))


# ---------------------------------------------------------------------------------------------------------------
# One conversation
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConversationView:
    conversation: Conversation
    messages: list[Message]  # oldest first
    older_than: int | None  # the message id to continue from for older messages, when there are some
    orders: list[Order]  # newest first
    carts: list[Cart]  # not yet ordered, newest first
    notes: list[ConversationNote]  # oldest first
    window: ConversationWindow
    messaging_enabled: bool
    template_order: Order | None  # the order whose update template carries a reply outside the window
    template_room: int
    session: service_sessions.SessionState | None = None  # the customer's latest paid service session

    @property
    def can_send(self) -> bool:
        return self.messaging_enabled and self.window.open and bool(self.conversation.phone)

    @property
    def can_send_template(self) -> bool:
        return self.messaging_enabled and not self.window.open and self.template_order is not None

    @property
    def version(self) -> str:
        state = [(m.id, m.status) for m in self.messages] + [
            self.conversation.handled_by,
            self.conversation.assigned_to_id,
            len(self.notes),
        ]
        return uuid.uuid5(uuid.NAMESPACE_OID, repr(state)).hex[:16]


def get_conversation(conversation_id: int) -> Conversation | None:
    return db.session.get(Conversation, conversation_id)


def open_conversation(conversation: Conversation) -> None:
    """Staff are looking at it: nothing is unread any more (one conditional UPDATE, committed)."""
    if conversation.unread_count:
        db.session.execute(
            update(Conversation)
            .where(Conversation.id == conversation.id, Conversation.unread_count > 0)
            .values(unread_count=0)
        )
        db.session.commit()


def conversation_view(conversation: Conversation, older_than: int | None = None) -> ConversationView:
    """The chat (the last page of messages before `older_than`, oldest first), its orders, carts and notes."""
    phone = conversation.phone
    forms = phone_forms(phone)
    messages, older = _messages(phone, older_than)
    orders = (
        list(
            db.session.scalars(
                select(Order)
                .where(Order.customer_phone.in_(forms))
                .order_by(Order.created_at.desc(), Order.id.desc())
                .limit(SIDE_ORDERS)
            )
        )
        if forms
        else []
    )
    carts = (
        list(
            db.session.scalars(
                select(Cart)
                .where(Cart.phone.in_(forms), Cart.order_id.is_(None))
                .options(selectinload(Cart.lines))
                .order_by(Cart.updated_at.desc(), Cart.id.desc())
                .limit(SIDE_CARTS)
            )
        )
        if forms
        else []
    )
    notes = list(
        db.session.scalars(
            select(ConversationNote)
            .where(ConversationNote.conversation_id == conversation.id)
            .options(selectinload(ConversationNote.author))
            .order_by(ConversationNote.id)
        )
    )
    template_order = orders[0] if orders else None
    return ConversationView(
        conversation=conversation,
        messages=messages,
        older_than=older,
        orders=orders,
        carts=carts,
        notes=notes,
        window=conversation_window(phone),
        messaging_enabled=messaging_enabled(),
        template_order=template_order,
        template_room=template_room(template_order) if template_order is not None else 0,
        session=service_sessions.session_state(phone),
    )


def _messages(phone: str, older_than: int | None) -> tuple[list[Message], int | None]:
    if not phone:
        return [], None
    query = (
        select(Message)
        .where(Message.phone == phone)
        .order_by(Message.id.desc())  # ids follow arrival; the (phone, id) index reads exactly this page
        .limit(MESSAGES_PAGE_SIZE + 1)
    )
    if older_than is not None:
        query = query.where(Message.id < older_than)
    rows = list(db.session.scalars(query))
    shown = rows[:MESSAGES_PAGE_SIZE]
    older = shown[-1].id if len(rows) > MESSAGES_PAGE_SIZE else None
    return list(reversed(shown)), older


# ---------------------------------------------------------------------------------------------------------------
# What staff do with a conversation: each locks the row, changes it, commits once
# ---------------------------------------------------------------------------------------------------------------


def _locked(conversation_id: int) -> Conversation:
    found = db.session.scalar(select(Conversation).where(Conversation.id == conversation_id).with_for_update())
    if found is None:
        raise InboxRefusal("That conversation no longer exists.")
    return found


def staff_who_can_answer() -> list[StaffUser]:
    """Active staff whose role may answer conversations: whom a conversation can be assigned to."""
    active = db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.name))
    return [user for user in active if role_allows(user.role, Permission.ANSWER_CONVERSATIONS)]


def assign(conversation_id: int, assignee_id: int | None) -> Conversation:
    """Give the conversation to a staff member who may answer conversations, or to nobody (None)."""
    with transaction():
        if assignee_id is not None:
            assignee = db.session.get(StaffUser, assignee_id)
            if assignee is None or not assignee.active:
                raise InboxRefusal("Choose an active staff member.")
            if not role_allows(assignee.role, Permission.ANSWER_CONVERSATIONS):
                raise InboxRefusal(f"{assignee.name} may not answer conversations, so the chat can't be theirs.")
        conversation = _locked(conversation_id)
        conversation.assigned_to_id = assignee_id
    return conversation


def take(conversation_id: int, staff: StaffUser) -> Conversation:
    """The staff member answers from now on: the bot stays quiet (order notifications still go)."""
    with transaction():
        conversation = _locked(conversation_id)
        chats.take(conversation, staff.id)
    return conversation


def hand_back_to_bot(conversation_id: int) -> Conversation:
    with transaction():
        conversation = _locked(conversation_id)
        chats.hand_to_bot(conversation)
    return conversation


def add_note(conversation_id: int, body: str, staff: StaffUser) -> ConversationNote:
    """An internal note: staff see it beside the chat, the customer never does."""
    body = (body or "").strip()
    if not body:
        raise InboxRefusal("Write the note first.")
    if len(body) > NOTE_MAX:
        raise InboxRefusal(f"A note can be at most {NOTE_MAX} characters.")
    with transaction():
        _locked(conversation_id)
        note = ConversationNote(conversation_id=conversation_id, author_id=staff.id, body=body)
        db.session.add(note)
    return note


def _repeat_of(item: OutboxItem | None, phone: str) -> Message | None:
    if item is not None and item.message is not None and item.message.phone == phone:
        return item.message
    return None


def send_reply(
    conversation_id: int, text: str, *, staff: StaffUser, request_key: str = "", as_template: bool = False
) -> Message:
    """Queue a staff reply to the customer; the same form sent twice (`request_key`) queues it once.

    The person replying takes the conversation from the bot (or from the waiting queue): the bot stays quiet
    until someone hands it back. A customer in a paid service session is answered only by staff who may run
    sessions, and not once it ended (the first reply starts it). Inside the 24-hour window the text goes as it is. Outside it only with `as_template`, inside the approved
    order update template of the customer's latest order (one line); with no order, TemplateOnly. Raises
    MessagingOff, WindowClosed, TemplateOnly or InvalidMessageText and then writes nothing.
    """
    text = checked_staff_text(text)
    conversation = get_conversation(conversation_id)
    if conversation is None:
        raise InboxRefusal("That conversation no longer exists.")
    phone = conversation.phone
    if not phone:
        raise InboxRefusal("This customer wrote without a phone number WhatsApp shares, so there is nowhere to reply.")
    key = f"inbox:{request_key or uuid.uuid4().hex}"
    earlier = queued_under(key)
    if (repeated := _repeat_of(earlier, phone)) is not None:
        return repeated
    if earlier is not None:
        key = f"inbox:{uuid.uuid4().hex}"  # a key from some other form: never let it swallow this message
    if not messaging_enabled():
        raise MessagingOff()
    order = None
    if in_window(phone):
        outbound = text_message(STAFF_MESSAGE_PURPOSE, text)
    else:
        order = latest_order(phone)
        if order is None:
            raise TemplateOnly()
        if not as_template:
            raise WindowClosed()
        check_fits_template(order, text)
        outbound = staff_update_template(
            order,
            get_store_settings(),
            text,
            status_url=status_url(order),
            language=template_language(conversation.language),
        )
    try:
        with transaction():
            locked = _locked(conversation_id)
            claim_session(phone, staff)
            message = outbox.enqueue_whatsapp(outbound, phone=phone, key=key, order=order)
            chats.note_outbound(locked, text)
            if locked.handled_by == chats.BOT or locked.waiting_since is not None:
                # A person answering has the conversation: the bot must not talk over them.
                chats.take(locked, staff.id)
            if order is not None:
                note = f"Sent from the inbox: {timeline_excerpt(text)}"
                record_event(order, "whatsapp", staff.name, note=note, staff_user_id=staff.id)
    except IntegrityError:
        # The same form posted twice at once: the other request queued it.
        repeated = _repeat_of(queued_under(key), phone)
        if repeated is None:
            raise
        return repeated
    return message


def latest_order(phone: str) -> Order | None:
    forms = phone_forms(phone)
    if not forms:
        return None
    return db.session.scalar(
        select(Order).where(Order.customer_phone.in_(forms)).order_by(Order.created_at.desc(), Order.id.desc()).limit(1)
    )


# ---------------------------------------------------------------------------------------------------------------
# Quick replies: texts the shop saved, one click away in the reply box
# ---------------------------------------------------------------------------------------------------------------


def list_quick_replies() -> list[QuickReply]:
    return list(db.session.scalars(select(QuickReply).order_by(QuickReply.position, QuickReply.id)))


def get_quick_reply(reply_id: int) -> QuickReply | None:
    return db.session.get(QuickReply, reply_id)


class QuickReplyRejected(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def save_quick_reply(reply: QuickReply | None, title: str, body: str) -> QuickReply:
    """Create (reply None) or change a quick reply; QuickReplyRejected names each field's problem."""
    title, body = " ".join((title or "").split()), (body or "").strip()
    errors = {}
    if not title:
        errors["title"] = "Give the quick reply a short title."
    elif len(title) > QUICK_REPLY_TITLE_MAX:
        errors["title"] = f"A title can be at most {QUICK_REPLY_TITLE_MAX} characters."
    if not body:
        errors["body"] = "Write the reply's text."
    elif len(body) > QUICK_REPLY_BODY_MAX:
        errors["body"] = f"A WhatsApp message can be at most {QUICK_REPLY_BODY_MAX} characters."
    if errors:
        raise QuickReplyRejected(errors)
    with transaction():
        if reply is None:
            last = db.session.scalar(select(func.max(QuickReply.position))) or 0
            reply = QuickReply(position=last + 1)
            db.session.add(reply)
        reply.title, reply.body = title, body
    return reply


def delete_quick_reply(reply: QuickReply) -> None:
    with transaction():
        db.session.delete(reply)
