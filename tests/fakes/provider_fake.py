"""What every fake payment provider shares: its own server on 127.0.0.1, failures queued on demand, and posting
an event to the shop the way the provider does."""

import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler

from tests.fakes.graph_api import LocalHttpServer


class ProviderFake:
    """Mixed into a fake's dataclass: `_start()` from __post_init__, `_handle(request)` answers the API."""

    FAILURES: tuple[str, ...] = ()

    def _start(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[str] = []
        self.server = LocalHttpServer(self._handle)
        self.server.up()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        self.server.down()

    def fail_next(self, failure: str, times: int = 1) -> None:
        assert failure in self.FAILURES, failure
        with self._lock:
            self._failures.extend([failure] * times)

    def _next_failure(self) -> str | None:
        """The failure queued for this request, if any (call with self._lock held)."""
        return self._failures.pop(0) if self._failures else None


def post(url: str, raw_body: bytes, headers: dict) -> int:
    """POST as a provider does; the HTTP status the shop answered."""
    request = urllib.request.Request(url, data=raw_body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
