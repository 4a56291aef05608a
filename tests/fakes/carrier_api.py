"""A fake courier API for the customer's choices after a failed delivery: a real HTTP server on 127.0.0.1.

`POST /actions` with `Authorization: Bearer <token>` and a JSON body as checkout/carriers/actions.py documents it
(`action` reschedule | change_address | return_to_origin, `tracking_number`, `order_reference`, and `date`
YYYY-MM-DD for a reschedule, `address` for a new address). Anything else is refused with 400 (401 for a wrong
token). Accepted actions are kept in `actions`. Failure on demand: `fail_next(times, status=503)`.
"""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler

from tests.fakes.graph_api import LocalHttpServer, read_body, respond_json

TOKEN = "fake-carrier-action-token"
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NEEDS = {"reschedule": "date", "change_address": "address", "return_to_origin": None}


class FakeCarrierApi:
    def __init__(self, token: str = TOKEN):
        self.token = token
        self.actions: list[dict] = []
        self.refused: list[tuple[int, str]] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server = LocalHttpServer(self._handle)

    @property
    def url(self) -> str:
        return f"{self._server.url}/actions"

    def start(self) -> None:
        self._server.up()

    def stop(self) -> None:
        self._server.down()

    def fail_next(self, times: int = 1, status: int = 503) -> None:
        with self._lock:
            self._failures.extend([status] * times)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            respond_json(request, failure, {"error": "try later"})
            return
        if request.command != "POST" or request.path != "/actions":
            respond_json(request, 404, {"error": "not found"})
            return
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            self._refuse(request, 401, "bad token")
            return
        try:
            body = json.loads(read_body(request) or b"{}")
        except ValueError:
            self._refuse(request, 400, "not JSON")
            return
        problem = _problem(body)
        if problem:
            self._refuse(request, 400, problem)
            return
        with self._lock:
            self.actions.append(body)
        respond_json(request, 202, {"accepted": True})

    def _refuse(self, request, status: int, why: str) -> None:
        with self._lock:
            self.refused.append((status, why))
        respond_json(request, status, {"error": why})


def _problem(body: dict) -> str:
    action = body.get("action")
    if action not in NEEDS:
        return f"unknown action {action!r}"
    if not body.get("tracking_number") or not body.get("order_reference"):
        return "tracking_number and order_reference are required"
    needed = NEEDS[action]
    if needed == "date" and not DAY.match(str(body.get("date", ""))):
        return "date must be YYYY-MM-DD"
    if needed == "address" and not str(body.get("address", "")).strip():
        return "address is required"
    return ""
