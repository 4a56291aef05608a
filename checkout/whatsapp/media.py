"""Inbound media: the pictures, documents, voice notes and videos customers send, downloaded and kept.

Meta's media URLs expire within minutes and the media itself after 30 days, so every inbound media
message gets a MediaFile row (pending) in the webhook's own transaction, and a job downloads it after
the commit (GET /{media-id}, then its URL, both with the bearer token). Files are named by their
sha256 with an extension from our allow-list of types, under MEDIA_FOLDER. A failed download stays
pending and is tried again with growing pauses; after the last attempt, or when the file is refused
(too large), it is marked failed with the reason. In the sandbox the tester's upload is stored before
its webhook is posted, so it is stored at once, with no Graph API.
"""

import logging
import os
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from checkout import nudges
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.conversations import MediaFile
from checkout.models.messaging import Message
from checkout.whatsapp.media_store import (
    EXTENSIONS,
    SANDBOX_MEDIA_PREFIX,
    UNKNOWN_EXTENSION,
    UNKNOWN_TYPE,
    base_type,
    content_path,
    keep_content,
    media_folder,
)
from checkout.whatsapp.providers.cloud_media import CloudMediaClient, MediaUnavailable

log = logging.getLogger(__name__)

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
MEBIBYTE = 1024 * 1024
# Meta's own limits per type: nothing larger can have been sent through WhatsApp.
MAX_BYTES = {
    "image": 5 * MEBIBYTE,
    "audio": 16 * MEBIBYTE,
    "video": 16 * MEBIBYTE,
    "sticker": MEBIBYTE // 2,
    "document": 100 * MEBIBYTE,
}
# Pauses before the 2nd, 3rd… attempt; after the last one a download that still fails is marked failed.
RETRY_DELAYS = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
SWEEP_GRACE = timedelta(minutes=1)  # the sweep takes over a download whose job is this late (a lost nudge)
# What the sandbox accepts as a customer's picture: the type and the first bytes every such file starts with.
SANDBOX_IMAGE_SIGNATURES = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}

_NEW_MEDIA = "chatout_new_media_files"


class UploadRefused(ValueError):
    """A file the sandbox will not take as the customer's picture (wrong type, empty, too large)."""


# ---------------------------------------------------------------------------------------------------------------
# Types and places
# ---------------------------------------------------------------------------------------------------------------


def served_type(mime_type: str) -> str:
    """The Content-Type we serve a file with: its own when on our allow-list, else a plain download."""
    kind = base_type(mime_type)
    return kind if kind in EXTENSIONS else UNKNOWN_TYPE


def shown_inline(mime_type: str) -> bool:
    """Pictures and sound play in the page; every other file is only offered as a download."""
    return served_type(mime_type).startswith(("image/", "audio/"))


def stored_file(media: MediaFile) -> Path | None:
    """The file on disk for a stored media row, or None when there is none (yet)."""
    if media.status != "stored" or not media.storage_path:
        return None
    path = media_folder() / media.storage_path
    return path if path.is_file() else None


@dataclass(frozen=True)
class MediaView:
    """What a screen shows for a message's media: a picture, a player, or a file to download."""

    media_file_id: int
    status: str  # pending, stored, failed
    shown_as: str  # image, audio, file
    caption: str
    file_name: str
    error: str
    voice: bool


def view_of(message: Message) -> MediaView | None:
    """The media of an inbound message as screens show it, or None when it carries none."""
    media_file = message.media
    if media_file is None:
        return None
    part = (message.payload or {}).get(message.kind) or {}
    served = served_type(media_file.mime_type)
    shown_as = served.split("/")[0] if shown_inline(served) else "file"
    return MediaView(
        media_file_id=media_file.id,
        status=media_file.status,
        shown_as=shown_as,
        caption=str(part.get("caption") or ""),
        file_name=media_file.file_name or f"{message.kind}{EXTENSIONS.get(served, UNKNOWN_EXTENSION)}",
        error=media_file.error,
        voice=bool(part.get("voice")),
    )


# ---------------------------------------------------------------------------------------------------------------
# A media message arrives
# ---------------------------------------------------------------------------------------------------------------


def media_part(message: dict) -> tuple[str, dict] | None:
    """(type, its object) for an image/document/audio/video/sticker message, else None. Voice notes are audio."""
    kind = message.get("type")
    part = message.get(kind) if kind in MEDIA_TYPES else None
    return (kind, part) if isinstance(part, dict) and part.get("id") else None


def record_inbound(row: Message, message: dict) -> MediaFile | None:
    """Note the media of an inbound message for download after this transaction commits."""
    found = media_part(message)
    if found is None:
        return None
    kind, part = found
    media = MediaFile(
        message_id=row.id,
        media_id=str(part["id"])[:128],
        mime_type=base_type(str(part.get("mime_type") or ""))[:100],
        file_name=str(part.get("filename") or "")[:255],
        status="pending",
    )
    db.session.add(media)
    if not _take_sandbox_upload(media):
        db.session.info.setdefault(_NEW_MEDIA, []).append(media)
    db.session.flush()
    return media


def _take_sandbox_upload(media: MediaFile) -> bool:
    """In the sandbox, a tester's upload is already on disk: store it at once."""
    if current_app.config["WHATSAPP_PROVIDER"] != "sandbox" or not media.media_id.startswith(SANDBOX_MEDIA_PREFIX):
        return False
    sha256 = media.media_id.removeprefix(SANDBOX_MEDIA_PREFIX)
    relative = content_path(sha256, media.mime_type)
    path = media_folder() / relative
    if not path.is_file():
        return False
    media.status, media.sha256, media.storage_path = "stored", sha256, relative
    media.size_bytes, media.stored_at = path.stat().st_size, utcnow()
    return True


@event.listens_for(Session, "after_commit")
def _nudge_after_commit(session):
    """Queue the downloads this commit made visible; only the outermost commit (see outbox.py)."""
    if session.in_nested_transaction():
        return
    media_files = session.info.pop(_NEW_MEDIA, [])
    ids = [state.identity[0] for state in map(inspect, media_files) if state.persistent]
    if ids:
        nudges.media_download_due(ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session):
    if not session.in_nested_transaction():
        session.info.pop(_NEW_MEDIA, None)


# ---------------------------------------------------------------------------------------------------------------
# Downloading
# ---------------------------------------------------------------------------------------------------------------


def download(media_file_id: int) -> str:
    """Fetch one pending media file from the Cloud API and keep it; returns its status afterwards.

    No transaction stays open during the download. Two runs for one file (a job and the sweep) both
    store the same content under the same name; the first to record it wins.
    """
    media = db.session.get(MediaFile, media_file_id)
    if media is None:
        db.session.rollback()
        return "missing"
    if media.status != "pending":
        status = media.status
        db.session.rollback()
        return status
    media_id, kind, mime_type = media.media_id, media.message.kind, media.mime_type
    db.session.rollback()
    try:
        relative, size, sha256, mime_type = _fetch(media_id, kind, mime_type)
    except MediaUnavailable as problem:
        return _record_failure(media_file_id, problem)
    return _record_stored(media_file_id, relative, size, sha256, mime_type)


def _fetch(media_id: str, kind: str, mime_type: str) -> tuple[str, int, str, str]:
    client = CloudMediaClient.from_config(current_app.config)
    info = client.info(media_id)
    limit = MAX_BYTES.get(kind, MAX_BYTES["document"])
    if info.file_size is not None and info.file_size > limit:
        raise MediaUnavailable(f"The file is larger than {limit} bytes ({info.file_size})", retryable=False)
    folder = media_folder()
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".download-{uuid.uuid4().hex}"
    got = client.download(info.url, partial, limit)
    if info.sha256 and got.sha256 != info.sha256:
        partial.unlink(missing_ok=True)
        raise MediaUnavailable("The download did not match WhatsApp's sha256", retryable=True)
    mime_type = base_type(info.mime_type) or mime_type
    relative = content_path(got.sha256, mime_type)
    (folder / relative).parent.mkdir(parents=True, exist_ok=True)
    os.replace(partial, folder / relative)
    return relative, got.size_bytes, got.sha256, mime_type


def _locked_pending(media_file_id: int) -> MediaFile | None:
    media = db.session.scalar(select(MediaFile).where(MediaFile.id == media_file_id).with_for_update())
    if media is None or media.status != "pending":
        db.session.rollback()
        return None
    return media


def _record_stored(media_file_id: int, relative: str, size: int, sha256: str, mime_type: str) -> str:
    media = _locked_pending(media_file_id)
    if media is None:
        return "stored"  # another run recorded it meanwhile
    media.attempts += 1
    media.status, media.storage_path, media.size_bytes = "stored", relative, size
    media.sha256, media.mime_type, media.error, media.stored_at = sha256, mime_type[:100], "", utcnow()
    db.session.commit()
    return "stored"


def _record_failure(media_file_id: int, problem: MediaUnavailable) -> str:
    media = _locked_pending(media_file_id)
    if media is None:
        return "skipped"
    media.attempts += 1
    media.error = problem.reason[:300]
    retry = problem.retryable and media.attempts < MAX_ATTEMPTS
    if not retry:
        media.status = "failed"
    retry_at = utcnow() + RETRY_DELAYS[media.attempts - 1] if retry else None
    db.session.commit()
    log.warning("media file %s: %s%s", media_file_id, problem.reason, " (will retry)" if retry else "")
    if retry_at is not None:
        nudges.media_download_due([media_file_id], retry_at)
    return media.status


def due_for_retry(limit: int = 200) -> list[int]:
    """Pending downloads whose job is overdue (lost, or its worker died): the sweep queues them again.

    A download is due `RETRY_DELAYS` after its previous attempt; counted from its arrival, as the
    attempts' own times are not kept, so the sweep may try a little early, never late.
    """
    now = utcnow()
    rows = db.session.execute(
        select(MediaFile.id, MediaFile.created_at, MediaFile.attempts)
        .where(MediaFile.status == "pending")
        .order_by(MediaFile.id)
        .limit(limit)
    ).all()
    return [
        media_id
        for media_id, created_at, attempts in rows
        if created_at + sum(RETRY_DELAYS[:attempts], timedelta()) + SWEEP_GRACE <= now
    ]


# ---------------------------------------------------------------------------------------------------------------
# The sandbox: the tester's own picture
# ---------------------------------------------------------------------------------------------------------------


def keep_upload(data: bytes, mime_type: str) -> str:
    """Store a picture the sandbox tester sends as the customer; returns the media id its webhook carries."""
    mime_type = base_type(mime_type)
    signatures = SANDBOX_IMAGE_SIGNATURES.get(mime_type)
    if signatures is None:
        raise UploadRefused("Send a JPEG or PNG picture.")
    if not data:
        raise UploadRefused("The picture is empty.")
    if len(data) > MAX_BYTES["image"]:
        raise UploadRefused(f"WhatsApp takes pictures up to {MAX_BYTES['image'] // MEBIBYTE} MB.")
    if not data.startswith(signatures):
        raise UploadRefused("That file is not the picture its type says.")
    return SANDBOX_MEDIA_PREFIX + keep_content(data, mime_type)
