"""Files a message carries that are made when it is sent: uploaded to WhatsApp first, then sent by media id.

FIELD-NOTES: a document is uploaded (`POST /{phone-number-id}/media`) and sent by id; Meta then needs no public
address to fetch it from. A message that carries such a file keeps in its payload where the file comes from
(ATTACHMENT_KEY: a source's name and its arguments) instead of an id or a link. At delivery the outbox asks the
source for the bytes, uploads them through the provider and sends the payload with the id. Sources register by
name (the receipts package registers "receipt"), so neither the outbox nor this module knows what a receipt is.
"""

from collections.abc import Callable
from dataclasses import dataclass

ATTACHMENT_KEY = "attachment"
MEDIA_TYPES = ("document", "image", "audio", "video", "sticker")
STAND_IN_MEDIA_ID = "uploaded-when-sent"  # what limits are checked with before the real id exists


@dataclass(frozen=True)
class AttachedFile:
    data: bytes
    mime_type: str
    filename: str


class AttachmentUnavailable(LookupError):
    """The file can no longer be made (its order or payment is gone): the message cannot be sent."""


_SOURCES: dict[str, Callable[[dict], AttachedFile]] = {}


def register_source(name: str, make: Callable[[dict], AttachedFile]) -> None:
    """`make(arguments)` returns the file, or raises AttachmentUnavailable."""
    _SOURCES[name] = make


def attach(payload: dict, source: str, **arguments) -> dict:
    """`payload` (its media part without id or link) carrying the file `source` makes from `arguments`."""
    return {**payload, ATTACHMENT_KEY: {"source": source, **arguments}}


def carries_attachment(payload: dict) -> bool:
    return isinstance(payload.get(ATTACHMENT_KEY), dict)


def with_media_id(payload: dict, media_id: str) -> dict:
    """The payload as WhatsApp gets it: the media part sent by `media_id`, the attachment's recipe dropped."""
    sent = {key: value for key, value in payload.items() if key != ATTACHMENT_KEY}
    kind = sent.get("type")
    if kind in MEDIA_TYPES:
        sent[kind] = {**(sent.get(kind) or {}), "id": media_id}
    return sent


def as_checked(payload: dict) -> dict:
    """What the limits module judges before sending: the payload with a stand-in id where the upload's will be."""
    return with_media_id(payload, STAND_IN_MEDIA_ID) if carries_attachment(payload) else payload


def make_file(payload: dict) -> AttachedFile:
    """The file the payload's attachment names; AttachmentUnavailable when it can't be made."""
    arguments = dict(payload[ATTACHMENT_KEY])
    make = _SOURCES.get(arguments.pop("source", None))
    if make is None:
        raise AttachmentUnavailable(f"no file source called {payload[ATTACHMENT_KEY].get('source')!r}")
    return make(arguments)
