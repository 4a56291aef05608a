"""Store API keys: made here, shown once, kept only as a SHA-256 hash."""

import hashlib
import secrets

from sqlalchemy import select

from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.api import ApiKey

PREFIXES = {"secret": "chk_", "widget": "chw_"}


def _hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_key(name: str, kind: str, created_by: str = "") -> tuple[ApiKey, str]:
    """A new key; the plaintext is returned here once and never stored."""
    if kind not in PREFIXES:
        raise ValueError(f"unknown key kind {kind!r}")
    plaintext = PREFIXES[kind] + secrets.token_urlsafe(24 if kind == "secret" else 18)
    key = ApiKey(
        name=name.strip()[:80] or kind,
        kind=kind,
        prefix=plaintext[:10],
        key_hash=_hash(plaintext),
        created_by=created_by,
    )
    db.session.add(key)
    db.session.flush()
    return key, plaintext


def find_active_key(plaintext: str | None) -> ApiKey | None:
    if not plaintext or len(plaintext) > 100 or not plaintext.startswith(tuple(PREFIXES.values())):
        return None
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash(plaintext)))
    return key if key is not None and key.active else None


def revoke(key: ApiKey) -> None:
    key.revoked_at = key.revoked_at or utcnow()


def list_keys() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())))
