"""A fake of the parts of Stripe's API Chatout uses: a real HTTP server on 127.0.0.1, and Stripe's side of the webhook.

`POST /v1/checkout/sessions` takes Stripe's form encoding (`line_items[0][price_data][unit_amount]=…`), checks the
bearer key, honours `Idempotency-Key` and answers with a Checkout Session (`cs_test_…`); `GET
/v1/checkout/sessions/{id}` reads one back. `pay()` is the customer paying on Stripe's page: it completes the
session and builds the `checkout.session.completed` event signed as Stripe documents it (`Stripe-Signature:
t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`), written here from the documentation, not with the SDK that
our code verifies with, so each can catch the other's mistakes. `deliver()` POSTs it to our webhook.
`POST /v1/refunds` (payment_intent, amount) refunds part or all of a PaymentIntent a paid session made, never more
than it has left (Stripe's 400 `charge_already_refunded` / `amount_too_large` otherwise), honouring `Idempotency-Key`
as Stripe does (the same key answers the first refund again); `refunds` keeps what was refunded.
Failure on demand: `fail_next("server_error" | "timeout", times)`.
"""

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import ClassVar
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.graph_api import read_body, respond_json
from tests.fakes.provider_fake import ProviderFake, post

SECRET_KEY = "sk_test_fake_chatout"
WEBHOOK_SECRET = "whsec_fake_chatout"
SESSION_PATH = re.compile(r"^/v1/checkout/sessions/(cs_[A-Za-z0-9_]+)$")
FAILURES = ("server_error", "timeout")


def decode_form(body: bytes) -> dict:
    """Stripe's form encoding to nested dicts: `a[b][0][c]=v` → {"a": {"b": {"0": {"c": "v"}}}}."""
    result: dict = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return result


def stripe_signature(raw_body: bytes, secret: str, timestamp: int) -> str:
    """The Stripe-Signature header value: t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'>."""
    signed = f"{timestamp}.".encode() + raw_body
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


@dataclass(frozen=True)
class SignedEvent:
    """An event as Stripe sends it: the exact bytes and the headers."""

    event_id: str
    raw_body: bytes
    headers: dict


@dataclass
class FakeStripe(ProviderFake):
    FAILURES: ClassVar[tuple[str, ...]] = FAILURES
    secret_key: str = SECRET_KEY
    webhook_secret: str = WEBHOOK_SECRET
    sessions: dict = field(default_factory=dict)
    intents: dict = field(default_factory=dict)  # pi_… → {"amount", "currency", "amount_refunded"}
    refunds: dict = field(default_factory=dict)  # re_… → the refund object
    requests: list = field(default_factory=list)  # (method, path, form) of every request that reached us
    # Where deliver() sends events: an http(s) URL, or a callable(raw_body, headers) -> HTTP status (a test client).
    webhook: str | Callable[[bytes, dict], int] | None = None
    # How long a "timeout" failure holds the answer; longer than the client waits.
    timeout_seconds: float = 2.0

    def __post_init__(self):
        self._by_idempotency_key: dict[str, str] = {}
        self._refund_by_key: dict[str, str] = {}
        self._start()

    # -- the API -------------------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path = urlsplit(request.path).path
        form = decode_form(read_body(request)) if request.command == "POST" else {}
        with self._lock:
            self.requests.append((request.command, path, form))
            failure = self._next_failure()
        if failure == "timeout":
            self.server.stopping.wait(self.timeout_seconds)
            return respond_json(request, 500, _error("api_error", "Too slow"))
        if failure == "server_error":
            return respond_json(request, 500, _error("api_error", "Something went wrong on Stripe's end."))
        if request.headers.get("Authorization") != f"Bearer {self.secret_key}":
            return respond_json(request, 401, _error("invalid_request_error", "Invalid API Key provided"))
        if request.command == "POST" and path == "/v1/checkout/sessions":
            return self._create_session(request, form)
        if request.command == "POST" and path == "/v1/refunds":
            return self._create_refund(request, form)
        if request.command == "GET" and (match := SESSION_PATH.match(path)):
            session = self.sessions.get(match.group(1))
            if session is None:
                return respond_json(request, 404, _error("invalid_request_error", "No such checkout.session"))
            return respond_json(request, 200, session)
        respond_json(request, 404, _error("invalid_request_error", f"Unrecognized request URL ({path})"))

    def _create_session(self, request: BaseHTTPRequestHandler, form: dict) -> None:
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            if key and key in self._by_idempotency_key:
                return respond_json(request, 200, self.sessions[self._by_idempotency_key[key]])
        problem = _session_problem(form)
        if problem:
            return respond_json(request, 400, _error("invalid_request_error", problem))
        items = form["line_items"].values()
        currencies = {item["price_data"]["currency"] for item in items}
        if len(currencies) != 1:
            return respond_json(request, 400, _error("invalid_request_error", "Line items need one currency"))
        session_id = "cs_test_" + secrets.token_hex(12)
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": form["mode"],
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity", "1")) for i in items),
            "currency": currencies.pop(),
            "client_reference_id": form.get("client_reference_id"),
            "metadata": form.get("metadata", {}),
            "success_url": form["success_url"],
            "cancel_url": form.get("cancel_url"),
            "payment_intent": None,
            "expires_at": int(time.time()) + 24 * 3600,
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "livemode": False,
        }
        with self._lock:
            self.sessions[session_id] = session
            if key:
                self._by_idempotency_key[key] = session_id
        respond_json(request, 200, session)

    def _create_refund(self, request: BaseHTTPRequestHandler, form: dict) -> None:
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            if key and key in self._refund_by_key:
                return respond_json(request, 200, self.refunds[self._refund_by_key[key]])
            intent = self.intents.get(form.get("payment_intent", ""))
            if intent is None:
                return respond_json(request, 400, _error("invalid_request_error", "No such payment_intent"))
            left = intent["amount"] - intent["amount_refunded"]
            amount = form.get("amount", str(left))
            if not amount.isdigit() or int(amount) <= 0:
                return respond_json(request, 400, _error("invalid_request_error", "Invalid positive integer: amount"))
            if left == 0:
                message = f"Charge for {form['payment_intent']} has already been refunded."
                return respond_json(request, 400, _error("invalid_request_error", message, "charge_already_refunded"))
            if int(amount) > left:
                message = f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})"
                return respond_json(request, 400, _error("invalid_request_error", message, "amount_too_large"))
            intent["amount_refunded"] += int(amount)
            refund = {
                "id": "re_" + secrets.token_hex(12),
                "object": "refund",
                "amount": int(amount),
                "currency": intent["currency"],
                "payment_intent": form["payment_intent"],
                "metadata": form.get("metadata", {}),
                "reason": form.get("reason"),
                "status": "succeeded",
                "created": int(time.time()),
            }
            self.refunds[refund["id"]] = refund
            if key:
                self._refund_by_key[key] = refund["id"]
        respond_json(request, 200, refund)

    def add_payment_intent(self, intent_id: str, amount_minor: int, currency: str) -> None:
        """A PaymentIntent paid outside pay() (a test's own event), so it can be refunded."""
        with self._lock:
            self.intents[intent_id] = {"amount": amount_minor, "currency": currency.lower(), "amount_refunded": 0}

    # -- Stripe's side of the webhook -------------------------------------------------------------------------

    def pay(
        self,
        session_id: str,
        *,
        amount_minor: int | None = None,
        currency: str | None = None,
        signed_at: int | None = None,
        secret: str | None = None,
    ) -> SignedEvent:
        """The customer pays on Stripe's page (`amount_minor` to pretend a different amount was taken)."""
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="paid", payment_intent="pi_" + secrets.token_hex(12))
            if amount_minor is not None:
                session["amount_total"] = amount_minor
            if currency is not None:
                session["currency"] = currency.lower()
            intent = {"amount": session["amount_total"], "currency": session["currency"], "amount_refunded": 0}
            self.intents[session["payment_intent"]] = intent
            snapshot = json.loads(json.dumps(session))
        return self.event("checkout.session.completed", snapshot, signed_at=signed_at, secret=secret)

    def event(self, kind: str, data_object: dict, *, signed_at: int | None = None, secret: str | None = None):
        now = int(time.time())
        event = {
            "id": "evt_" + secrets.token_hex(12),
            "object": "event",
            "api_version": "2025-03-31.basil",
            "created": now,
            "livemode": False,
            "pending_webhooks": 1,
            "type": kind,
            "data": {"object": data_object},
        }
        # Stripe's bodies are pretty-printed and may hold non-ASCII as is: verify the bytes, never a re-encoding.
        raw = json.dumps(event, indent=2, ensure_ascii=False).encode()
        signature = stripe_signature(raw, secret or self.webhook_secret, signed_at or now)
        headers = {"Stripe-Signature": signature, "Content-Type": "application/json; charset=utf-8"}
        return SignedEvent(event["id"], raw, headers)

    def deliver(self, event: SignedEvent) -> int:
        """POST the event to the webhook as Stripe does; the HTTP status our endpoint answered."""
        if callable(self.webhook):
            return self.webhook(event.raw_body, event.headers)
        return post(self.webhook, event.raw_body, event.headers)


def _error(kind: str, message: str, code: str | None = None) -> dict:
    return {"error": {"type": kind, "message": message, **({"code": code} if code else {})}}


def _session_problem(form: dict) -> str:
    """What Stripe would refuse in a payment-mode session with inline prices ('' when nothing)."""
    if form.get("mode") != "payment":
        return "mode must be payment"
    if not form.get("success_url"):
        return "Missing required param: success_url."
    items = form.get("line_items")
    if not isinstance(items, dict) or not items:
        return "Missing required param: line_items."
    for item in items.values():
        price = item.get("price_data", {})
        if not re.fullmatch(r"[a-z]{3}", price.get("currency", "")):
            return "Invalid currency: currencies are three lower-case letters"
        if not price.get("unit_amount", "").isdigit():
            return "Invalid integer: unit_amount"
        if not price.get("product_data", {}).get("name"):
            return "Missing required param: line_items[][price_data][product_data][name]."
    if len(form.get("client_reference_id") or "") > 200:
        return "client_reference_id is at most 200 characters"
    return ""
