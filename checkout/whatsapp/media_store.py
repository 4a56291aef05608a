"""Where media files live on disk: one copy per content, under MEDIA_FOLDER, named by sha256 and type.

Shared by the customers' downloaded media (media.py) and the sandbox, which keeps what a tester sends as the
customer and what the shop "uploads" to its pretend Meta. No database here, so providers may use it.
"""

import hashlib
import os
import uuid
from pathlib import Path

from flask import current_app

SANDBOX_MEDIA_PREFIX = "sandbox-"  # a media id the sandbox made: the rest is the content's sha256
# The types we store and serve as what they are; anything else is kept, and served only as a download.
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/aac": ".aac",
    "audio/amr": ".amr",
    "video/mp4": ".mp4",
    "video/3gpp": ".3gp",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "application/msword": ".doc",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
}
UNKNOWN_TYPE, UNKNOWN_EXTENSION = "application/octet-stream", ".bin"


def base_type(mime_type: str) -> str:
    """'audio/ogg; codecs=opus' → 'audio/ogg'."""
    return (mime_type or "").split(";")[0].strip().lower()


def media_folder() -> Path:
    return Path(current_app.config["MEDIA_FOLDER"])


def content_path(sha256: str, mime_type: str) -> str:
    """Where a file with this content is kept, relative to the media folder (one copy per content)."""
    return f"{sha256[:2]}/{sha256}{EXTENSIONS.get(base_type(mime_type), UNKNOWN_EXTENSION)}"


def keep_content(data: bytes, mime_type: str) -> str:
    """Write `data` once under its content's name (atomically: a reader never sees half a file); its sha256."""
    sha256 = hashlib.sha256(data).hexdigest()
    path = media_folder() / content_path(sha256, mime_type)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file():
        partial = path.with_name(f".upload-{uuid.uuid4().hex}")
        partial.write_bytes(data)
        os.replace(partial, path)
    return sha256


def kept_file(sha256: str, mime_type: str) -> Path | None:
    """The file `keep_content` wrote for this content and type, or None."""
    path = media_folder() / content_path(sha256, mime_type)
    return path if path.is_file() else None
