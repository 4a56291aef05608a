"""A fake of the parts of Safaricom's Daraja API Chatout uses: a real HTTP server on 127.0.0.1, and M-Pesa's side
of the STK Push callback.

`GET /oauth/v1/generate?grant_type=client_credentials` takes Basic auth (consumer key and secret) and answers
`{"access_token", "expires_in": "3599"}` (text, as Daraja sends it). `POST /mpesa/stkpush/v1/processrequest`
checks the bearer token and every field as Daraja documents it: the shortcode, Password = base64(shortcode +
passkey + Timestamp) with Timestamp YYYYMMDDHHmmss, TransactionType, Amount in whole shillings, PartyA and
PhoneNumber 2547XXXXXXXX (or 2541…), PartyB, an http(s) CallBackURL, AccountReference ≤ 12 and TransactionDesc
≤ 13; it answers with a CheckoutRequestID. `POST /mpesa/stkpushquery/v1/query` answers a prompt's ResultCode,
or `500.001.1001 The transaction is being processed` while the customer has not answered. Refusals have Daraja's
error shape (`requestId`, `errorCode`, `errorMessage`); an unknown or expired token is `404.001.03`.
Written from the documentation, not from our client, so each can catch the other's mistakes.

The customer's side: `pay()` (PIN entered; optionally a different Amount in the callback), `cancel()` (1032),
`forge()` (a paid-looking callback while M-Pesa's own record says otherwise). `deliver()` POSTs a callback to
the prompt's CallBackURL. Failure on demand: `fail_next("server_error" | "timeout", times)`.
"""

import base64
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

from tests.fakes.graph_api import read_body, respond_json
from tests.fakes.provider_fake import ProviderFake, post

CONSUMER_KEY = "fake-consumer-key"
CONSUMER_SECRET = "fake-consumer-secret"
SHORTCODE = "174379"  # Safaricom's own sandbox paybill
PASSKEY = "fake-lipa-na-mpesa-passkey"
TOKEN_LIFETIME = "3599"
STK_QUERY = "/mpesa/stkpushquery/v1/query"
PHONE = re.compile(r"^254(7|1)\d{8}$")
TIMESTAMP = re.compile(r"^\d{14}$")
FAILURES = ("server_error", "timeout")
TRANSACTION_TYPES = ("CustomerPayBillOnline", "CustomerBuyGoodsOnline")
CANCELLED_BY_USER = (1032, "Request cancelled by user")
STILL_PROCESSING = ("500.001.1001", "The transaction is being processed")


def password(shortcode: str, passkey: str, timestamp: str) -> str:
    return base64.b64encode((shortcode + passkey + timestamp).encode()).decode()


@dataclass
class Prompt:
    """One STK push as Daraja keeps it: what was asked, and how the customer answered (None: not yet)."""

    checkout_request_id: str
    merchant_request_id: str
    request: dict
    result_code: int | None = None
    result_desc: str = ""
    receipt: str = ""

    @property
    def amount(self) -> int:
        return int(self.request["Amount"])

    @property
    def callback_url(self) -> str:
        return self.request["CallBackURL"]


@dataclass(frozen=True)
class Callback:
    """A callback as M-Pesa POSTs it: the exact bytes, and where to."""

    checkout_request_id: str
    raw_body: bytes
    url: str


@dataclass
class FakeDaraja(ProviderFake):
    FAILURES: ClassVar[tuple[str, ...]] = FAILURES
    consumer_key: str = CONSUMER_KEY
    consumer_secret: str = CONSUMER_SECRET
    shortcode: str = SHORTCODE
    passkey: str = PASSKEY
    prompts: dict = field(default_factory=dict)  # CheckoutRequestID → Prompt
    requests: list = field(default_factory=list)  # (method, path, json body) of every request that reached us
    token_requests: int = 0
    # Where deliver() sends callbacks: None for real HTTP to the CallBackURL, or a callable(path, raw_body) ->
    # HTTP status (a Flask test client standing in for the shop's public address).
    webhook: Callable[[str, bytes], int] | None = None
    timeout_seconds: float = 2.0  # how long a "timeout" failure holds the answer; longer than the client waits

    def __post_init__(self):
        self._tokens: set[str] = set()
        self._start()

    def expire_tokens(self) -> None:
        """Daraja forgets every token it gave (they last an hour): the next call with one is refused."""
        with self._lock:
            self._tokens.clear()

    # -- the API ---------------------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        raw = read_body(request) if request.command == "POST" else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        with self._lock:
            self.requests.append((request.command, parts.path, body))
            failure = self._next_failure()
        if failure == "timeout":
            self.server.stopping.wait(self.timeout_seconds)
            return respond_json(request, 503, _error("503.001.01", "Service Unavailable"))
        if failure == "server_error":
            return respond_json(request, 500, _error("500.003.02", "System is busy. Please try again in few minutes."))
        if request.command == "GET" and parts.path == "/oauth/v1/generate":
            return self._token(request, parse_qs(parts.query))
        if request.command != "POST" or parts.path not in ("/mpesa/stkpush/v1/processrequest", STK_QUERY):
            return respond_json(request, 404, _error("404.001.01", "Resource not found"))
        auth = request.headers.get("Authorization", "")
        with self._lock:
            known = auth.startswith("Bearer ") and auth.removeprefix("Bearer ") in self._tokens
        if not known:
            return respond_json(request, 404, _error("404.001.03", "Invalid Access Token"))
        if not isinstance(body, dict):
            return respond_json(request, 400, _error("400.002.05", "Invalid Request Payload"))
        if parts.path == STK_QUERY:
            return self._query(request, body)
        return self._push(request, body)

    def _token(self, request: BaseHTTPRequestHandler, query: dict) -> None:
        expected = base64.b64encode(f"{self.consumer_key}:{self.consumer_secret}".encode()).decode()
        if query.get("grant_type") != ["client_credentials"]:
            return respond_json(request, 400, _error("400.008.02", "Invalid grant type passed"))
        if request.headers.get("Authorization") != f"Basic {expected}":
            return respond_json(request, 400, _error("400.008.01", "Invalid Authentication passed"))
        token = secrets.token_urlsafe(20)
        with self._lock:
            self.token_requests += 1
            self._tokens.add(token)
        respond_json(request, 200, {"access_token": token, "expires_in": TOKEN_LIFETIME})

    def _push(self, request: BaseHTTPRequestHandler, body: dict) -> None:
        problem = self._push_problem(body)
        if problem:
            return respond_json(request, 400, _error("400.002.02", f"Bad Request - Invalid {problem}"))
        checkout_id = f"ws_CO_{time.strftime('%d%m%Y%H%M%S')}{secrets.randbelow(10**12):012d}"
        merchant_id = f"{secrets.randbelow(90000) + 10000}-{secrets.randbelow(10**8)}-1"
        with self._lock:
            self.prompts[checkout_id] = Prompt(checkout_id, merchant_id, dict(body))
        respond_json(
            request,
            200,
            {
                "MerchantRequestID": merchant_id,
                "CheckoutRequestID": checkout_id,
                "ResponseCode": "0",
                "ResponseDescription": "Success. Request accepted for processing",
                "CustomerMessage": "Success. Request accepted for processing",
            },
        )

    def _push_problem(self, body: dict) -> str:
        """The field Daraja would call invalid ('' when none)."""
        if body.get("BusinessShortCode") != self.shortcode:
            return "BusinessShortCode"
        problem = self._credentials_problem(body)
        if problem:
            return problem
        if body.get("TransactionType") not in TRANSACTION_TYPES:
            return "TransactionType"
        amount = body.get("Amount")
        if isinstance(amount, bool) or not (
            (isinstance(amount, int) and amount >= 1) or (isinstance(amount, str) and amount.isdigit() and int(amount))
        ):
            return "Amount"
        for name in ("PartyA", "PhoneNumber"):
            if not PHONE.fullmatch(str(body.get(name) or "")):
                return name
        if body.get("PartyB") != self.shortcode:
            return "PartyB"
        callback = urlsplit(str(body.get("CallBackURL") or ""))
        if callback.scheme not in ("http", "https") or not callback.netloc:
            return "CallBackURL"
        reference = body.get("AccountReference")
        if not isinstance(reference, str) or not 1 <= len(reference) <= 12:
            return "AccountReference"
        description = body.get("TransactionDesc")
        if not isinstance(description, str) or not 1 <= len(description) <= 13:
            return "TransactionDesc"
        return ""

    def _credentials_problem(self, body: dict) -> str:
        timestamp = str(body.get("Timestamp") or "")
        if not TIMESTAMP.fullmatch(timestamp):
            return "Timestamp"
        try:
            datetime.strptime(timestamp, "%Y%m%d%H%M%S")
        except ValueError:
            return "Timestamp"
        if body.get("Password") != password(self.shortcode, self.passkey, timestamp):
            return "Password"  # Daraja: wrong shortcode, passkey or a timestamp other than the one encoded
        return ""

    def _query(self, request: BaseHTTPRequestHandler, body: dict) -> None:
        if body.get("BusinessShortCode") != self.shortcode:
            return respond_json(request, 400, _error("400.002.02", "Bad Request - Invalid BusinessShortCode"))
        problem = self._credentials_problem(body)
        if problem:
            return respond_json(request, 400, _error("400.002.02", f"Bad Request - Invalid {problem}"))
        with self._lock:
            prompt = self.prompts.get(body.get("CheckoutRequestID"))
        if prompt is None:
            return respond_json(request, 400, _error("400.002.02", "Bad Request - Invalid CheckoutRequestID"))
        if prompt.result_code is None:
            return respond_json(request, 500, _error(*STILL_PROCESSING))
        respond_json(
            request,
            200,
            {
                "ResponseCode": "0",
                "ResponseDescription": "The service request has been accepted successsfully",
                "MerchantRequestID": prompt.merchant_request_id,
                "CheckoutRequestID": prompt.checkout_request_id,
                "ResultCode": str(prompt.result_code),
                "ResultDesc": prompt.result_desc,
            },
        )

    # -- the customer's phone and M-Pesa's callback ------------------------------------------------------------

    def pay(self, checkout_request_id: str, *, amount: int | None = None) -> Callback:
        """The customer enters their PIN; `amount` (whole shillings) to pretend the callback said another sum."""
        with self._lock:
            prompt = self.prompts[checkout_request_id]
            prompt.result_code, prompt.result_desc = 0, "The service request is processed successfully."
            prompt.receipt = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(10))
        return self._paid_callback(prompt, amount if amount is not None else prompt.amount, prompt.receipt)

    def cancel(self, checkout_request_id: str) -> Callback:
        """The customer presses Cancel on the prompt."""
        with self._lock:
            prompt = self.prompts[checkout_request_id]
            prompt.result_code, prompt.result_desc = CANCELLED_BY_USER
        return self._cancelled_callback(prompt)

    def forge(self, checkout_request_id: str, *, amount: int | None = None, cancelled: bool = False) -> Callback:
        """Someone who learnt the callback address claims the prompt was paid (or cancelled, `cancelled`);
        M-Pesa's own record is unchanged."""
        with self._lock:
            prompt = self.prompts[checkout_request_id]
        if cancelled:
            return self._cancelled_callback(prompt)
        return self._paid_callback(prompt, amount if amount is not None else prompt.amount, "FORGED0001")

    def _cancelled_callback(self, prompt: Prompt) -> Callback:
        code, description = CANCELLED_BY_USER
        callback = {
            "MerchantRequestID": prompt.merchant_request_id,
            "CheckoutRequestID": prompt.checkout_request_id,
            "ResultCode": code,
            "ResultDesc": description,
        }
        return self._callback(prompt, callback)

    def _paid_callback(self, prompt: Prompt, amount: int, receipt: str) -> Callback:
        callback = {
            "MerchantRequestID": prompt.merchant_request_id,
            "CheckoutRequestID": prompt.checkout_request_id,
            "ResultCode": 0,
            "ResultDesc": "The service request is processed successfully.",
            "CallbackMetadata": {
                "Item": [
                    {"Name": "Amount", "Value": amount},
                    {"Name": "MpesaReceiptNumber", "Value": receipt},
                    {"Name": "Balance"},
                    {"Name": "TransactionDate", "Value": int(time.strftime("%Y%m%d%H%M%S"))},
                    {"Name": "PhoneNumber", "Value": int(prompt.request["PhoneNumber"])},
                ]
            },
        }
        return self._callback(prompt, callback)

    def _callback(self, prompt: Prompt, stk_callback: dict) -> Callback:
        raw = json.dumps({"Body": {"stkCallback": stk_callback}}, indent=2).encode()
        return Callback(prompt.checkout_request_id, raw, prompt.callback_url)

    def deliver(self, callback: Callback, *, url: str | None = None) -> int:
        """POST the callback as M-Pesa does (to the prompt's CallBackURL unless `url`); the HTTP status answered."""
        target = url or callback.url
        if self.webhook is not None:
            return self.webhook(urlsplit(target).path, callback.raw_body)
        headers = {"Content-Type": "application/json"}
        return post(target, callback.raw_body, headers)


def _error(code: str, message: str) -> dict:
    return {
        "requestId": f"{secrets.randbelow(90000) + 10000}-{secrets.randbelow(10**8)}-1",
        "errorCode": code,
        "errorMessage": message,
    }
