"""Each customer's conversation with the shop: found or started for an inbound message, kept current for the inbox.

Every inbound message passes through `conversation_for_inbound`, inside the transaction that stores it,
so the inbox's activity order, unread counts and previews are never behind the messages. The row is
locked for the rest of that transaction: two webhooks of one customer handled by two workers take turns,
which is what the chat ordering flow (its step, its cart) needs.

Who answers lives here too: the bot until a person takes the chat (or the customer asks for one, or the
bot fails twice); a person until they hand it back.
"""

from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from checkout import events
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.conversations import PREVIEW_MAX, Conversation
from checkout.models.messaging import Contact, Message
from checkout.phones import phone_forms
from checkout.whatsapp.templates import template_language

BOT, PERSON = "bot", "person"


def preview_of(text: str) -> str:
    """One line for the inbox list."""
    one_line = " ".join((text or "").split())
    return one_line if len(one_line) <= PREVIEW_MAX else one_line[: PREVIEW_MAX - 1] + "…"


def lock_conversation(contact: Contact) -> Conversation:
    """The contact's conversation, row-locked for this transaction; started on their first message."""
    found = db.session.scalar(select(Conversation).where(Conversation.contact_id == contact.id).with_for_update())
    if found is not None:
        return found
    try:
        with db.session.begin_nested():  # another worker may be starting the same conversation right now
            db.session.add(Conversation(contact_id=contact.id, phone=contact.phone or "", name=contact.name))
    except IntegrityError:
        pass
    return db.session.scalar(select(Conversation).where(Conversation.contact_id == contact.id).with_for_update())


def conversation_for_phone(phone: str) -> Conversation | None:
    return db.session.scalar(select(Conversation).where(Conversation.phone == phone)) if phone else None


def conversation_for_inbound(contact: Contact, row: Message) -> Conversation:
    """Record an inbound message on its conversation (locked): activity, unread count, preview."""
    conversation = lock_conversation(contact)
    conversation.phone = contact.phone or conversation.phone
    conversation.name = contact.name or conversation.name
    if conversation.last_inbound_at is None or row.created_at >= conversation.last_inbound_at:
        conversation.last_inbound_at = row.created_at
        conversation.last_preview = preview_of(row.body_text)
    conversation.last_activity_at = max(conversation.last_activity_at, row.created_at)
    conversation.unread_count = (conversation.unread_count or 0) + 1
    return conversation


def note_outbound(conversation: Conversation, text: str, at: datetime | None = None) -> None:
    """A reply from the shop (staff or bot) moves the conversation up the inbox like a message from the customer."""
    conversation.last_activity_at = at or utcnow()
    conversation.last_preview = preview_of(text)


def mark_read(conversation: Conversation) -> None:
    conversation.unread_count = 0


def hand_to_person(conversation: Conversation, reason: str) -> bool:
    """The bot steps back and staff are told once; True if the conversation was not already waiting or taken."""
    if conversation.handled_by == PERSON:
        return False
    conversation.handled_by = PERSON
    conversation.waiting_since = utcnow()
    events.publish(events.CONVERSATION_WAITING, conversation=conversation, reason=reason)
    return True


def take(conversation: Conversation, staff_id: int) -> None:
    """A staff member takes the chat: the bot stays quiet (order notifications still go) and nobody waits."""
    conversation.handled_by = PERSON
    conversation.assigned_to_id = staff_id
    conversation.waiting_since = None


def hand_to_bot(conversation: Conversation) -> None:
    conversation.handled_by = BOT
    conversation.waiting_since = None
    conversation.misunderstood = 0


def template_language_for(phone: str) -> str:
    """The template language for this customer: theirs, as the chat learnt it, where the shop has it approved.

    A shop with one approved language reads nothing.
    """
    if not current_app.config.get("WHATSAPP_TEMPLATE_LANGUAGES") or not phone:
        return template_language()
    spoken = db.session.scalar(select(Conversation.language).where(Conversation.phone.in_(phone_forms(phone))).limit(1))
    return template_language(spoken or "")
