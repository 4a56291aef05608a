"""A fake WhatsApp Cloud API: a real HTTP server on 127.0.0.1 that behaves like Meta's Graph API.

`POST /{version}/{phone_number_id}/messages` checks the bearer token, the phone number id, the recipient
and the payload against Meta's published limits (its own rules, written from FIELD-NOTES, deliberately not
checkout/whatsapp/limits.py, so each can catch the other's mistakes). It records every accepted message
and every request Meta would have rejected (`violations`), and fails on demand the ways Meta and networks
fail: 5xx, throttling, permanent error codes, answers slower than the client waits, and being down.
"""

import email.parser
import email.policy
import hashlib
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

RECIPIENT = re.compile(r"^[1-9]\d{6,14}$")
MESSAGES_PATH = re.compile(r"^/(v\d+\.\d+)/([^/]+)/messages$")
UPLOAD_PATH = re.compile(r"^/(v\d+\.\d+)/([^/]+)/media$")
# What Meta takes as an uploaded document (its supported types) and how large: FIELD-NOTES / Cloud API media docs.
UPLOAD_TYPES = {"application/pdf": 100 * 1024 * 1024, "image/jpeg": 5 * 1024 * 1024, "image/png": 5 * 1024 * 1024}
MEDIA_INFO_PATH = re.compile(r"^/(v\d+\.\d+)/([^/?]+)$")
MEDIA_DOWNLOAD_PATH = re.compile(r"^/whatsapp_business/attachments/\?mid=([^&]+)")
MEDIA_FAILURES = ("server_error", "not_found", "disconnect")
# Meta: "new-line/tab characters or more than 4 consecutive spaces". Every line terminator counts as a new line.
TEMPLATE_PARAMETER_BREAKS = re.compile("[\n\r\t\v\f\u0085\u2028\u2029]| {5}")
# Not Meta's rule but the shop's: names shown to the customer and staff carry no bidi controls (issue 11, item 19).
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")

# Meta's limits, as FIELD-NOTES gives them.
TEXT_BODY = 4096
INTERACTIVE_BODY = 1024
HEADER_OR_FOOTER = 60
REPLY_BUTTONS = 3
REPLY_BUTTON_TITLE = 20
REPLY_BUTTON_ID = 256
LIST_BUTTON = 20
LIST_SECTIONS = 10
LIST_ROWS = 10
ROW_TITLE = 24
ROW_DESCRIPTION = 72
ROW_ID = 200
SECTION_TITLE = 24
TEMPLATE_BODY = 1024
DOCUMENT_CAPTION = 1024

INVALID_PARAMETER = 100
PARAMETER_VALUE_INVALID = 131009
TEMPLATE_PARAMETER_COUNT = 132000
TEMPLATE_MISSING = 132001
TEMPLATE_TEXT_TOO_LONG = 132005
TOKEN_INVALID = 190


# ---------------------------------------------------------------------------------------------------------------
# A threaded HTTP server that can be taken down and brought back on the same port
# ---------------------------------------------------------------------------------------------------------------


class LocalHttpServer:
    """Serve `handle(request_handler)` on 127.0.0.1; `down()` stops listening (connection refused), `up()` resumes."""

    def __init__(self, handle: Callable[[BaseHTTPRequestHandler], None]):
        self._handle = handle
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.stopping = threading.Event()  # set when the server goes away: slow handlers stop waiting

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        if self._server is not None:
            return
        handle = self._handle

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers when we go down

            def do_POST(self):
                handle(self)

            def do_GET(self):
                handle(self)

            def log_message(self, format, *args):
                pass

        self.stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name=f"fake-http-{self.port}"
        )
        self._thread.daemon = True
        self._thread.start()

    def down(self) -> None:
        """Stop listening, keeping the port: clients now get 'connection refused'."""
        if self._server is None:
            return
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = self._thread = None


def respond_json(request: BaseHTTPRequestHandler, status: int, data: dict) -> None:
    """Answer with JSON; a client that already gave up (timeout, killed worker) is not an error here."""
    body = json.dumps(data).encode()
    try:
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)
    except (TimeoutError, BrokenPipeError, ConnectionResetError):
        pass


def read_body(request: BaseHTTPRequestHandler) -> bytes:
    length = int(request.headers.get("Content-Length") or 0)
    return request.rfile.read(length) if length else b""


# ---------------------------------------------------------------------------------------------------------------
# Meta's checks, written independently of checkout/whatsapp/limits.py
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApprovedTemplate:
    """A template as approved in the WhatsApp Business account: its body with {{1}}… and its quick replies."""

    name: str
    body: str
    quick_replies: int = 0
    languages: tuple[str, ...] = ("en",)

    @property
    def parameter_count(self) -> int:
        return len(set(re.findall(r"\{\{(\d+)\}\}", self.body)))


@dataclass(frozen=True)
class Rejection:
    code: int
    details: str


def _string(problems: list[Rejection], label: str, value, maximum: int, *, required: bool = True) -> None:
    if value is None or value == "":
        if required:
            problems.append(Rejection(INVALID_PARAMETER, f"{label} is required"))
        return
    if not isinstance(value, str):
        problems.append(Rejection(INVALID_PARAMETER, f"{label} must be a string"))
    elif len(value) > maximum:
        problems.append(Rejection(PARAMETER_VALUE_INVALID, f"{label} is {len(value)} characters (maximum {maximum})"))


def _text_rejections(body: dict) -> list[Rejection]:
    problems: list[Rejection] = []
    text = body.get("text")
    if not isinstance(text, dict):
        return [Rejection(INVALID_PARAMETER, "text object is required")]
    _string(problems, "text.body", text.get("body"), TEXT_BODY)
    if "preview_url" in text and not isinstance(text["preview_url"], bool):
        problems.append(Rejection(INVALID_PARAMETER, "text.preview_url must be a boolean"))
    return problems


def _document_rejections(body: dict) -> list[Rejection]:
    """FIELD-NOTES: {"type": "document", "document": {"id" | "link", "filename", "caption"}}, caption ≤ 1,024."""
    document = body.get("document")
    if not isinstance(document, dict):
        return [Rejection(INVALID_PARAMETER, "document object is required")]
    problems: list[Rejection] = []
    if ("id" in document) == ("link" in document):
        problems.append(Rejection(INVALID_PARAMETER, "document needs exactly one of id and link"))
    link = document.get("link")
    if link is not None and not (isinstance(link, str) and re.match(r"^https?://[^\s/]+/", link)):
        problems.append(Rejection(INVALID_PARAMETER, f"document.link must be a web address, got {link!r}"))
    _string(problems, "document.caption", document.get("caption"), DOCUMENT_CAPTION, required=False)
    if "filename" in document and not isinstance(document["filename"], str):
        problems.append(Rejection(INVALID_PARAMETER, "document.filename must be a string"))
    return problems


def _interactive_rejections(body: dict) -> list[Rejection]:
    problems: list[Rejection] = []
    interactive = body.get("interactive")
    if not isinstance(interactive, dict):
        return [Rejection(INVALID_PARAMETER, "interactive object is required")]
    _string(problems, "interactive.body.text", (interactive.get("body") or {}).get("text"), INTERACTIVE_BODY)
    header = interactive.get("header")
    if isinstance(header, dict) and header.get("type") == "text":
        _string(problems, "interactive.header.text", header.get("text"), HEADER_OR_FOOTER)
    if "footer" in interactive:
        _string(problems, "interactive.footer.text", (interactive.get("footer") or {}).get("text"), HEADER_OR_FOOTER)
    action = interactive.get("action") or {}
    kind = interactive.get("type")
    if kind == "button":
        problems += _reply_button_rejections(action.get("buttons"))
    elif kind == "list":
        problems += _list_rejections(action)
    elif kind == "cta_url":
        problems += _cta_url_rejections(action)
    else:
        problems.append(Rejection(INVALID_PARAMETER, f"interactive.type {kind!r} is not supported"))
    return problems


def _cta_url_rejections(action: dict) -> list[Rejection]:
    """Meta's call-to-action URL button: action.name "cta_url", parameters.display_text ≤ 20, a web URL."""
    problems: list[Rejection] = []
    if action.get("name") != "cta_url":
        problems.append(Rejection(INVALID_PARAMETER, "interactive.action.name must be cta_url"))
    parameters = action.get("parameters") or {}
    _string(problems, "interactive.action.parameters.display_text", parameters.get("display_text"), 20)
    url = parameters.get("url")
    _string(problems, "interactive.action.parameters.url", url, 2000)
    if isinstance(url, str) and url and urlsplit(url).scheme not in ("http", "https"):
        problems.append(Rejection(INVALID_PARAMETER, "interactive.action.parameters.url must be a web URL"))
    return problems


def _reply_button_rejections(buttons) -> list[Rejection]:
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= REPLY_BUTTONS:
        count = len(buttons) if isinstance(buttons, list) else 0
        return [Rejection(PARAMETER_VALUE_INVALID, f"{count} buttons; between 1 and {REPLY_BUTTONS} are allowed")]
    problems: list[Rejection] = []
    seen_ids = set()
    for position, button in enumerate(buttons):
        if button.get("type") != "reply":
            problems.append(Rejection(INVALID_PARAMETER, f"buttons[{position}].type must be 'reply'"))
        reply = button.get("reply") or {}
        _string(problems, f"buttons[{position}].reply.title", reply.get("title"), REPLY_BUTTON_TITLE)
        _string(problems, f"buttons[{position}].reply.id", reply.get("id"), REPLY_BUTTON_ID)
        if reply.get("id") in seen_ids:
            problems.append(Rejection(PARAMETER_VALUE_INVALID, f"buttons[{position}].reply.id is not unique"))
        seen_ids.add(reply.get("id"))
    return problems


def _list_rejections(action: dict) -> list[Rejection]:
    problems: list[Rejection] = []
    _string(problems, "action.button", action.get("button"), LIST_BUTTON)
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= LIST_SECTIONS:
        return problems + [Rejection(PARAMETER_VALUE_INVALID, f"between 1 and {LIST_SECTIONS} sections are allowed")]
    total_rows = 0
    for number, section in enumerate(sections):
        # A section title is only required when there is more than one section.
        _string(problems, f"sections[{number}].title", section.get("title"), SECTION_TITLE, required=len(sections) > 1)
        rows = section.get("rows") or []
        total_rows += len(rows)
        for row_number, row in enumerate(rows):
            where = f"sections[{number}].rows[{row_number}]"
            _string(problems, f"{where}.id", row.get("id"), ROW_ID)
            _string(problems, f"{where}.title", row.get("title"), ROW_TITLE)
            _string(problems, f"{where}.description", row.get("description"), ROW_DESCRIPTION, required=False)
    if not 1 <= total_rows <= LIST_ROWS:
        problems.append(Rejection(PARAMETER_VALUE_INVALID, f"{total_rows} rows; between 1 and {LIST_ROWS} allowed"))
    return problems


def _template_rejections(body: dict, approved: dict[str, ApprovedTemplate]) -> list[Rejection]:
    template = body.get("template")
    if not isinstance(template, dict):
        return [Rejection(INVALID_PARAMETER, "template object is required")]
    name, language = template.get("name"), (template.get("language") or {}).get("code")
    known = approved.get(name)
    if known is None or language not in known.languages:
        return [Rejection(TEMPLATE_MISSING, f"template name ({name}) does not exist in {language}")]
    problems: list[Rejection] = []
    body_values: list[str] = []
    for component in template.get("components") or []:
        kind = component.get("type")
        if kind == "body":
            for number, parameter in enumerate(component.get("parameters") or [], 1):
                value = parameter.get("text")
                if parameter.get("type") != "text" or not isinstance(value, str) or not value.strip():
                    problems.append(Rejection(INVALID_PARAMETER, f"body parameter {number} needs non-empty text"))
                    continue
                if TEMPLATE_PARAMETER_BREAKS.search(value):
                    problems.append(
                        Rejection(
                            PARAMETER_VALUE_INVALID,
                            f"body parameter {number} contains a new line, a tab or more than 4 consecutive spaces",
                        )
                    )
                if BIDI_CONTROLS.search(value):
                    problems.append(
                        Rejection(PARAMETER_VALUE_INVALID, f"body parameter {number} contains bidi control characters")
                    )
                body_values.append(value)
        elif kind == "button":
            problems += _quick_reply_rejections(component, known)
        else:
            problems.append(Rejection(INVALID_PARAMETER, f"component type {kind!r} is not used by {name}"))
    if len(body_values) != known.parameter_count and not any(p.code == INVALID_PARAMETER for p in problems):
        problems.append(
            Rejection(
                TEMPLATE_PARAMETER_COUNT,
                f"{name} expects {known.parameter_count} body parameters, {len(body_values)} given",
            )
        )
    elif len(body_values) == known.parameter_count:
        rendered = re.sub(r"\{\{(\d+)\}\}", lambda m: body_values[int(m.group(1)) - 1], known.body)
        if len(rendered) > TEMPLATE_BODY:
            problems.append(Rejection(TEMPLATE_TEXT_TOO_LONG, f"body is {len(rendered)} characters with parameters"))
    return problems


def _quick_reply_rejections(component: dict, template: ApprovedTemplate) -> list[Rejection]:
    index = component.get("index")
    where = f"button component {index!r}"
    if component.get("sub_type") != "quick_reply":
        return [Rejection(INVALID_PARAMETER, f"{where}: sub_type must be quick_reply")]
    if not (isinstance(index, str) and index.isdigit() and int(index) < template.quick_replies):
        return [Rejection(INVALID_PARAMETER, f"{where}: {template.name} has {template.quick_replies} quick replies")]
    parameters = component.get("parameters") or []
    if len(parameters) != 1 or parameters[0].get("type") != "payload" or not parameters[0].get("payload"):
        return [Rejection(INVALID_PARAMETER, f"{where}: needs exactly one non-empty payload parameter")]
    return []


def meta_rejections(body: dict, approved: dict[str, ApprovedTemplate]) -> list[Rejection]:
    """Everything Meta would object to in a send request's JSON body; an empty list means it would be accepted."""
    if body.get("messaging_product") != "whatsapp":
        return [Rejection(INVALID_PARAMETER, "messaging_product must be 'whatsapp'")]
    to = body.get("to")
    if not isinstance(to, str) or not RECIPIENT.match(to):
        return [Rejection(INVALID_PARAMETER, f"'to' must be international digits only, got {to!r}")]
    if body.get("recipient_type", "individual") != "individual":
        return [Rejection(INVALID_PARAMETER, "recipient_type must be 'individual'")]
    kind = body.get("type", "text")
    if kind == "text":
        return _text_rejections(body)
    if kind == "interactive":
        return _interactive_rejections(body)
    if kind == "template":
        return _template_rejections(body, approved)
    if kind == "document":
        return _document_rejections(body)
    return [Rejection(INVALID_PARAMETER, f"message type {kind!r} is not supported by this fake")]


# ---------------------------------------------------------------------------------------------------------------
# The fake API
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMessage:
    """A message Meta accepted (HTTP 200 with a wamid)."""

    to: str
    body: dict
    wamid: str
    received_at: datetime
    monotonic: float  # time.monotonic() on acceptance, comparable with the test's own clock

    @property
    def type(self) -> str:
        return self.body.get("type", "text")

    @property
    def tracking(self) -> str:
        """biz_opaque_callback_data: the outbox idempotency key the client sent along."""
        return self.body.get("biz_opaque_callback_data", "")


@dataclass(frozen=True)
class Violation:
    """A request Meta would have refused because the client got something wrong."""

    path: str
    status: int
    code: int
    details: str
    body: dict | None


@dataclass
class HostedMedia:
    """A file a customer sent, as Meta holds it: what GET /{media-id} reports and what its URL serves."""

    data: bytes
    mime_type: str
    sha256: str  # what Meta reports; a test may make it disagree with the data
    file_size: int


@dataclass
class UploadedMedia:
    """A file the shop uploaded (POST /{phone-number-id}/media), to be sent by its id."""

    data: bytes
    mime_type: str
    filename: str


@dataclass
class _MediaFailure:
    kind: str
    stage: str  # "info" (GET /{media-id}) or "download" (GET its URL)
    remaining: int


@dataclass
class _Failure:
    kind: str
    remaining: int
    when: Callable[[dict], bool] | None
    delay: float
    accepted: bool


# kind → (HTTP status, Meta code, message, details)
ERRORS = {
    "server_error": (500, 131000, "Something went wrong", "Message failed to send because of an unknown error."),
    "throttled": (429, 130429, "Rate limit hit", "Cloud API message throughput has been reached."),
    "pair_rate_limit": (
        400,
        131056,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Too many messages sent from this phone number to the same phone number in a short period of time.",
    ),
    "outside_window": (
        400,
        131047,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied.",
    ),
    "undeliverable": (400, 131026, "Message undeliverable", "Unable to deliver message."),
    "template_missing": (
        400,
        132001,
        "Template name does not exist in the translation",
        "template name does not exist in the translation",
    ),
}
# Errors about the whole account: while one is switched on (`refuse_account`), Meta refuses every send.
ACCOUNT_ERRORS = {
    "token_expired": (
        401,
        TOKEN_INVALID,
        "Error validating access token: Session has expired",
        "The access token has expired.",
    ),
    "permission_denied": (403, 10, "Application does not have permission for this action", "Permission denied."),
    "account_locked": (400, 131031, "Business Account locked", "The WhatsApp Business Account has been locked."),
    "account_ineligible": (
        400,
        131042,
        "Business eligibility payment issue",
        "There was an error related to your payment method.",
    ),
    "policy_block": (400, 368, "Temporarily blocked for policies violations", "The account is temporarily blocked."),
}
ERRORS.update(ACCOUNT_ERRORS)
FAILURE_KINDS = (*ERRORS, "timeout", "disconnect")
ERROR_TITLES = {
    INVALID_PARAMETER: "Invalid parameter",
    PARAMETER_VALUE_INVALID: "Parameter value is not valid",
    TEMPLATE_PARAMETER_COUNT: "Number of parameters does not match the expected number of params",
    TEMPLATE_MISSING: "Template name does not exist in the translation",
    TEMPLATE_TEXT_TOO_LONG: "Template text too long",
    TOKEN_INVALID: "Invalid OAuth access token",
}


class FakeGraphApi:
    """Meta's Graph API for one phone number id and one access token, with failures programmable per test."""

    def __init__(self, *, access_token: str, phone_number_id: str, templates: list[ApprovedTemplate] = ()):
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.templates = {t.name: t for t in templates}
        self.messages: list[ReceivedMessage] = []
        self.requests: list[dict] = []  # every well-formed send attempt that reached us, accepted or not
        self.violations: list[Violation] = []
        self.slow = 0.0  # seconds every accepted send waits before Meta answers
        # Meta's pair rate limit: a send to a number sooner than this after the last message it accepted for that
        # number is refused with 131056 (0: no limit). Each refusal is counted in `pair_rate_refusals`.
        self.pair_interval = 0.0
        self.pair_rate_refusals: list[dict] = []
        self.violations_expected = False  # set by a test that sends bad payloads on purpose
        self.account_error: str | None = None  # a key of ACCOUNT_ERRORS while the account is refused
        self._failures: list[_Failure] = []
        self.media: dict[str, HostedMedia] = {}
        self.media_requests: list[str] = []  # the paths of every media GET that reached us
        self._media_failures: list[_MediaFailure] = []
        self.uploads: dict[str, UploadedMedia] = {}  # by the media id we answered
        self.upload_failures = 0  # the next this many uploads answer 500
        self._lock = threading.Condition()
        self._wamids = itertools.count(1)
        self._server = LocalHttpServer(self._handle)

    # -- control ------------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> None:
        self._server.up()

    def stop(self) -> None:
        self._server.down()

    def down(self) -> None:
        """Stop listening: every send now fails with 'connection refused' until `up()`."""
        self._server.down()

    def up(self) -> None:
        self._server.up()

    def fail_next(
        self,
        kind: str,
        times: int = 1,
        *,
        when: Callable[[dict], bool] | None = None,
        delay: float = 1.5,
        accepted: bool = False,
    ) -> None:
        """The next `times` sends (matching `when`, if given) fail as `kind`.

        kind: server_error (500), throttled (429, 130429), pair_rate_limit (400, 131056), outside_window
        (131047), undeliverable (131026), template_missing (132001); timeout: no answer for `delay` seconds;
        disconnect: the connection closes without an answer. With `accepted`, Meta took the message anyway
        (it is recorded at once, before the silence: a lost answer hiding a successful send); otherwise it is
        dropped.
        """
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure {kind!r}; choose from {FAILURE_KINDS}")
        with self._lock:
            self._failures.append(_Failure(kind, times, when, delay, accepted))

    def host_media(
        self, media_id: str, data: bytes, mime_type: str, *, sha256: str | None = None, file_size: int | None = None
    ) -> None:
        """Hold a customer's file under `media_id`; `sha256` / `file_size` override what Meta reports about it."""
        with self._lock:
            self.media[media_id] = HostedMedia(
                data,
                mime_type,
                sha256 if sha256 is not None else hashlib.sha256(data).hexdigest(),
                file_size if file_size is not None else len(data),
            )

    def fail_media_next(self, kind: str, times: int = 1, *, stage: str = "info") -> None:
        """The next `times` media requests at `stage` ("info" or "download") fail: server_error (500),
        not_found (404, the id is unknown) or disconnect (closed without an answer)."""
        if kind not in MEDIA_FAILURES or stage not in ("info", "download"):
            raise ValueError(f"unknown media failure {kind!r} at {stage!r}")
        with self._lock:
            self._media_failures.append(_MediaFailure(kind, stage, times))

    def refuse_account(self, kind: str | None) -> None:
        """From now on refuse every send with the account error `kind` (token_expired, account_locked…); None: stop."""
        if kind is not None and kind not in ACCOUNT_ERRORS:
            raise ValueError(f"unknown account error {kind!r}; choose from {tuple(ACCOUNT_ERRORS)}")
        with self._lock:
            self.account_error = kind

    def messages_to(self, digits: str) -> list[ReceivedMessage]:
        with self._lock:
            return [m for m in self.messages if m.to == digits]

    def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Block until at least `count` messages were accepted; return them all (fewer if the time ran out)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.messages) < count and (left := deadline - time.monotonic()) > 0:
                self._lock.wait(left)
            return list(self.messages)

    # -- serving ------------------------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        if request.command == "GET":
            return self._handle_media(request)
        raw = read_body(request)
        if UPLOAD_PATH.match(request.path):
            return self._handle_upload(request, raw)
        match = MESSAGES_PATH.match(request.path)
        if request.command != "POST" or match is None:
            return self._reject(request, 400, Rejection(INVALID_PARAMETER, "Unsupported request"), None)
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return self._reject(request, 401, Rejection(TOKEN_INVALID, "Invalid OAuth access token"), None)
        if match.group(2) != self.phone_number_id:
            problem = Rejection(INVALID_PARAMETER, f"Object with ID '{match.group(2)}' does not exist")
            return self._reject(request, 400, problem, None)
        try:
            body = json.loads(raw)
        except ValueError:
            return self._reject(request, 400, Rejection(INVALID_PARAMETER, "body is not JSON"), None)
        if not isinstance(body, dict):
            return self._reject(request, 400, Rejection(INVALID_PARAMETER, "body is not an object"), None)
        problems = meta_rejections(body, self.templates) + self._unknown_upload(body)
        if problems:
            return self._reject(request, 400, Rejection(problems[0].code, "; ".join(p.details for p in problems)), body)
        with self._lock:
            self.requests.append({"body": body, "at": time.monotonic()})
            account_error = self.account_error
            failure = None if account_error else self._take_failure(body)
            too_soon = not account_error and failure is None and self._too_soon_for_pair(body)
        if account_error:
            status, code, message, details = ACCOUNT_ERRORS[account_error]
            return respond_json(request, status, _error(code, message, details))
        if too_soon:
            status, code, message, details = ERRORS["pair_rate_limit"]
            return respond_json(request, status, _error(code, message, details))
        if failure is None:
            self._pause(self.slow)
            return respond_json(request, 200, self._accept(body))
        if failure.kind == "timeout":
            answer = self._accept(body) if failure.accepted else None
            self._pause(failure.delay)
            if answer is not None:
                respond_json(request, 200, answer)  # long after the client stopped waiting
            return None  # dropped: the connection closes without an answer
        if failure.kind == "disconnect":
            if failure.accepted:
                self._accept(body)
            return None  # the connection closes at once, before any answer
        status, code, message, details = ERRORS[failure.kind]
        return respond_json(request, status, _error(code, message, details))

    def _unknown_upload(self, body: dict) -> list[Rejection]:
        """A document sent by id must name a file uploaded here (a customer's media id is not the shop's to send)."""
        part = body.get(body.get("type")) if body.get("type") == "document" else None
        if not isinstance(part, dict) or "id" not in part:
            return []
        with self._lock:
            known = part["id"] in self.uploads
        return [] if known else [Rejection(INVALID_PARAMETER, f"media id {part['id']!r} was not uploaded")]

    def _handle_upload(self, request: BaseHTTPRequestHandler, raw: bytes) -> None:
        """POST /{version}/{phone-number-id}/media, multipart: messaging_product=whatsapp, type, file → {"id"}."""
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return self._reject(request, 401, Rejection(TOKEN_INVALID, "Invalid OAuth access token"), None)
        if UPLOAD_PATH.match(request.path).group(2) != self.phone_number_id:
            return self._reject(request, 400, Rejection(INVALID_PARAMETER, "Unknown phone number id"), None)
        with self._lock:
            failing = self.upload_failures > 0
            self.upload_failures -= 1 if failing else 0
        if failing:
            status, code, message, details = ERRORS["server_error"]
            return respond_json(request, status, _error(code, message, details))
        fields, files = _multipart(request.headers.get("Content-Type", ""), raw)
        problems = []
        if fields.get("messaging_product") != "whatsapp":
            problems.append("messaging_product must be whatsapp")
        if "file" not in files:
            problems.append("a file part is required")
        else:
            filename, mime_type, data = files["file"]
            limit = UPLOAD_TYPES.get(mime_type)
            if limit is None or fields.get("type") != mime_type:
                problems.append(f"unsupported or mismatched type {mime_type!r} / {fields.get('type')!r}")
            elif not data or len(data) > limit:
                problems.append(f"file of {len(data)} bytes is empty or over {limit}")
        if problems:
            return self._reject(request, 400, Rejection(INVALID_PARAMETER, "; ".join(problems)), None)
        media_id = str(10**15 + next(self._wamids))
        with self._lock:
            self.uploads[media_id] = UploadedMedia(data, mime_type, filename)
        return respond_json(request, 200, {"id": media_id})

    def _handle_media(self, request: BaseHTTPRequestHandler) -> None:
        """GET /{version}/{media-id} → {url, mime_type, sha256, file_size, id}; GET that url → the bytes."""
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return self._reject(request, 401, Rejection(TOKEN_INVALID, "Invalid OAuth access token"), None)
        download = MEDIA_DOWNLOAD_PATH.match(request.path)
        info = None if download else MEDIA_INFO_PATH.match(request.path)
        if download is None and info is None:
            return self._reject(request, 400, Rejection(INVALID_PARAMETER, "Unsupported request"), None)
        media_id = download.group(1) if download else info.group(2)
        with self._lock:
            self.media_requests.append(request.path)
            hosted = self.media.get(media_id)
            failure = self._take_media_failure("download" if download else "info")
        if failure == "disconnect":
            return None
        if failure == "server_error":
            return respond_json(request, 500, _error(131000, "Something went wrong", "Media download failed."))
        if hosted is None or failure == "not_found":
            return respond_json(request, 404, _error(INVALID_PARAMETER, "Invalid parameter", "Unknown media id."))
        if info is not None:
            return respond_json(
                request,
                200,
                {
                    "messaging_product": "whatsapp",
                    "url": f"{self.url}/whatsapp_business/attachments/?mid={media_id}&ext=1&hash=x",
                    "mime_type": hosted.mime_type,
                    "sha256": hosted.sha256,
                    "file_size": hosted.file_size,
                    "id": media_id,
                },
            )
        try:
            request.send_response(200)
            request.send_header("Content-Type", hosted.mime_type)
            request.send_header("Content-Length", str(len(hosted.data)))
            request.end_headers()
            request.wfile.write(hosted.data)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            pass
        return None

    def _take_media_failure(self, stage: str) -> str | None:
        for failure in self._media_failures:
            if failure.remaining > 0 and failure.stage == stage:
                failure.remaining -= 1
                return failure.kind
        return None

    def _take_failure(self, body: dict) -> _Failure | None:
        for failure in self._failures:
            if failure.remaining > 0 and (failure.when is None or failure.when(body)):
                failure.remaining -= 1
                return failure
        return None

    def _too_soon_for_pair(self, body: dict) -> bool:
        """Called with the lock held: would Meta refuse this send with 131056 (pair rate limit)?"""
        if self.pair_interval <= 0:
            return False
        now = time.monotonic()
        previous = [m.monotonic for m in self.messages if m.to == body["to"]]
        if previous and now - max(previous) < self.pair_interval:
            self.pair_rate_refusals.append({"to": body["to"], "at": now})
            return True
        return False

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._server.stopping.wait(seconds)

    def _accept(self, body: dict) -> dict:
        wamid = f"wamid.FAKE{next(self._wamids):04d}{secrets.token_hex(8).upper()}"
        received = ReceivedMessage(body["to"], body, wamid, datetime.now(UTC), time.monotonic())
        with self._lock:
            self.messages.append(received)
            self._lock.notify_all()
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": body["to"]}],
            "messages": [{"id": wamid}],
        }

    def _reject(self, request, status: int, problem: Rejection, body: dict | None) -> None:
        with self._lock:
            self.violations.append(Violation(request.path, status, problem.code, problem.details, body))
        respond_json(
            request, status, _error(problem.code, ERROR_TITLES.get(problem.code, "Invalid parameter"), problem.details)
        )


def _multipart(content_type: str, raw: bytes) -> tuple[dict[str, str], dict[str, tuple[str, str, bytes]]]:
    """A multipart/form-data body as (fields, files: name → (filename, type, bytes)); empty when it is not one."""
    if not content_type.startswith("multipart/form-data"):
        return {}, {}
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields, files = {}, {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files[name] = (part.get_filename(), part.get_content_type(), data)
        else:
            fields[name] = data.decode()
    return fields, files


def _error(code: int, message: str, details: str) -> dict:
    return {
        "error": {
            "message": f"(#{code}) {message}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "A" + secrets.token_urlsafe(16),
        }
    }


def received_in_order(messages: list[ReceivedMessage]) -> dict[str, list[ReceivedMessage]]:
    """The accepted messages grouped by recipient, each group in the order Meta received them."""
    grouped: dict[str, list[ReceivedMessage]] = {}
    for message in sorted(messages, key=lambda m: m.monotonic):
        grouped.setdefault(message.to, []).append(message)
    return grouped
