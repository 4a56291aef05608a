"""A fake of the parts of Razorpay's API Chatout uses: a real HTTP server on 127.0.0.1, and Razorpay's side of the webhook.

`POST /v1/payment_links` takes Razorpay's JSON, checks HTTP Basic auth (key id : key secret), refuses what Razorpay
documents it refuses (amount under 100 in minor units, a reference_id over 40 characters or used before, notes
over 15 keys or 255 characters, a callback_url without `callback_method: get`) and answers with a Payment Link
entity (`plink_…`, `short_url`). `GET /v1/payment_links?reference_id=…` lists links (`{"payment_links": [...]}`),
`GET /v1/payment_links/{id}` reads one. `POST /v1/payments/{id}/refund` refunds a captured payment, honouring
`X-Refund-Idempotency` (the same key and body answer the same refund; another body under that key is refused).
Errors have Razorpay's shape: `{"error": {"code": "BAD_REQUEST_ERROR", "description": …}}`.

`pay()` is the customer paying on the link's page: the link turns paid, a captured `pay_…` payment is made, and the
`payment_link.paid` event is built as Razorpay documents it, signed with `X-Razorpay-Signature: <hex HMAC-SHA256 of
the raw body keyed with the webhook secret>` and carrying its id in `x-razorpay-event-id`. The signature is made
here from the documentation, not with the SDK our code verifies with, so each can catch the other's mistakes.
`deliver()` POSTs an event to our webhook.

Failure on demand, `fail_next(failure, times)`: "server_error" (500, Razorpay's JSON), "bad_gateway" (502 with an
HTML page, as a proxy in front answers), "timeout" (answers later than the client waits, having done nothing) and
"lost_answer" (does the work, then answers later than the client waits: the link or refund exists, the caller
never heard).
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

from tests.fakes.graph_api import read_body, respond_json
from tests.fakes.provider_fake import ProviderFake, post

KEY_ID = "rzp_test_FakeChatout01"
KEY_SECRET = "fake_key_secret_chatout"
WEBHOOK_SECRET = "fake_webhook_secret_chatout"
ACCOUNT_ID = "acc_FakeChatout0001"
LINKS_PATH = re.compile(r"^/v1/payment_links/?$")
LINK_PATH = re.compile(r"^/v1/payment_links/(plink_[A-Za-z0-9]+)$")
REFUND_PATH = re.compile(r"^/v1/payments/(pay_[A-Za-z0-9]+)/refund$")
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{10,}$")
FAILURES = ("server_error", "bad_gateway", "timeout", "lost_answer")
ALPHANUMERIC = string.ascii_letters + string.digits


def razorpay_id(prefix: str) -> str:
    """Razorpay's ids: a prefix and 14 letters and digits (`plink_ExjpAUN3gVHrPJ`)."""
    return prefix + "".join(secrets.choice(ALPHANUMERIC) for _ in range(14))


def razorpay_signature(raw_body: bytes, secret: str) -> str:
    """X-Razorpay-Signature: the hex HMAC-SHA256 of the raw body, keyed with the webhook secret."""
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignedEvent:
    """An event as Razorpay sends it: the exact bytes and the headers."""

    event_id: str
    raw_body: bytes
    headers: dict


@dataclass
class FakeRazorpay(ProviderFake):
    FAILURES: ClassVar[tuple[str, ...]] = FAILURES
    key_id: str = KEY_ID
    key_secret: str = KEY_SECRET
    webhook_secret: str = WEBHOOK_SECRET
    links: dict = field(default_factory=dict)
    payments: dict = field(default_factory=dict)
    refunds: dict = field(default_factory=dict)
    requests: list = field(default_factory=list)  # (method, path, JSON body or query, headers) of every request
    # Where deliver() sends events: an http(s) URL, or a callable(raw_body, headers) -> HTTP status (a test client).
    webhook: str | Callable[[bytes, dict], int] | None = None
    # How long a "timeout" or "lost_answer" holds the answer; longer than the client waits.
    timeout_seconds: float = 2.0

    def __post_init__(self):
        self._refund_keys: dict[str, tuple[str, dict, str]] = {}  # key → (payment id, body, refund id)
        self._start()

    def link_by_reference(self, reference_id: str) -> dict:
        [link] = [link for link in self.links.values() if link["reference_id"] == reference_id]
        return link

    # -- the API -------------------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        raw = read_body(request) if request.command == "POST" else b""
        with self._lock:
            failure = self._next_failure()
        if failure == "timeout":
            self._record(request, parts, raw)
            self.server.stopping.wait(self.timeout_seconds)
            return respond_json(request, 500, _error("SERVER_ERROR", "Too slow"))
        if failure == "server_error":
            self._record(request, parts, raw)
            return respond_json(request, 500, _error("SERVER_ERROR", "The server encountered an error."))
        if failure == "bad_gateway":
            self._record(request, parts, raw)
            return _respond_html(request, 502, b"<html><body><h1>502 Bad Gateway</h1></body></html>")
        status, answer = self._answer(request, parts, raw)
        if failure == "lost_answer":
            self.server.stopping.wait(self.timeout_seconds)
        respond_json(request, status, answer)

    def _record(self, request, parts, raw: bytes):
        body = _json_or_none(raw) if request.command == "POST" else parse_qs(parts.query)
        with self._lock:
            self.requests.append((request.command, parts.path, body, dict(request.headers)))
        return body

    def _answer(self, request: BaseHTTPRequestHandler, parts, raw: bytes) -> tuple[int, dict]:
        body = self._record(request, parts, raw)
        if request.headers.get("Authorization") != _basic(self.key_id, self.key_secret):
            return 401, _error("BAD_REQUEST_ERROR", "The api key provided is invalid")
        if request.command == "POST" and LINKS_PATH.match(parts.path):
            if not request.headers.get("Content-Type", "").startswith("application/json") or not isinstance(body, dict):
                return 400, _error("BAD_REQUEST_ERROR", "The request body must be JSON")
            return self._create_link(body)
        if request.command == "GET" and LINKS_PATH.match(parts.path):
            wanted = (body.get("reference_id") or [None])[0]
            with self._lock:
                found = [link for link in self.links.values() if wanted in (None, link["reference_id"])]
            return 200, {"payment_links": found}
        if request.command == "GET" and (match := LINK_PATH.match(parts.path)):
            link = self.links.get(match.group(1))
            if link is None:
                return 400, _error("BAD_REQUEST_ERROR", "The id provided does not exist")
            return 200, link
        if request.command == "POST" and (match := REFUND_PATH.match(parts.path)):
            if not isinstance(body, dict):
                return 400, _error("BAD_REQUEST_ERROR", "The request body must be JSON")
            return self._refund(match.group(1), body, request.headers.get("X-Refund-Idempotency"))
        return 400, _error("BAD_REQUEST_ERROR", "The requested URL was not found on the server.")

    def _create_link(self, body: dict) -> tuple[int, dict]:
        problem = _link_problem(body)
        if problem:
            return 400, _error("BAD_REQUEST_ERROR", problem)
        with self._lock:
            reference = body.get("reference_id")
            if reference and any(link["reference_id"] == reference for link in self.links.values()):
                return 400, _error("BAD_REQUEST_ERROR", "payment link creation with reference ID already attempted")
            link_id = razorpay_id("plink_")
            now = int(time.time())
            link = {
                "id": link_id,
                "accept_partial": bool(body.get("accept_partial", False)),
                "amount": body["amount"],
                "amount_paid": 0,
                "callback_method": body.get("callback_method", ""),
                "callback_url": body.get("callback_url", ""),
                "cancelled_at": 0,
                "created_at": now,
                "currency": body.get("currency", "INR"),
                "customer": body.get("customer", {}),
                "description": body.get("description", ""),
                "expire_by": body.get("expire_by", 0),
                "expired_at": 0,
                "first_min_partial_amount": body.get("first_min_partial_amount", 0),
                "notes": body.get("notes") or [],  # Razorpay answers an empty list when there are none
                "notify": {"sms": True, "email": True} | body.get("notify", {}),
                "payments": None,
                "reference_id": reference or "",
                "reminder_enable": bool(body.get("reminder_enable", True)),
                "reminders": [],
                "short_url": f"https://rzp.io/i/{secrets.token_urlsafe(6)}",
                "status": "created",
                "updated_at": now,
                "upi_link": False,
                "user_id": "",
            }
            self.links[link_id] = link
            return 200, link

    def _refund(self, payment_id: str, body: dict, key: str | None) -> tuple[int, dict]:
        if key is not None and not IDEMPOTENCY_KEY.match(key):
            return 400, _error("BAD_REQUEST_ERROR", "The idempotency key must be at least 10 characters long.")
        with self._lock:
            if key in self._refund_keys:
                earlier_payment, earlier_body, refund_id = self._refund_keys[key]
                if (earlier_payment, earlier_body) != (payment_id, body):
                    return 409, _error(
                        "BAD_REQUEST_ERROR",
                        "Different request with the same idempotency key has already been processed.",
                    )
                return 200, self.refunds[refund_id]
            payment = self.payments.get(payment_id)
            if payment is None:
                return 400, _error("BAD_REQUEST_ERROR", "The id provided does not exist")
            left = payment["amount"] - payment["amount_refunded"]
            amount = body.get("amount", left)
            if type(amount) is not int or amount < 100:
                return 400, _error("BAD_REQUEST_ERROR", "The amount must be at least INR 1.00.")
            if left == 0:
                return 400, _error("BAD_REQUEST_ERROR", "The payment has been fully refunded already.")
            if amount > left:
                return 400, _error("BAD_REQUEST_ERROR", "The refund amount provided is greater than amount captured.")
            refund = {
                "id": razorpay_id("rfnd_"),
                "entity": "refund",
                "amount": amount,
                "receipt": body.get("receipt"),
                "currency": payment["currency"],
                "payment_id": payment_id,
                "notes": body.get("notes") or [],
                "acquirer_data": {"arn": None},
                "created_at": int(time.time()),
                "batch_id": None,
                "status": "processed",
                "speed_processed": "normal",
                "speed_requested": body.get("speed", "normal"),
            }
            payment["amount_refunded"] += amount
            payment["refund_status"] = "full" if payment["amount_refunded"] == payment["amount"] else "partial"
            self.refunds[refund["id"]] = refund
            if key is not None:
                self._refund_keys[key] = (payment_id, body, refund["id"])
            return 200, refund

    # -- Razorpay's side of the webhook -----------------------------------------------------------------------

    def pay(
        self, link_id: str, *, amount_minor: int | None = None, currency: str | None = None, secret: str | None = None
    ) -> SignedEvent:
        """The customer pays on the link's page (`amount_minor`/`currency` to pretend something else was taken)."""
        now = int(time.time())
        with self._lock:
            link = self.links[link_id]
            amount = link["amount"] if amount_minor is None else amount_minor
            order_id = razorpay_id("order_")
            payment = {
                "id": razorpay_id("pay_"),
                "entity": "payment",
                "amount": amount,
                "currency": currency or link["currency"],
                "status": "captured",
                "order_id": order_id,
                "invoice_id": None,
                "international": False,
                "method": "upi",
                "amount_refunded": 0,
                "refund_status": None,
                "captured": True,
                "description": link["description"],
                "vpa": "asha@okhdfcbank",
                "email": "void@razorpay.com",
                "contact": "+919876543210",
                "notes": link["notes"],
                "fee": 0,
                "tax": 0,
                "error_code": None,
                "error_description": None,
                "created_at": now,
            }
            self.payments[payment["id"]] = payment
            link.update(status="paid", amount_paid=link["amount_paid"] + amount, updated_at=now)
            link["payments"] = (link["payments"] or []) + [
                {
                    "amount": amount,
                    "created_at": now,
                    "method": "upi",
                    "payment_id": payment["id"],
                    "plink_id": link_id,
                    "status": "captured",
                    "updated_at": now,
                }
            ]
            order = {
                "id": order_id,
                "entity": "order",
                "amount": link["amount"],
                "amount_paid": amount,
                "amount_due": max(link["amount"] - amount, 0),
                "currency": link["currency"],
                "receipt": None,
                "status": "paid",
                "attempts": 1,
                "notes": link["notes"],
                "created_at": now,
            }
            payload = json.loads(json.dumps({"payment_link": link, "order": order, "payment": payment}))
        return self.event("payment_link.paid", payload, secret=secret)

    def event(self, kind: str, entities: dict, *, secret: str | None = None) -> SignedEvent:
        """An event of `kind` whose payload holds `entities` ({"payment_link": {...}, ...}), signed."""
        event_id = razorpay_id("")
        event = {
            "entity": "event",
            "account_id": ACCOUNT_ID,
            "event": kind,
            "contains": list(entities),
            "payload": {name: {"entity": entity} for name, entity in entities.items()},
            "created_at": int(time.time()),
        }
        # Verify the bytes, never a re-encoding: non-ASCII is sent as is.
        raw = json.dumps(event, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": razorpay_signature(raw, secret or self.webhook_secret),
            "x-razorpay-event-id": event_id,
        }
        return SignedEvent(event_id, raw, headers)

    def deliver(self, event: SignedEvent) -> int:
        """POST the event to the webhook as Razorpay does; the HTTP status our endpoint answered."""
        if callable(self.webhook):
            return self.webhook(event.raw_body, event.headers)
        return post(self.webhook, event.raw_body, event.headers)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _json_or_none(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _error(code: str, description: str) -> dict:
    return {
        "error": {
            "code": code,
            "description": description,
            "source": "NA",
            "step": "NA",
            "reason": "NA",
            "metadata": {},
        }
    }


def _respond_html(request: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
    try:
        request.send_response(status)
        request.send_header("Content-Type", "text/html")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)
    except (TimeoutError, BrokenPipeError, ConnectionResetError):
        pass


def _link_problem(body: dict) -> str:
    """What Razorpay would refuse in a Standard Payment Link ('' when nothing)."""
    amount = body.get("amount")
    if type(amount) is not int:
        return "The amount field is required." if amount is None else "The amount must be an integer."
    if amount < 100:
        return "The amount must be atleast INR 1.00"
    if not re.fullmatch(r"[A-Z]{3}", str(body.get("currency", "INR"))):
        return "The selected currency is invalid."
    if len(str(body.get("reference_id") or "")) > 40:
        return "The reference id may not be greater than 40 characters."
    if len(str(body.get("description") or "")) > 2048:
        return "The description may not be greater than 2048 characters."
    notes = body.get("notes", {})
    if not isinstance(notes, dict) or len(notes) > 15:
        return "Number of fields in notes should be less than or equal to 15"
    if any(len(str(value)) > 255 for value in notes.values()):
        return "value: the length must not be greater than 255."
    if body.get("callback_url") and body.get("callback_method") != "get":
        return "callback_method should be get when callback_url is passed"
    if body.get("callback_url") and not re.match(r"https?://", str(body["callback_url"])):
        return "The callback url format is invalid."
    return ""
