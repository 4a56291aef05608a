"""The transactional outbox: durable delivery of WhatsApp messages and shop webhooks.

`enqueue_*` writes an OutboxItem in the caller's transaction. After the commit the queue is nudged
to deliver it at once, through the hook the app factory registers (checkout/nudges.py); if that
nudge is lost (queue down, worker died), the periodic sweep finds the item in the database and
tries again. A worker claims an item before working on it (row lock plus a claim deadline), so
several workers on several hosts never deliver the same item at once, and one customer's messages
go out in the order they were written. A message that gives up is announced as an event
(events.MESSAGE_FAILED): the outbox knows nothing of the queue, nor of who hears about a failure.
"""

import hashlib
import hmac
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import and_, event, func, inspect, select, update
from sqlalchemy.orm import Session, joinedload

from checkout import events, nudges
from checkout.carriers import actions as carrier_actions
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.messaging import Message, OutboxItem
from checkout.models.orders import Order
from checkout.phones import whatsapp_digits
from checkout.whatsapp import account_health, attachments, consent
from checkout.whatsapp.limits import PayloadInvalid, check_payload
from checkout.whatsapp.messages import OutboundMessage
from checkout.whatsapp.providers import SendFailed, get_provider

log = logging.getLogger(__name__)

CLAIM_SECONDS = 120
MAX_ATTEMPTS = 12  # with the backoff below: about a day of trying before a message is marked failed
BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 4 * 3600
WEBHOOK_TIMEOUT_SECONDS = 10
PAIR_RATE_LIMIT_CODE = 131056  # Meta: too many messages to the same customer in a short time
_NEW_ITEMS = "chatout_outbox_new_items"


# ---------------------------------------------------------------------------------------------------------------
# Writing work
# ---------------------------------------------------------------------------------------------------------------


def _existing(key: str) -> OutboxItem | None:
    return db.session.scalar(select(OutboxItem).where(OutboxItem.idempotency_key == key))


def enqueue_whatsapp(
    outbound: OutboundMessage, *, phone: str, key: str, order: Order | None = None, new_key: bool = False
) -> Message:
    """Queue a WhatsApp message to `phone` (E.164). The same `key` twice queues it once.

    `new_key`: the caller knows no item can have the key yet (it names a row made in this very transaction,
    like a new order's id), so nothing is looked up; the unique index still guards it.
    Raises ConsentMissing for a reminder or marketing message to a number without consent: never queued.
    """
    existing = None if new_key else _existing(key)
    if existing is not None and existing.message is not None:
        return existing.message
    if consent.needs_consent(outbound.purpose, outbound.payload) and not consent.has_consent(phone):
        raise consent.ConsentMissing(phone, outbound.purpose)
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


def enqueue_carrier_action(payload: dict, *, key: str) -> None:
    """Queue a call to a courier's API (checkout/carriers/actions.py); the same `key` twice queues it once."""
    if _existing(key) is not None:
        return
    item = OutboxItem(
        kind="carrier_action", payload=payload, idempotency_key=key, ordering_key=f"carrier:{payload['order_id']}"
    )
    db.session.add(item)
    db.session.info.setdefault(_NEW_ITEMS, []).append(item)


@event.listens_for(Session, "after_commit")
def _nudge_after_commit(session):
    """Nudge the queue for what this commit made visible to workers.

    SQLAlchemy also fires after_commit when a savepoint is released, inside the outer transaction: a
    worker nudged then finds nothing (the row is not committed yet) and the item waits for the sweep.
    Only the outermost commit nudges.
    """
    if session.in_nested_transaction():
        return
    items = session.info.pop(_NEW_ITEMS, [])
    # Items added inside a savepoint that was rolled back are no longer persistent: nothing to deliver.
    item_ids = [state.identity[0] for state in map(inspect, items) if state.persistent]
    if item_ids:
        nudges.delivery_due(item_ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session):
    # A savepoint's rollback keeps what the outer transaction and its other savepoints wrote: the items
    # written inside it are left out at the outermost commit (they are no longer persistent).
    if not session.in_nested_transaction():
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


def _claim(item_id: int, probe: bool = False) -> Work | str:
    """Take the item for this worker, or say why not: "skipped" (not due, taken, done, waiting its turn, or
    WhatsApp sending is paused and this is no probe), "no consent" (a reminder whose consent was withdrawn
    while it waited: dropped), or what `_hold_back` decided ("in doubt", "paced")."""
    now = utcnow()
    item = db.session.scalar(_item_with_message(item_id).with_for_update(skip_locked=True, of=OutboxItem))
    if (
        item is None
        or item.status != "pending"
        or item.next_attempt_at > now
        or (item.claimed_until is not None and item.claimed_until > now)
        or _waiting_for_earlier(item)
        or (item.kind == "whatsapp" and not probe and account_health.sending_paused())
    ):
        db.session.rollback()
        return "skipped"
    if _consent_withdrawn(item):
        db.session.commit()
        return "no consent"
    held_back = _hold_back(item, now)
    if held_back:
        db.session.commit()
        nudges.delivery_due([item.id], at=item.next_attempt_at)
        return held_back
    item.claimed_until = now + timedelta(seconds=CLAIM_SECONDS)
    item.last_attempt_at = now
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


def _item_with_message(item_id: int):
    """The item and its message in one statement (a WhatsApp send reads both)."""
    return select(OutboxItem).options(joinedload(OutboxItem.message)).where(OutboxItem.id == item_id)


def _consent_withdrawn(item: OutboxItem) -> bool:
    """A message that needs consent whose consent was withdrawn ("STOP") after it was queued is not sent."""
    message = item.message
    if message is None or not consent.needs_consent(message.purpose, message.payload):
        return False
    if consent.has_consent(message.phone):
        return False
    item.status, item.last_error = "failed", "Not sent: the customer withdrew consent"
    message.status, message.error_title = "failed", "Not sent: the customer withdrew consent"
    return True


def _waiting_for_earlier(item: OutboxItem) -> bool:
    """One customer's messages go out in order: an earlier pending item for the same key goes first
    (unless it is in doubt, waiting for Meta's status report: it has most likely gone out already)."""
    if not item.ordering_key:
        return False
    earlier = select(OutboxItem.id).where(
        OutboxItem.ordering_key == item.ordering_key,
        OutboxItem.status == "pending",
        OutboxItem.id < item.id,
        ~_awaiting_status_report(utcnow()),
    )
    return db.session.scalar(earlier.limit(1)) is not None


def _hold_back(item: OutboxItem, now: datetime) -> str | None:
    """Why a due item must not be sent yet ("in doubt", "paced"), its next attempt moved to when it may; else None."""
    if item.claimed_until is not None:
        # Success and failure both clear the claim: one that ran out means a worker died mid-send,
        # and WhatsApp may have the message already.
        item.in_doubt = True
        if item.kind == "whatsapp":
            started = item.last_attempt_at or item.claimed_until - timedelta(seconds=CLAIM_SECONDS)
            _await_status_report(item, started)
            item.last_error = "The worker stopped mid-send: waiting for WhatsApp's status report"
            return "in doubt"
    paced_until = _paced_until(item)
    if paced_until is not None and paced_until > now:
        item.next_attempt_at = paced_until
        return "paced"
    return None


def _await_status_report(item: OutboxItem, send_started: datetime) -> None:
    """The send may have reached WhatsApp, and the Cloud API has no idempotency key: send it again only if
    Meta's status webhook (matched by wamid or by our tracking key) has not settled it by the end of the wait."""
    wait = timedelta(seconds=current_app.config["WHATSAPP_IN_DOUBT_WAIT_SECONDS"])
    item.in_doubt = True
    item.claimed_until = None
    item.next_attempt_at = max(utcnow(), send_started + wait)


def _awaiting_status_report(now: datetime):
    """SQL condition: an in-doubt item waiting out its wait for Meta's status report."""
    return and_(OutboxItem.in_doubt.is_(True), OutboxItem.claimed_until.is_(None), OutboxItem.next_attempt_at > now)


def _paced_until(item: OutboxItem) -> datetime | None:
    """The earliest moment a send to this item's customer keeps to Meta's pair rate limit (Cloud API only):
    the pacing interval after the last send to them that Meta took (or may have taken: in doubt).

    Counted from when Meta's answer came back (done_at), which is after Meta received the message: counted
    from when the send began, a slow request would leave less than the interval between two arrivals.
    An in-doubt send has no answer; its start is all there is."""
    interval = current_app.config["WHATSAPP_PACING_SECONDS"]
    if item.kind != "whatsapp" or interval <= 0 or current_app.config["WHATSAPP_PROVIDER"] != "cloud":
        return None
    last = db.session.scalar(
        select(func.max(func.coalesce(OutboxItem.done_at, OutboxItem.last_attempt_at))).where(
            OutboxItem.ordering_key == item.ordering_key,
            OutboxItem.kind == "whatsapp",
            (OutboxItem.status == "done") | OutboxItem.in_doubt.is_(True),
        )
    )
    return last + timedelta(seconds=interval) if last is not None else None


def _backoff(attempts: int) -> timedelta:
    seconds = min(BACKOFF_BASE_SECONDS * 4 ** (attempts - 1), BACKOFF_MAX_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def deliver(item_id: int, probe: bool = False) -> str:
    """Deliver one item if it is this worker's to deliver; returns what happened (for logs and tests).

    `probe`: the try that tests whether paused WhatsApp sending may resume (checkout/whatsapp/account_health.py).
    """
    work = _claim(item_id, probe)
    if not isinstance(work, Work):
        if work in ("in doubt", "no consent"):  # the next message to this customer need not wait for it
            _nudge_next_in_line(db.session.get(OutboxItem, item_id).ordering_key)
        return work
    failure = None
    try:
        wamid, sent_payload = _perform(work)
    except SendFailed as error:
        failure = error
        if work.kind == "whatsapp" and account_health.is_account_error(failure):
            outcome = account_health.hold_for_pause(work.item_id, failure)
        else:
            outcome = _record_failure(work.item_id, failure)
    else:
        outcome, others_backing_off = _record_success(work.item_id, wamid, sent_payload)
        if others_backing_off:
            _hurry_retries_after_recovery(work)
    if probe:
        account_health.probe_answered(failure)
    _nudge_next_in_line(work.ordering_key)
    return outcome


def probe_paused_sending() -> str:
    """While sending is paused and a try is due: send one waiting message to learn whether the account works."""
    item_id = account_health.take_probe()
    return "not due" if item_id is None else deliver(item_id, probe=True)


def _perform(work: Work) -> tuple[str, dict | None]:
    """Send the work; the wamid (or "") and, when a file was uploaded for it, the payload as sent."""
    if work.kind == "whatsapp":
        try:
            check_payload(attachments.as_checked(work.payload))
        except PayloadInvalid as invalid:
            raise SendFailed(None, f"Message breaks WhatsApp limits: {invalid}", retryable=False) from None
        provider = get_provider()
        payload = _with_uploaded_file(work.payload, provider) if attachments.carries_attachment(work.payload) else None
        return provider.send(whatsapp_digits(work.phone), payload or work.payload, work.idempotency_key), payload
    if work.kind == "shop_webhook":
        return _post_shop_webhook(work.payload), None
    if work.kind == "carrier_action":
        try:
            carrier_actions.perform(work.payload)
        except carrier_actions.CarrierActionFailed as error:
            raise SendFailed(None, str(error), retryable=error.retryable) from None
        return "", None
    raise SendFailed(None, f"unknown outbox kind {work.kind!r}", retryable=False)


def _with_uploaded_file(payload: dict, provider) -> dict:
    """Make the message's file, upload it, and return the payload that sends it by its new media id.

    Uploaded again on every attempt: Meta keeps nothing a failed attempt could leave half-done, and an id
    kept across attempts could outlive the file (Meta holds uploads for 30 days).
    """
    try:
        file = attachments.make_file(payload)
    except attachments.AttachmentUnavailable as gone:
        raise SendFailed(None, f"The file to send can no longer be made: {gone}", retryable=False) from None
    finally:
        db.session.rollback()  # the reads that made the file end here: no transaction stays open while we upload
    return attachments.with_media_id(payload, provider.upload_media(file.data, file.mime_type, file.filename))


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


def _record_success(item_id: int, wamid: str, sent_payload: dict | None = None) -> tuple[str, bool]:
    """Mark the item done; also whether other WhatsApp items back off from failures (asked in the same
    transaction, saving one: `_hurry_retries_after_recovery`)."""
    item = db.session.scalar(_item_with_message(item_id))
    now = utcnow()
    item.status, item.done_at, item.claimed_until, item.last_error = "done", now, None, ""
    if item.kind == "carrier_action":
        carrier_actions.record_outcome(item.payload)
    if item.message is not None:
        message = item.message
        if sent_payload is not None:
            message.payload = sent_payload  # screens show the file WhatsApp holds, by its id
        if not message.wamid:
            message.wamid = wamid or None
        if message.status in ("queued", "failed"):
            message.status = "sent"
        message.sent_at = message.sent_at or now
    others_backing_off = item.kind == "whatsapp" and _backing_off_exists(now)
    db.session.commit()
    return "sent", others_backing_off


def _record_failure(item_id: int, failure: SendFailed) -> str:
    item = db.session.get(OutboxItem, item_id)
    item.last_error = str(failure)[:500]
    item.claimed_until = None
    item.in_doubt = item.in_doubt or failure.in_doubt
    message = item.message
    if failure.retryable and item.attempts < MAX_ATTEMPTS:
        if failure.in_doubt and item.kind == "whatsapp":
            _await_status_report(item, item.last_attempt_at or utcnow())
        else:
            item.next_attempt_at = utcnow() + _backoff(item.attempts)
        if message is not None:
            message.error_code, message.error_title = failure.code, failure.title[:300]
        db.session.commit()
        nudges.delivery_due([item.id], at=item.next_attempt_at)
        return "retry"
    item.status = "failed"
    if item.kind == "carrier_action":
        carrier_actions.record_outcome(item.payload, error=failure.title)
    if message is not None:
        message.status = "failed"
        message.error_code, message.error_title = failure.code, failure.title[:300]
        events.publish(events.MESSAGE_FAILED, message=message, failure=failure)
    db.session.commit()
    return "failed"


def _nudge_next_in_line(ordering_key: str) -> None:
    if not ordering_key:
        return
    next_id = db.session.scalar(
        select(OutboxItem.id)
        .where(
            OutboxItem.ordering_key == ordering_key,
            OutboxItem.status == "pending",
            ~_awaiting_status_report(utcnow()),
        )
        .order_by(OutboxItem.id)
        .limit(1)
    )
    db.session.rollback()
    if next_id is not None:
        nudges.delivery_due([next_id])


def _backing_off(now: datetime):
    """SQL condition: a WhatsApp item that backs off from failures (an outage, most likely)."""
    return and_(
        OutboxItem.kind == "whatsapp",
        OutboxItem.status == "pending",
        OutboxItem.attempts > 0,
        OutboxItem.last_error != "",
        OutboxItem.in_doubt.is_(False),
        OutboxItem.claimed_until.is_(None),
        OutboxItem.next_attempt_at > now,
        # 131056 is about one customer (too many messages to them), not the provider: it keeps its backoff.
        ~OutboxItem.message.has(Message.error_code == PAIR_RATE_LIMIT_CODE),
    )


def _backing_off_exists(now: datetime) -> bool:
    return db.session.scalar(select(OutboxItem.id).where(_backing_off(now)).limit(1)) is not None


def _hurry_retries_after_recovery(work: Work) -> None:
    """WhatsApp took a message: what still backs off from failures since the previous success (an outage, most
    likely) is due now, not minutes from now. Each customer's order and pacing still apply as they go out."""
    if work.kind != "whatsapp":
        return
    now = utcnow()
    backing_off = _backing_off(now)
    previous_success = db.session.scalar(
        select(OutboxItem.done_at)
        .where(OutboxItem.done_at.is_not(None), OutboxItem.kind == "whatsapp", OutboxItem.id != work.item_id)
        .order_by(OutboxItem.done_at.desc())
        .limit(1)
    )
    if previous_success is not None:
        # A message that failed while others went through has a problem of its own: it keeps its backoff.
        backing_off = and_(backing_off, OutboxItem.last_attempt_at > previous_success)
    item_ids = list(db.session.scalars(select(OutboxItem.id).where(backing_off).order_by(OutboxItem.id).limit(500)))
    if not item_ids:
        db.session.rollback()
        return
    db.session.execute(
        update(OutboxItem).where(OutboxItem.id.in_(item_ids), backing_off).values(next_attempt_at=now),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    nudges.delivery_due(item_ids)


def due_item_ids(limit: int = 500, kind: str | None = None) -> list[int]:
    """Pending items (of `kind`, when given) whose time has come and that no live worker holds: what the sweep
    re-queues."""
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
    if kind is not None:
        query = query.where(OutboxItem.kind == kind)
    ids = list(db.session.scalars(query))
    db.session.rollback()
    return ids


def run_due(max_rounds: int = 50, kind: str | None = None, batch: int = 500) -> dict[str, int]:
    """Deliver everything due now (only items of `kind`, when given), in this process, `batch` items a round.

    The CLI, the sandbox simulator and the tests use it; workers use the queue.
    """
    outcomes: dict[str, int] = {}
    for _ in range(max_rounds):
        ids = due_item_ids(batch, kind)
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
