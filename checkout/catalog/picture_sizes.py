"""Product pictures as pages show them: the file to load and every other width a browser may pick.

A picture stored in our static folder under a name ending in its width (`kurta-480w.webp`) has its other
widths beside it (`kurta-200w.webp`, `kurta-800w.webp`): they make its `srcset`, so a phone downloads
the smallest file that is sharp on its screen. Any other address (a photo on another host) is used as is.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

WIDTH_IN_NAME = re.compile(r"(?P<stem>[^/]+)-(?P<width>\d{2,4})w\.(?P<extension>webp|avif|png|jpe?g)")


@dataclass(frozen=True)
class Picture:
    src: str
    srcset: str  # "" when only one width is known


def picture_for(image_url: str, static_folder: str, static_url_path: str = "/static") -> Picture | None:
    """The picture at `image_url` with the widths found beside it; None when the product has no picture."""
    if not image_url:
        return None
    return _picture(image_url, static_folder, static_url_path)


@lru_cache(maxsize=1024)
def _picture(image_url: str, static_folder: str, static_url_path: str) -> Picture:
    prefix = static_url_path.rstrip("/") + "/"
    if not image_url.startswith(prefix) or ".." in image_url:
        return Picture(image_url, "")
    folder, _, name = image_url[len(prefix) :].rpartition("/")
    named = WIDTH_IN_NAME.fullmatch(name)
    if named is None:
        return Picture(image_url, "")
    stem, extension = named["stem"], named["extension"]
    widths = sorted(
        int(match["width"])
        for path in (Path(static_folder) / folder).glob(f"{stem}-*w.{extension}")
        if (match := WIDTH_IN_NAME.fullmatch(path.name)) and match["stem"] == stem
    )
    base = image_url[: len(image_url) - len(name)]
    return Picture(image_url, ", ".join(f"{base}{stem}-{width}w.{extension} {width}w" for width in widths))
