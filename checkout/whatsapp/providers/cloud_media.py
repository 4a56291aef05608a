"""Meta's Cloud API media endpoints: what a media id stands for, then its bytes.

`GET /{version}/{media-id}` answers {url, mime_type, sha256, file_size}; the url expires in about five
minutes and is fetched with the same bearer token. The bytes are streamed to a file and counted as they
come, so a file larger than allowed is refused without being held in memory.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import requests

CHUNK_BYTES = 64 * 1024

_session = requests.Session()


class MediaUnavailable(RuntimeError):
    """The media could not be fetched; `retryable` says whether trying again later may help."""

    def __init__(self, reason: str, *, retryable: bool):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


@dataclass(frozen=True)
class MediaInfo:
    url: str
    mime_type: str
    sha256: str
    file_size: int | None


@dataclass(frozen=True)
class Downloaded:
    size_bytes: int
    sha256: str


class CloudMediaClient:
    def __init__(self, graph_url: str, version: str, access_token: str, timeout: float):
        self.base = f"{graph_url}/{version}"
        self.access_token = access_token
        self.timeout = timeout

    @classmethod
    def from_config(cls, config) -> "CloudMediaClient":
        if not config["WHATSAPP_ACCESS_TOKEN"]:
            raise MediaUnavailable("WhatsApp Cloud API is not configured (no access token)", retryable=True)
        return cls(
            config["WHATSAPP_GRAPH_URL"],
            config["WHATSAPP_API_VERSION"],
            config["WHATSAPP_ACCESS_TOKEN"],
            config["WHATSAPP_SEND_TIMEOUT"],
        )

    def _get(self, url: str, **kwargs) -> requests.Response:
        try:
            response = _session.get(
                url, headers={"Authorization": f"Bearer {self.access_token}"}, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as error:
            raise MediaUnavailable(f"Could not reach WhatsApp: {error.__class__.__name__}", retryable=True) from None
        if not response.ok:
            response.close()
            # 4xx other than rate limits: the id is unknown or gone (media is kept by Meta for 30 days).
            retryable = response.status_code >= 500 or response.status_code in (401, 408, 429)
            raise MediaUnavailable(f"WhatsApp answered {response.status_code}", retryable=retryable)
        return response

    def info(self, media_id: str) -> MediaInfo:
        """Where the media is and what Meta says it is."""
        data = self._get(f"{self.base}/{media_id}").json()
        size = data.get("file_size")
        if not data.get("url"):
            raise MediaUnavailable("WhatsApp returned no media URL", retryable=True)
        return MediaInfo(
            url=data["url"],
            mime_type=str(data.get("mime_type") or ""),
            sha256=str(data.get("sha256") or "").lower(),
            file_size=int(size) if str(size or "").isdigit() else None,
        )

    def download(self, url: str, destination: Path, max_bytes: int) -> Downloaded:
        """Stream the bytes at `url` into `destination`; refuse (and delete) past `max_bytes`."""
        response = self._get(url, stream=True)
        digest, size = hashlib.sha256(), 0
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise MediaUnavailable(f"The file is larger than {max_bytes} bytes", retryable=False)
            with destination.open("wb") as file:
                for chunk in response.iter_content(CHUNK_BYTES):
                    size += len(chunk)
                    if size > max_bytes:
                        raise MediaUnavailable(f"The file is larger than {max_bytes} bytes", retryable=False)
                    digest.update(chunk)
                    file.write(chunk)
        except requests.RequestException as error:
            destination.unlink(missing_ok=True)
            raise MediaUnavailable(f"The download broke off: {error.__class__.__name__}", retryable=True) from None
        except MediaUnavailable:
            destination.unlink(missing_ok=True)
            raise
        finally:
            response.close()
        return Downloaded(size_bytes=size, sha256=digest.hexdigest())
