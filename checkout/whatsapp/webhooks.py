"""Inbound WhatsApp webhooks: verify, store, then process from the store.

The POST handler only checks the signature over the raw bytes, stores the body and answers 200;
everything else happens here, in a job, from the stored copy. Meta retries for days and repeats
itself, so inbound messages are deduplicated by their wamid and statuses by (wamid, status).
"""

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from checkout import events
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.messaging import Contact, Message, MessageStatusUpdate, OutboxItem, WebhookEvent
from checkout.phones import phone_forms, phone_from_wa_id
from checkout.unicode_safety import strip_bidi_controls
from checkout.web import json_input
from checkout.whatsapp import chats, conversations, media
from checkout.whatsapp.providers import SendFailed

log = logging.getLogger(__name__)

STATUS_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}
RETRY_PROCESSING_AFTER = timedelta(seconds=30)


class BadPayload(ValueError):
    pass


def sign(raw_body: bytes, app_secret: str) -> str:
    """The X-Hub-Signature-256 value Meta sends: sha256=<hex HMAC-SHA256 of the raw body>."""
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def signature_valid(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    if not header or not app_secret:
        return False
    return hmac.compare_digest(sign(raw_body, app_secret), header.strip())


def parse(raw_body: bytes) -> dict:
    try:
        data = json_input.loads(raw_body)
    except json_input.TooDeep as error:
        raise BadPayload(str(error)) from None
    except (ValueError, UnicodeDecodeError):
        raise BadPayload("body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("entry", []), list):
        raise BadPayload("body is not a webhook object")
    return data


def store(raw_body: bytes) -> int:
    """Keep a verified POST to be processed after the ack (the caller commits); its id.

    A Core INSERT, not the ORM's unit of work: nothing else is done with the row here, and the flush
    machinery was the largest part of the ack's own CPU (docs/performance.md, Analysis)."""
    result = db.session.execute(insert(WebhookEvent).values(body=raw_body.decode("utf-8")))
    return result.inserted_primary_key[0]


def unprocessed_event_ids(limit: int = 500) -> list[int]:
    cutoff = utcnow() - RETRY_PROCESSING_AFTER
    ids = list(
        db.session.scalars(
            select(WebhookEvent.id)
            .where(WebhookEvent.processed_at.is_(None), WebhookEvent.received_at <= cutoff)
            .order_by(WebhookEvent.id)
            .limit(limit)
        )
    )
    db.session.rollback()
    return ids


def process_pending() -> int:
    """Process every stored event not yet processed, oldest first, until none is left; returns how many."""
    return drain()[1]


def drain(most: int | None = None) -> tuple[int, int]:
    """Process stored events not yet processed, oldest first, until none is left or `most` have been taken;
    returns how many were taken and how many of those were processed (the others failed: left for later).

    One job drains a whole burst, so events arriving together cost one queue job, not one each. Several
    drains run at once (a burst keeps queueing them while one runs: checkout/jobs.py), and they share the
    work: each takes the oldest event no other drain holds (SKIP LOCKED), finding and locking it in one
    statement, instead of queueing behind the others. Only one customer's events take turns: an event first
    waits for the earlier ones about the same customer that another drain still holds (`_wait_for_earlier`),
    so their messages are handled in the order they arrived ("hi" before "2 chai") while other customers'
    are handled alongside. An event that fails is passed over and left for the sweep's next drain.
    """
    taken, processed, after_id = 0, 0, 0
    while most is None or taken < most:
        event = db.session.scalar(
            select(WebhookEvent)
            .where(WebhookEvent.processed_at.is_(None), WebhookEvent.id > after_id)
            .order_by(WebhookEvent.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if event is None:
            db.session.rollback()
            break
        after_id, taken = event.id, taken + 1
        try:
            _process(event)
            processed += 1
        except Exception:  # one bad event must not hold up the rest; the sweep tries it again later
            db.session.rollback()
            log.exception("processing webhook event %s failed", after_id)
    return taken, processed


def process_event(event_id: int) -> str:
    """Handle one stored POST (waiting for a drain that holds it), unless it has been processed already."""
    event = db.session.scalar(select(WebhookEvent).where(WebhookEvent.id == event_id).with_for_update())
    if event is None or event.processed_at is not None:
        db.session.rollback()
        return "skipped"
    _process(event)
    return "processed"


def _process(event: WebhookEvent) -> None:
    """Handle every message and status of a locked, unprocessed event, each in its own savepoint; commit."""
    data = _without_nul(json.loads(event.body))
    _wait_for_earlier(event.id, _parties(data))
    problems = []
    for value in _message_values(data):
        contacts = {c.get("wa_id", ""): c for c in value.get("contacts") or [] if isinstance(c, dict)}
        for message in value.get("messages") or []:
            problems += _in_savepoint(_handle_message, message, contacts)
        for status in value.get("statuses") or []:
            problems += _in_savepoint(_handle_status, status)
        for error in value.get("errors") or []:
            log.warning("WhatsApp reported an error: %s", error)
    event.processed_at = utcnow()
    event.error = "; ".join(problems)[:500]
    db.session.commit()


def _message_values(data: dict) -> list[dict]:
    """The `value` of every "messages" change in a POST (template status, quality and account updates: stored,
    nothing to do yet)."""
    values = []
    for entry in data.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            if (change or {}).get("field") == "messages":
                values.append(change.get("value") or {})
    return values


# How many of the nearest earlier unprocessed events an event looks at for its customer's: the ones other drains
# hold are the nearest (drains take the oldest first); further back are only events that failed, left for later.
EARLIER_LOOKED_AT = 100


def _wait_for_earlier(event_id: int, parties: frozenset[str] | None) -> None:
    """Wait (row locks) for the earlier unprocessed events about any of the same customers to be processed.

    Waits only ever go from a later event to earlier ones. The locks taken to wait are shared: PostgreSQL keeps
    a row locked by the waiter even when, processed meanwhile, it is no longer selected, and two later events'
    drains each holding such a lock exclusively could each wait for the other (deadlock). An earlier event
    nobody holds failed before and is left for later: it is locked here and passed over, as a single drain
    passes over it."""
    if parties is not None and not parties:
        return  # about no customer (a template or account update): nothing to keep in turn with
    earlier = db.session.execute(
        select(WebhookEvent.id, WebhookEvent.body)
        .where(WebhookEvent.processed_at.is_(None), WebhookEvent.id < event_id)
        .order_by(WebhookEvent.id.desc())
        .limit(EARLIER_LOOKED_AT)
    ).all()
    same_customer = [row.id for row in earlier if _overlap(parties, _parties_of_body(row.body))]
    if same_customer:
        db.session.execute(
            select(WebhookEvent.id)
            .where(WebhookEvent.id.in_(same_customer), WebhookEvent.processed_at.is_(None))
            .order_by(WebhookEvent.id)
            .with_for_update(read=True)
        ).all()


def _overlap(first: frozenset[str] | None, second: frozenset[str] | None) -> bool:
    if first is None or second is None:
        return True  # an event about someone unknown keeps its turn with every other event
    return not first.isdisjoint(second)


def _parties_of_body(body: str) -> frozenset[str] | None:
    try:
        return _parties(json.loads(body))
    except (ValueError, TypeError, AttributeError):
        return None


def _parties(data: dict) -> frozenset[str] | None:
    """Every id the customers of an event's messages and statuses go by (wa_id, its phone's forms, user id);
    None when an item names no one."""
    parties: set[str] = set()
    for value in _message_values(data):
        items = [(item, "from", "from_user_id") for item in value.get("messages") or []]
        items += [(item, "recipient_id", "recipient_user_id") for item in value.get("statuses") or []]
        for item, id_key, user_key in items:
            if not isinstance(item, dict) or not (item.get(id_key) or item.get(user_key)):
                return None
            wa_id = str(item.get(id_key) or "")
            phone = phone_from_wa_id(wa_id) if wa_id else None
            parties.update(key for key in (wa_id, str(item.get(user_key) or ""), *phone_forms(phone or "")) if key)
        for contact in value.get("contacts") or []:
            if isinstance(contact, dict) and contact.get("user_id"):
                parties.add(str(contact["user_id"]))
    return frozenset(parties)


def _without_nul(value):
    """Meta's JSON may escape a NUL character; no database text column can hold one."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def _in_savepoint(handler, *args) -> list[str]:
    """Handle one message or status in its own savepoint; returns the problems to record on the event.

    A unique-key clash that is not a repeat of this item means another worker was writing a row this one
    needed (a contact, a conversation) and has committed it by now: the item is handled once more, reading
    that row, instead of being recorded as failed and lost.
    """
    for attempt in range(2):
        try:
            with db.session.begin_nested():
                handler(*args)
        except IntegrityError as error:
            if _is_repeat(args[0]):
                return []  # the same message or status raced in from a parallel delivery: already handled
            if attempt == 0:
                log.info("webhook item %r clashed with a concurrent write; handling it again", args[0].get("id"))
                continue
            return [f"IntegrityError: {error.orig}"[:300]]
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            log.warning("could not handle webhook item %r: %s", args[0], error)
            return [f"{error.__class__.__name__}: {error}"]
        return []
    return []


def _is_repeat(item: dict) -> bool:
    """Was this exact message (or this exact status of a message) stored by someone else meanwhile?"""
    if "status" in item and "recipient_id" in item:
        query = select(MessageStatusUpdate.id).where(
            MessageStatusUpdate.wamid == item.get("id"), MessageStatusUpdate.status == item.get("status")
        )
    else:
        query = select(Message.id).where(Message.wamid == item.get("id"))
    return db.session.scalar(query) is not None


def _timestamp(value) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return utcnow()


def _find_contact(phone: str | None, user_id: str) -> Contact | None:
    contact = None
    if phone:
        # a contact saved before its Brazilian wa_id was read with the ninth digit is still this phone
        forms = phone_forms(phone)
        contact = db.session.scalar(
            select(Contact).where(Contact.phone.in_(forms)).order_by(Contact.phone != phone, Contact.id).limit(1)
        )
    if contact is None and user_id:
        contact = db.session.scalar(select(Contact).where(Contact.user_id == user_id))
    return contact


def _contact_for(wa_id: str, user_id: str, name: str, seen_at: datetime) -> Contact | None:
    phone = phone_from_wa_id(wa_id)
    contact = _find_contact(phone, user_id)
    if contact is None:
        if not phone and not user_id:
            return None
        try:
            with db.session.begin_nested():  # another worker may be creating the same contact right now
                contact = Contact(phone=phone, wa_id=wa_id, user_id=user_id)
                db.session.add(contact)
        except IntegrityError:
            contact = _find_contact(phone, user_id)
    contact.wa_id = wa_id or contact.wa_id
    contact.user_id = user_id or contact.user_id
    contact.name = name or contact.name
    if contact.last_inbound_at is None or seen_at > contact.last_inbound_at:
        contact.last_inbound_at = seen_at
    db.session.flush()
    return contact


MEDIA_LABELS = {
    "image": "📷 Photo",
    "document": "📄 Document",
    "audio": "🎵 Audio",
    "video": "🎥 Video",
    "sticker": "Sticker",
}


def readable_text(message: dict) -> str:
    """One line of text for any inbound message: what lists, previews and searches show."""
    kind = message.get("type")
    if kind == "text":
        return (message.get("text") or {}).get("body", "")
    if kind == "button":
        return (message.get("button") or {}).get("text", "")
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return reply.get("title", "")
    if kind == "location":
        return _location_text(message.get("location") or {})
    if kind == "reaction":
        return (message.get("reaction") or {}).get("emoji", "")
    if kind == "order":
        return _order_text(message.get("order") or {})
    if kind in MEDIA_LABELS:
        return _media_text(kind, message.get(kind) or {})
    return f"[{kind}]"


def _location_text(location: dict) -> str:
    place = ", ".join(str(location.get(key) or "") for key in ("name", "address") if location.get(key))
    return f"📍 {place} {location.get('latitude')},{location.get('longitude')}".replace("  ", " ").strip()


def _order_text(order: dict) -> str:
    items = [item for item in order.get("product_items") or [] if isinstance(item, dict)]
    units = sum(int(item.get("quantity") or 0) for item in items if str(item.get("quantity") or "").isdigit())
    line = f"🛒 Cart: {len(items)} item{'s' if len(items) != 1 else ''}, {units} unit{'s' if units != 1 else ''}"
    return f"{line}\n{order['text']}" if order.get("text") else line


def _media_text(kind: str, part: dict) -> str:
    label = MEDIA_LABELS[kind]
    if kind == "audio" and part.get("voice"):
        label = "🎤 Voice message"
    name = part.get("filename") or ""
    caption = part.get("caption") or ""
    return " · ".join(text for text in (label, name, caption) if text)


def _handle_message(message: dict, contacts: dict) -> None:
    wamid = message["id"]
    if db.session.scalar(select(Message.id).where(Message.wamid == wamid)) is not None:
        return  # Meta sent it again
    wa_id = message.get("from") or ""
    contact_info = contacts.get(wa_id) or (next(iter(contacts.values())) if len(contacts) == 1 else {})
    user_id = message.get("from_user_id") or contact_info.get("user_id") or ""
    name = strip_bidi_controls((contact_info.get("profile") or {}).get("name", ""))
    sent_at = _timestamp(message.get("timestamp"))
    contact = _contact_for(wa_id, user_id, name, sent_at)
    row = Message(
        direction="in",
        phone=contact.phone if contact and contact.phone else "",
        wa_id=wa_id,
        user_id=user_id,
        kind=str(message.get("type") or "unknown")[:24],
        payload=message,
        body_text=readable_text(message)[:4096],
        status="received",
        wamid=wamid,
        context_wamid=(message.get("context") or {}).get("id", "")[:160],
        created_at=sent_at,
    )
    db.session.add(row)
    db.session.flush()
    media.record_inbound(row, message)  # downloaded after the commit: Meta's media links expire
    conversation = chats.conversation_for_inbound(contact, row) if contact is not None else None
    conversations.handle_inbound(row, message, conversation)


def _handle_status(status: dict) -> None:
    wamid, value = status["id"], status["status"]
    errors = status.get("errors") or [{}]
    update = MessageStatusUpdate(
        wamid=wamid, status=value, error_code=errors[0].get("code"), error_title=str(errors[0].get("title", ""))[:300]
    )
    db.session.add(update)
    db.session.flush()  # a repeat of the same (wamid, status) fails here and is skipped
    message = db.session.scalar(select(Message).where(Message.wamid == wamid))
    if message is None and status.get("biz_opaque_callback_data"):
        # A send that timed out on our side but reached Meta: adopt its wamid, never send it again.
        item = db.session.scalar(
            select(OutboxItem).where(OutboxItem.idempotency_key == status["biz_opaque_callback_data"])
        )
        if item is not None and item.message is not None:
            message = item.message
            message.wamid = message.wamid or wamid  # a retried copy that went out keeps its own id
            if item.status in ("pending", "failed") and value != "failed":
                # It went out after all: close the item, and forget the failure we showed staff.
                item.status, item.done_at, item.last_error = "done", utcnow(), ""
                if message.status == "failed":
                    message.status, message.error_code, message.error_title = "sent", None, ""
                if message.order is not None and message.order.attention.startswith("WhatsApp "):
                    message.order.attention = ""
            elif item.status == "pending" and value == "failed":
                # It reached Meta, which could not deliver it: Meta's answer stands, sending it again is no cure.
                item.status, item.claimed_until = "failed", None
                item.last_error = f"{update.error_code or '-'}: {update.error_title or 'failed'}"[:500]
    if message is None:
        return
    at = _timestamp(status.get("timestamp"))
    if value == "failed":
        message.status = "failed"
        message.error_code, message.error_title = update.error_code, update.error_title
        failure = SendFailed(update.error_code, update.error_title or "failed", retryable=False)
        events.publish(events.MESSAGE_FAILED, message=message, failure=failure)
        return
    if message.status != "failed" and STATUS_RANK.get(value, -1) > STATUS_RANK.get(message.status, -1):
        message.status = value  # never let a late "sent" overwrite "read"
    if value == "sent":
        message.sent_at = message.sent_at or at
    elif value == "delivered":
        message.delivered_at = message.delivered_at or at
    elif value == "read":
        message.read_at = message.read_at or at
