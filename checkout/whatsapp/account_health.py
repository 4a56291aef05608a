"""When Meta refuses the shop's whole WhatsApp account, every send pauses until the account works again.

An expired token (190), a missing permission (10), a locked account (131031), a payment or eligibility
problem (131042) or a policy block (368) makes Meta refuse *every* message, whatever it says. Failing
messages one by one on such an error loses them all, so instead:

- the message that met the error waits (pending, the try not counted) and a pause opens: a row in
  `sending_pauses`, which every worker on every host reads before it sends, so nothing else is sent;
- staff see a banner on every admin page while the pause lasts (the reason and what to fix);
- one waiting message is tried after WHATSAPP_PAUSE_PROBE_SECONDS, then twice as long after each refusal,
  up to WHATSAPP_PAUSE_PROBE_MAX_SECONDS; the first try Meta answers for the message itself (accepted,
  or refused for that message only) ends the pause and every waiting message is queued again, in order.

The staff alert numbers hear about it once per pause, by WhatsApp: the alert is written to the outbox
when the pause opens and necessarily waits with everything else, so it arrives when sending resumes
(WhatsApp is the only channel to staff phones Chatout has). During the pause staff learn of it from the
admin banner, and operators from the ERROR line in the log.

Per-message errors (131026 not on WhatsApp, 131047 window closed, 132xxx template problems) are not
the account's fault and stay what they were: permanent or retried, for that message alone.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from checkout import events, nudges
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.messaging import OutboxItem, SendingPause
from checkout.whatsapp.providers import SendFailed

log = logging.getLogger(__name__)

SENDING_PAUSED = "whatsapp.sending_paused"  # published with pause=SendingPause, reason=str, in its transaction
OPEN = 1  # SendingPause.open_slot of the open pause
RESUME_NUDGE_LIMIT = 500  # waiting messages queued at once on resuming; the sweep finds any others

# Graph API codes that concern the account (token, app, business, payment), not the message.
TOKEN_CODES = frozenset({0, 190})
PERMISSION_CODES = frozenset({3, 10, 131005, *range(200, 300)})
ACCOUNT_LOCKED, ACCOUNT_INELIGIBLE, POLICY_BLOCK = 131031, 131042, 368
ACCOUNT_ERROR_CODES = TOKEN_CODES | PERMISSION_CODES | {ACCOUNT_LOCKED, ACCOUNT_INELIGIBLE, POLICY_BLOCK}


def is_account_error(failure: SendFailed) -> bool:
    """Does this error stop every message of the account, not just this one?"""
    return failure.code in ACCOUNT_ERROR_CODES


def reason(code: int | None) -> str:
    """What the error means, in words staff can act on."""
    if code in TOKEN_CODES:
        return "the access token has expired or was revoked; put a new WHATSAPP_ACCESS_TOKEN in place"
    if code in PERMISSION_CODES:
        return "the access token lacks permission for this WhatsApp number; check the app's permissions"
    if code == ACCOUNT_LOCKED:
        return "Meta has locked the WhatsApp Business account; see WhatsApp Manager"
    if code == ACCOUNT_INELIGIBLE:
        return "the WhatsApp Business account has a payment or eligibility problem; check its payment method"
    if code == POLICY_BLOCK:
        return "Meta has temporarily blocked the account for a policy violation; see WhatsApp Manager"
    return "WhatsApp refused the account"


@dataclass(frozen=True)
class PauseNotice:
    """What the admin banner says about the open pause."""

    started_at: datetime
    error: str  # "190: Invalid OAuth access token"
    reason: str
    next_try_at: datetime


def open_pause() -> SendingPause | None:
    return db.session.scalar(select(SendingPause).where(SendingPause.open_slot == OPEN))


def sending_paused() -> bool:
    """Is WhatsApp sending paused right now? One small indexed query; asked before each send."""
    return db.session.scalar(select(SendingPause.id).where(SendingPause.open_slot == OPEN)) is not None


def pause_notice() -> PauseNotice | None:
    pause = open_pause()
    if pause is None:
        return None
    error = f"{pause.error_code}: {pause.error_title}" if pause.error_code is not None else pause.error_title
    return PauseNotice(pause.started_at, error, reason(pause.error_code), pause.next_probe_at)


def probe_delay(refused_probes: int) -> timedelta:
    config = current_app.config
    seconds = config["WHATSAPP_PAUSE_PROBE_SECONDS"] * 2**refused_probes
    return timedelta(seconds=min(seconds, config["WHATSAPP_PAUSE_PROBE_MAX_SECONDS"]))


# ---------------------------------------------------------------------------------------------------------------
# Hooks the outbox calls
# ---------------------------------------------------------------------------------------------------------------


def hold_for_pause(item_id: int, failure: SendFailed) -> str:
    """The account was refused while sending this item: it waits, its try not counted, and sending pauses."""
    item = db.session.get(OutboxItem, item_id)
    item.attempts = max(0, item.attempts - 1)
    item.claimed_until = None
    item.next_attempt_at = utcnow()
    item.last_error = f"Waiting: WhatsApp sending is paused ({failure})"[:500]
    if item.message is not None:
        item.message.error_code, item.message.error_title = failure.code, failure.title[:300]
    _pause(failure)
    db.session.commit()
    return "paused"


def _pause(failure: SendFailed) -> None:
    if sending_paused():
        return
    now = utcnow()
    pause = SendingPause(
        open_slot=OPEN,
        started_at=now,
        error_code=failure.code,
        error_title=failure.title[:300],
        probes=0,
        next_probe_at=now + probe_delay(0),
    )
    try:
        with db.session.begin_nested():
            db.session.add(pause)
    except IntegrityError:
        return  # another worker opened the pause a moment ago, and alerts
    log.error(
        "WhatsApp sending paused: %s (%s). Messages wait; trying again at %s",
        failure,
        reason(failure.code),
        pause.next_probe_at,
    )
    events.publish(SENDING_PAUSED, pause=pause, reason=reason(failure.code))
    nudges.sending_probe_due(pause.next_probe_at)


def take_probe() -> int | None:
    """If a pause is open and its next try is due, take that try for this worker: the waiting item to send.

    With nothing waiting there is nothing to learn from, so the pause ends; the next refused send opens another.
    """
    now = utcnow()
    query = select(SendingPause).where(SendingPause.open_slot == OPEN, SendingPause.next_probe_at <= now)
    pause = db.session.scalar(query.with_for_update(skip_locked=True))
    if pause is None:
        db.session.rollback()
        return None
    earlier = aliased(OutboxItem)
    first_in_line = ~(
        select(earlier.id)
        .where(earlier.ordering_key == OutboxItem.ordering_key, earlier.status == "pending", earlier.id < OutboxItem.id)
        .exists()
    )
    waiting = select(OutboxItem.id).where(
        OutboxItem.kind == "whatsapp",
        OutboxItem.status == "pending",
        OutboxItem.next_attempt_at <= now,
        (OutboxItem.claimed_until.is_(None)) | (OutboxItem.claimed_until <= now),
        first_in_line,  # the outbox would make any other wait its turn, and the try would be wasted
    )
    item_id = db.session.scalar(waiting.order_by(OutboxItem.id).limit(1))
    if item_id is None:
        _end(pause)
        db.session.commit()
        return None
    pause.probes += 1
    pause.next_probe_at = now + probe_delay(pause.probes)
    db.session.commit()
    nudges.sending_probe_due(pause.next_probe_at)
    return item_id


def probe_answered(failure: SendFailed | None) -> None:
    """After a try during a pause: Meta judging the message itself (sent, or refused for it alone) ends the pause.

    The account refused again, or no answer (network, 5xx): the pause stays and the next try is already set.
    """
    if failure is not None and (is_account_error(failure) or failure.retryable or failure.code is None):
        return
    resume_sending()


def resume_sending() -> bool:
    """End the open pause and queue every waiting message again; False if no pause was open."""
    pause = db.session.scalar(select(SendingPause).where(SendingPause.open_slot == OPEN).with_for_update())
    if pause is None:
        db.session.rollback()
        return False
    _end(pause)
    waiting = list(
        db.session.scalars(
            select(OutboxItem.id)
            .where(OutboxItem.kind == "whatsapp", OutboxItem.status == "pending")
            .order_by(OutboxItem.id)
            .limit(RESUME_NUDGE_LIMIT)
        )
    )
    db.session.commit()
    log.warning(
        "WhatsApp sending resumed after %s; %d waiting message(s) queued",
        pause.ended_at - pause.started_at,
        len(waiting),
    )
    nudges.delivery_due(waiting)
    return True


def _end(pause: SendingPause) -> None:
    pause.open_slot = None
    pause.ended_at = utcnow()
