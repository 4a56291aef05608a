"""Product images: an upload is checked by its first bytes and stored under a name we choose."""

import re
import secrets
from pathlib import Path

from checkout.catalog.errors import InvalidImage

IMAGE_MAX_BYTES = 2 * 1024 * 1024
STORED_IMAGE_NAME = re.compile(r"[0-9a-f]{32}\.(?:png|jpg|webp)")


def image_extension(data: bytes) -> str | None:
    """'png', 'jpg' or 'webp' when the bytes really start like one of those formats, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def store_image(stream, folder: str) -> str:
    """Check and save an uploaded image under a random name in `folder`; returns that name.

    The name and extension come from us, never from the upload, so nothing a browser sends decides
    where the file lands or how it is served.
    """
    data = stream.read(IMAGE_MAX_BYTES + 1)
    if len(data) > IMAGE_MAX_BYTES:
        raise InvalidImage(f"The image is larger than {IMAGE_MAX_BYTES // (1024 * 1024)} MB.")
    extension = image_extension(data)
    if extension is None:
        raise InvalidImage("That file is not a PNG, JPEG or WebP image.")
    Path(folder).mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{extension}"
    with open(Path(folder) / name, "xb") as file:
        file.write(data)
    return name


def is_stored_image_name(name: str) -> bool:
    return bool(STORED_IMAGE_NAME.fullmatch(name))


def discard_image(url_or_name: str, folder: str) -> None:
    """Delete an image we stored (given its name or its URL); anything else is left alone."""
    name = url_or_name.rsplit("/", 1)[-1]
    if is_stored_image_name(name):
        (Path(folder) / name).unlink(missing_ok=True)
