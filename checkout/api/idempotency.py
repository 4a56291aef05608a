"""Idempotency-Key, as Stripe does it: the first answer is kept for 24 hours and replayed.

The same key with a different body is a client bug (422); the same key while the first request
is still being worked on is a race (409). Only final answers (2xx and 4xx) are kept: after a 5xx
the client may try again with the same key.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from checkout.database import transaction, utcnow
from checkout.extensions import db
from checkout.models.api import IdempotencyRecord

LIFETIME = timedelta(hours=24)
KEY_MAX = 255


def request_fingerprint(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass
class Replay:
    status: int
    body: dict


class KeyReused(Exception):
    """Same key, different request."""


class InFlight(Exception):
    """Same key, first request not finished."""


def begin(api_key_id: int, key: str, fingerprint: str) -> Replay | IdempotencyRecord:
    """Claim the key for this request, or return the stored answer to replay. Commits its own row."""
    cutoff = utcnow() - LIFETIME
    record = IdempotencyRecord(api_key_id=api_key_id, key=key, request_hash=fingerprint)
    try:
        with transaction():
            db.session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.api_key_id == api_key_id,
                    IdempotencyRecord.key == key,
                    IdempotencyRecord.created_at < cutoff,
                )
            )
            db.session.add(record)
        return record
    except IntegrityError:
        pass  # the key is taken: by a request still in flight, or by one whose answer is stored
    existing = db.session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key)
    )
    if existing is None:  # expired and removed between our statements: treat as new
        return begin(api_key_id, key, fingerprint)
    if existing.request_hash != fingerprint:
        raise KeyReused()
    if existing.status != "done":
        raise InFlight()
    return Replay(existing.response_status, existing.response_body)


def finish(record_id: int, status: int, body: dict) -> None:
    record = db.session.get(IdempotencyRecord, record_id)
    if status >= 500:
        db.session.delete(record)
    else:
        record.status, record.response_status, record.response_body = "done", status, body
    db.session.commit()
