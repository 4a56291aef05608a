"""The transactional outbox: durable delivery of WhatsApp messages and shop webhooks.

`enqueue_*` writes an OutboxItem in the caller's transaction. After the commit the queue is nudged
to deliver it at once; if that nudge is lost (queue down, worker died), the periodic sweep finds
the item in the database and tries again. A worker claims an item before working on it (row lock
plus a claim deadline), so several workers on several hosts never deliver the same item at once,
and one customer's messages go out in the order they were written.
"""

import hashlib
import hmac
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta

import requests
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.messaging import Message, OutboxItem
from checkout.models.orders import Order
from checkout.phones import whatsapp_digits
from checkout.whatsapp.limits import PayloadInvalid, check_payload
from checkout.whatsapp.messages import OutboundMessage
from checkout.whatsapp.providers import SendFailed, get_provider

log = logging.getLogger(__name__)

CLAIM_SECONDS = 120
MAX_ATTEMPTS = 12  # with the backoff below: about a day of trying before a message is marked failed
BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 4 * 3600
WEBHOOK_TIMEOUT_SECONDS = 10
_NEW_ITEMS = "chatout_outbox_new_items"


# ---------------------------------------------------------------------------------------------------------------
# Writing work
# ---------------------------------------------------------------------------------------------------------------


def _existing(key: str) -> OutboxItem | None:
    return db.session.scalar(select(OutboxItem).where(OutboxItem.idempotency_key == key))


def enqueue_whatsapp(outbound: OutboundMessage, *, phone: str, key: str, order: Order | None = None) -> Message:
    """Queue a WhatsApp message to `phone` (E.164). The same `key` twice queues it once."""
    existing = _existing(key)
    if existing is not None and existing.message is not None:
        return existing.message
    message = Message(
        direction="out",
        order=order,
        phone=phone,
        kind=outbound.kind,
        purpose=outbound.purpose,
        payload=outbound.payload,
        body_text=outbound.body_text,
        status="queued",
    )
    item = OutboxItem(kind="whatsapp", message=message, idempotency_key=key, ordering_key=phone)
    db.session.add_all([message, item])
    db.session.info.setdefault(_NEW_ITEMS, []).append(item)
    return message


def enqueue_shop_webhook(event_name: str, data: dict, *, url: str, secret: str, key: str) -> None:
    if _existing(key) is not None:
        return
    payload = {"url": url, "secret": secret, "event": event_name, "data": data, "delivery_id": key}
    item = OutboxItem(kind="shop_webhook", payload=payload, idempotency_key=key, ordering_key=f"webhook:{url}"[:64])
    db.session.add(item)
    db.session.info.setdefault(_NEW_ITEMS, []).append(item)


@event.listens_for(Session, "after_commit")
def _nudge_after_commit(session):
    items = session.info.pop(_NEW_ITEMS, [])
    if items:
        from checkout import jobs

        jobs.nudge_delivery([item.id for item in items if item.id is not None])


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session):
    session.info.pop(_NEW_ITEMS, None)


# ---------------------------------------------------------------------------------------------------------------
# Delivering work
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Work:
    """What a claimed item asks for, read out of the database so no transaction stays open while we send."""

    item_id: int
    kind: str
    ordering_key: str
    idempotency_key: str
    phone: str = ""
    payload: dict | None = None


def _claim(item_id: int) -> Work | None:
    """Take the item for this worker, or None if it is not due, taken, done, or waiting its turn."""
    now = utcnow()
    item = db.session.scalar(select(OutboxItem).where(OutboxItem.id == item_id).with_for_update(skip_locked=True))
    if (
        item is None
        or item.status != "pending"
        or item.next_attempt_at > now
        or (item.claimed_until is not None and item.claimed_until > now)
        or _waiting_for_earlier(item)
    ):
        db.session.rollback()
        return None
    if item.claimed_until is not None:
        # Success and failure both clear the claim: one that ran out means a worker died mid-send,
        # and WhatsApp may have the message already.
        item.in_doubt = True
    item.claimed_until = now + timedelta(seconds=CLAIM_SECONDS)
    item.attempts += 1
    message = item.message
    work = Work(
        item_id=item.id,
        kind=item.kind,
        ordering_key=item.ordering_key,
        idempotency_key=item.idempotency_key,
        phone=message.phone if message else "",
        payload=dict(message.payload if message else item.payload),
    )
    db.session.commit()
    return work


def _waiting_for_earlier(item: OutboxItem) -> bool:
    """One customer's messages go out in order: an earlier pending item for the same key goes first."""
    if not item.ordering_key:
        return False
    earlier = select(OutboxItem.id).where(
        OutboxItem.ordering_key == item.ordering_key, OutboxItem.status == "pending", OutboxItem.id < item.id
    )
    return db.session.scalar(earlier.limit(1)) is not None


def _backoff(attempts: int) -> timedelta:
    seconds = min(BACKOFF_BASE_SECONDS * 4 ** (attempts - 1), BACKOFF_MAX_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def deliver(item_id: int) -> str:
    """Deliver one item if it is this worker's to deliver; returns what happened (for logs and tests)."""
    work = _claim(item_id)
    if work is None:
        return "skipped"
    try:
        result = _perform(work)
    except SendFailed as failure:
        outcome = _record_failure(work.item_id, failure)
    else:
        outcome = _record_success(work.item_id, result)
    _nudge_next_in_line(work.ordering_key)
    return outcome


def _perform(work: Work) -> str:
    if work.kind == "whatsapp":
        try:
            check_payload(work.payload)
        except PayloadInvalid as invalid:
            raise SendFailed(None, f"Message breaks WhatsApp limits: {invalid}", retryable=False) from None
        return get_provider().send(whatsapp_digits(work.phone), work.payload, work.idempotency_key)
    if work.kind == "shop_webhook":
        return _post_shop_webhook(work.payload)
    raise SendFailed(None, f"unknown outbox kind {work.kind!r}", retryable=False)


def sign_shop_webhook(secret: str, timestamp: int, body: bytes) -> str:
    """Signature header value: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _post_shop_webhook(payload: dict) -> str:
    body = json.dumps(
        {"id": payload["delivery_id"], "event": payload["event"], "data": payload["data"]}, separators=(",", ":")
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Chatout-Webhooks/1",
        "X-Chatout-Event": payload["event"],
        "X-Chatout-Delivery": payload["delivery_id"],
        "X-Chatout-Signature": sign_shop_webhook(payload["secret"], int(time.time()), body),
    }
    try:
        response = requests.post(payload["url"], data=body, headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS)
    except requests.RequestException as error:
        raise SendFailed(None, f"Shop webhook unreachable: {error.__class__.__name__}", retryable=True) from None
    if 200 <= response.status_code < 300:
        return ""
    raise SendFailed(response.status_code, f"Shop webhook answered {response.status_code}", retryable=True)


def _record_success(item_id: int, wamid: str) -> str:
    item = db.session.get(OutboxItem, item_id)
    now = utcnow()
    item.status, item.done_at, item.claimed_until, item.last_error = "done", now, None, ""
    if item.message is not None:
        message = item.message
        if not message.wamid:
            message.wamid = wamid or None
        if message.status in ("queued", "failed"):
            message.status = "sent"
        message.sent_at = message.sent_at or now
    db.session.commit()
    return "sent"


def _record_failure(item_id: int, failure: SendFailed) -> str:
    item = db.session.get(OutboxItem, item_id)
    item.last_error = str(failure)[:500]
    item.claimed_until = None
    item.in_doubt = item.in_doubt or failure.in_doubt
    message = item.message
    if failure.retryable and item.attempts < MAX_ATTEMPTS:
        item.next_attempt_at = utcnow() + _backoff(item.attempts)
        if message is not None:
            message.error_code, message.error_title = failure.code, failure.title[:300]
        db.session.commit()
        from checkout import jobs

        jobs.nudge_delivery([item.id], at=item.next_attempt_at)
        return "retry"
    item.status = "failed"
    if message is not None:
        message.status = "failed"
        message.error_code, message.error_title = failure.code, failure.title[:300]
        from checkout.notifications import message_failed

        message_failed(message, failure)
    db.session.commit()
    return "failed"


def _nudge_next_in_line(ordering_key: str) -> None:
    if not ordering_key:
        return
    next_id = db.session.scalar(
        select(OutboxItem.id)
        .where(OutboxItem.ordering_key == ordering_key, OutboxItem.status == "pending")
        .order_by(OutboxItem.id)
        .limit(1)
    )
    db.session.rollback()
    if next_id is not None:
        from checkout import jobs

        jobs.nudge_delivery([next_id])


def due_item_ids(limit: int = 500) -> list[int]:
    """Pending items whose time has come and that no live worker holds: what the sweep re-queues."""
    now = utcnow()
    query = (
        select(OutboxItem.id)
        .where(
            OutboxItem.status == "pending",
            OutboxItem.next_attempt_at <= now,
            (OutboxItem.claimed_until.is_(None)) | (OutboxItem.claimed_until <= now),
        )
        .order_by(OutboxItem.id)
        .limit(limit)
    )
    ids = list(db.session.scalars(query))
    db.session.rollback()
    return ids


def run_due(max_rounds: int = 50) -> dict[str, int]:
    """Deliver everything due now, in this process (the CLI and the tests use it; workers use the queue)."""
    outcomes: dict[str, int] = {}
    for _ in range(max_rounds):
        ids = due_item_ids()
        if not ids:
            break
        progressed = False
        for item_id in ids:
            outcome = deliver(item_id)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            progressed = progressed or outcome != "skipped"
        if not progressed:
            break
    return outcomes


def retry_now(item: OutboxItem) -> None:
    """Staff pressed retry on a failed item: back to pending, due at once, attempts counted afresh."""
    item.status, item.attempts, item.next_attempt_at, item.claimed_until = "pending", 0, utcnow(), None
    if item.message is not None:
        item.message.status = "queued"
    db.session.info.setdefault(_NEW_ITEMS, []).append(item)
