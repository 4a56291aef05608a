"""The WhatsApp sandbox simulator: staff play a customer's phone against the real webhook.

A tap on a reply button or a typed text becomes exactly the JSON Meta's Cloud API would POST,
signed with the app secret and sent through `/webhooks/whatsapp` in this process, so the signature
check, the raw store and the processing run as they do in production. The stored event is then
processed at once and the replies delivered, so the simulator answers without a queue worker.
Opening the chats also sends "delivered" and "read" status webhooks for the shop's messages, as a
phone would. Only for WHATSAPP_PROVIDER=sandbox.
"""

import hashlib
import json
import re
import uuid
from dataclasses import dataclass

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import func, select

from checkout import outbox
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.messaging import Contact, Message, OutboxItem, WebhookEvent
from checkout.models.orders import Order
from checkout.models.store import get_store_settings
from checkout.phones import display_phone, whatsapp_digits
from checkout.whatsapp import templates, webhooks

WEBHOOK_PATH = "/webhooks/whatsapp"
PHONE_NUMBER_ID = "SANDBOX"
BUSINESS_ACCOUNT_ID = "SANDBOX"
FALLBACK_BUSINESS_NUMBER = "15550000000"
DEFAULT_CUSTOMER_NAME = "Sandbox customer"
INBOUND_ID_PREFIX = "wamid.SANDBOX-IN-"
CHAT_DIGITS = re.compile(r"[1-9]\d{6,14}")  # the shape of international digits (wa_id)
MAX_STATUSES_PER_POST = 200
MAX_DELIVERY_ROUNDS = 5
PREVIEW_CHARS = 80
QUOTE_CHARS = 60

# What the shop's message shows under it, as WhatsApp shows it to the sender: (symbol, words for people).
DELIVERY_TICKS = {
    "queued": ("🕓", "Waiting to be sent"),
    "sent": ("✓", "Sent"),
    "delivered": ("✓✓", "Delivered"),
    "read": ("✓✓", "Read"),
    "failed": ("!", "Not delivered"),
}
# The statuses a phone reports for a message it has received ("delivered") and shown on screen ("read").
_STATUSES_STILL_TO_REPORT = {
    "delivered": {"sent": ["delivered"]},
    "read": {"sent": ["delivered", "read"], "delivered": ["read"]},
}


class UnknownReply(LookupError):
    """A tap on a button that is not on that message in that chat."""


class WebhookRejected(RuntimeError):
    """Our own webhook endpoint refused the simulated POST (e.g. the app secret is not set)."""


@dataclass(frozen=True)
class ReplyOption:
    """One thing the customer can tap under a message: a template quick reply, a reply button or a list row."""

    index: int
    kind: str  # quick_reply, reply_button, list_row
    reply_id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class Bubble:
    """One message as the customer's phone shows it."""

    message: Message
    text: Markup
    options: tuple[ReplyOption, ...] = ()
    list_label: str = ""  # a list message: the button that opens its rows
    quoted: str = ""  # the start of the message this one replies to
    tick: tuple[str, str] | None = None

    @property
    def from_customer(self) -> bool:
        return self.message.direction == "in"

    @property
    def at(self):
        return self.message.sent_at or self.message.created_at


@dataclass(frozen=True)
class ChatSummary:
    phone: str
    name: str
    last: Message
    preview: str = ""

    @property
    def digits(self) -> str:
        return whatsapp_digits(self.phone)


def is_enabled() -> bool:
    return current_app.config["WHATSAPP_PROVIDER"] == "sandbox"


def phone_from_digits(digits: str) -> str | None:
    """'919876543210' → '+919876543210', or None when it is not shaped like a WhatsApp number."""
    return f"+{digits}" if CHAT_DIGITS.fullmatch(digits or "") else None


# ---------------------------------------------------------------------------------------------------------------
# Reading chats
# ---------------------------------------------------------------------------------------------------------------


def list_chats(limit: int = 200) -> list[ChatSummary]:
    """One chat per number that has messages either way, the most recent activity first."""
    latest = select(func.max(Message.id).label("last_id")).where(Message.phone != "").group_by(Message.phone).subquery()
    last_messages = list(
        db.session.scalars(
            select(Message).join(latest, Message.id == latest.c.last_id).order_by(Message.id.desc()).limit(limit)
        )
    )
    names = customer_names([m.phone for m in last_messages])
    return [ChatSummary(phone=m.phone, name=names[m.phone], last=m, preview=_preview(m)) for m in last_messages]


def customer_names(phones: list[str]) -> dict[str, str]:
    """The name each number goes by: its WhatsApp profile, else the name on its latest order."""
    phones = list(dict.fromkeys(phones))
    names = {phone: "" for phone in phones}
    if not phones:
        return names
    for phone, name in db.session.execute(
        select(Order.customer_phone, Order.customer_name).where(Order.customer_phone.in_(phones)).order_by(Order.id)
    ):
        names[phone] = name
    for phone, name in db.session.execute(select(Contact.phone, Contact.name).where(Contact.phone.in_(phones))):
        names[phone] = name or names[phone]
    staff_numbers = set(get_store_settings().staff_alert_numbers or [])
    for phone in phones:
        if not names[phone]:
            names[phone] = "Shop staff (order alerts)" if phone in staff_numbers else display_phone(phone)
    return names


def conversation(phone: str) -> list[Bubble]:
    """Every message with this number, oldest first, ready to show."""
    messages = list(db.session.scalars(select(Message).where(Message.phone == phone).order_by(Message.id)))
    by_wamid = {m.wamid: m for m in messages if m.wamid}
    return [_bubble(m, by_wamid) for m in messages]


def _bubble(message: Message, by_wamid: dict[str, Message]) -> Bubble:
    replied_to = by_wamid.get(message.context_wamid) if message.context_wamid else None
    if message.direction == "in":
        return Bubble(message, whatsapp_markup(message.body_text), quoted=_shortened(replied_to, QUOTE_CHARS))
    tappable = bool(message.wamid) and message.status != "failed"
    options = tuple(reply_options(message)) if tappable else ()
    tick = DELIVERY_TICKS.get(message.status)
    if message.status == "failed" and message.error_title:
        tick = (tick[0], f"{tick[1]}: {message.error_title}")
    return Bubble(
        message,
        whatsapp_markup(message_text(message)),
        options=options,
        list_label=_list_label(message) if options else "",
        tick=tick,
    )


def conversation_version(bubbles: list[Bubble]) -> str:
    """A fingerprint of a chat as shown; the page polls with it and gets 204 (nothing to swap) while it holds."""
    return _fingerprint([(b.message.id, b.message.status) for b in bubbles])


def chats_version(chats: list[ChatSummary]) -> str:
    return _fingerprint([(c.phone, c.last.id, c.last.status) for c in chats])


def _fingerprint(state: list[tuple]) -> str:
    return hashlib.sha256(repr(state).encode()).hexdigest()[:16]


def message_text(message: Message) -> str:
    """What the message says, without the "[Confirm order] | [Cancel order]" line (the buttons show those)."""
    payload = message.payload or {}
    kind = payload.get("type")
    if message.direction == "out" and kind == "text":
        return (payload.get("text") or {}).get("body", message.body_text)
    if message.direction == "out" and kind == "interactive":
        interactive = payload.get("interactive") or {}
        parts = [
            (interactive.get("header") or {}).get("text", ""),
            (interactive.get("body") or {}).get("text", ""),
            (interactive.get("footer") or {}).get("text", ""),
        ]
        return "\n\n".join(part for part in parts if part) or message.body_text
    if message.direction == "out" and kind == "template":
        return _template_text(payload.get("template") or {}) or message.body_text
    return message.body_text


def _template_text(template_payload: dict) -> str:
    template = templates.TEMPLATES.get(template_payload.get("name", ""))
    if template is None:
        return ""
    body = next((c for c in template_payload.get("components") or [] if c.get("type") == "body"), {})
    parameters = [p.get("text", "") for p in body.get("parameters") or []]
    if len(parameters) < template.parameter_count:
        return ""
    return template.render(parameters)


def reply_options(message: Message) -> list[ReplyOption]:
    """The buttons (or list rows) under one of the shop's messages, in the order they are shown."""
    payload = message.payload or {}
    if payload.get("type") == "template":
        return _quick_replies(payload.get("template") or {})
    if payload.get("type") != "interactive":
        return []
    interactive = payload.get("interactive") or {}
    action = interactive.get("action") or {}
    if interactive.get("type") == "button":
        replies = [(b.get("reply") or {}) for b in action.get("buttons") or []]
        return [
            ReplyOption(index, "reply_button", r.get("id", ""), r.get("title", "")) for index, r in enumerate(replies)
        ]
    if interactive.get("type") == "list":
        rows = [row for section in action.get("sections") or [] for row in section.get("rows") or []]
        return [
            ReplyOption(index, "list_row", row.get("id", ""), row.get("title", ""), row.get("description", ""))
            for index, row in enumerate(rows)
        ]
    return []


def _quick_replies(template_payload: dict) -> list[ReplyOption]:
    template = templates.TEMPLATES.get(template_payload.get("name", ""))
    buttons = [
        c
        for c in template_payload.get("components") or []
        if c.get("type") == "button" and c.get("sub_type") == "quick_reply"
    ]
    options = []
    for index, button in enumerate(sorted(buttons, key=lambda b: int(b.get("index", 0)))):
        reply_id = next(
            (p.get("payload", "") for p in button.get("parameters") or [] if p.get("type") == "payload"), ""
        )
        position = int(button.get("index", index))
        titles = template.quick_replies if template else ()
        title = titles[position] if position < len(titles) else reply_id
        options.append(ReplyOption(index, "quick_reply", reply_id, title))
    return options


def _list_label(message: Message) -> str:
    interactive = (message.payload or {}).get("interactive") or {}
    if interactive.get("type") != "list":
        return ""
    return (interactive.get("action") or {}).get("button", "") or "Choose"


def _shortened(message: Message | None, limit: int) -> str:
    if message is None:
        return ""
    line = " ".join(message_text(message).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _preview(message: Message) -> str:
    who = "Customer" if message.direction == "in" else "Shop"
    return f"{who}: {_shortened(message, PREVIEW_CHARS)}"


# WhatsApp's own formatting, shown as the phone shows it. Links are kept whole: tokens in them contain _ and ~.
_LINK = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")
_STYLES = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "s"),
)


def whatsapp_markup(text: str) -> Markup:
    """Escaped text with *bold*, _italic_, ~strike~ and clickable links; newlines are kept by the stylesheet."""
    parts, start = [], 0
    for match in _LINK.finditer(text or ""):
        parts.append(_styled(text[start : match.start()]))
        parts.append(Markup('<a href="{0}" rel="noopener" target="_blank">{0}</a>').format(match.group(0)))
        start = match.end()
    parts.append(_styled((text or "")[start:]))
    return Markup("").join(parts)


def _styled(segment: str) -> Markup:
    html = str(escape(segment))
    for pattern, tag in _STYLES:
        html = pattern.sub(rf"<{tag}>\1</{tag}>", html)
    return Markup(html)


# ---------------------------------------------------------------------------------------------------------------
# Cloud API payloads
# ---------------------------------------------------------------------------------------------------------------


def _now_timestamp() -> str:
    return str(int(utcnow().timestamp()))


def _business_digits() -> str:
    return get_store_settings().whatsapp_digits or FALLBACK_BUSINESS_NUMBER


def envelope(value: dict) -> dict:
    """Wrap one `value` as Meta posts it: object → entry[] → changes[] (field "messages")."""
    metadata = {"display_phone_number": _business_digits(), "phone_number_id": PHONE_NUMBER_ID}
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": BUSINESS_ACCOUNT_ID,
                "changes": [
                    {"value": {"messaging_product": "whatsapp", "metadata": metadata, **value}, "field": "messages"}
                ],
            }
        ],
    }


def inbound_payload(digits: str, name: str, message: dict) -> dict:
    """A customer's message (`message` holds type and content) as the webhook body Meta sends."""
    message = {
        "from": digits,
        "id": INBOUND_ID_PREFIX + uuid.uuid4().hex.upper(),
        "timestamp": _now_timestamp(),
        **message,
    }
    return envelope({"contacts": [{"profile": {"name": name}, "wa_id": digits}], "messages": [message]})


def text_content(body: str) -> dict:
    return {"type": "text", "text": {"body": body}}


def reply_content(option: ReplyOption, replied_to_wamid: str) -> dict:
    """What tapping `option` sends: a `button` message for a template, `interactive` for buttons and lists."""
    context = {"from": _business_digits(), "id": replied_to_wamid}
    if option.kind == "quick_reply":
        return {"context": context, "type": "button", "button": {"payload": option.reply_id, "text": option.title}}
    if option.kind == "list_row":
        reply = {"id": option.reply_id, "title": option.title}
        if option.description:
            reply["description"] = option.description
        return {"context": context, "type": "interactive", "interactive": {"type": "list_reply", "list_reply": reply}}
    reply = {"id": option.reply_id, "title": option.title}
    return {"context": context, "type": "interactive", "interactive": {"type": "button_reply", "button_reply": reply}}


def status_payload(statuses: list[dict]) -> dict:
    return envelope({"statuses": statuses})


# ---------------------------------------------------------------------------------------------------------------
# What the customer does
# ---------------------------------------------------------------------------------------------------------------


def send_text(phone: str, body: str, name: str = "") -> str:
    """The customer types and sends `body`; returns the inbound wamid."""
    return _from_customer(phone, text_content(body), name)


def tap(phone: str, message_id: int, option_index: int) -> str:
    """The customer taps the `option_index`-th button (or list row) under one of the shop's messages."""
    message = db.session.get(Message, message_id)
    if message is None or message.direction != "out" or message.phone != phone or not message.wamid:
        raise UnknownReply(f"no message {message_id} from the shop in this chat")
    options = reply_options(message) if message.status != "failed" else []
    if not 0 <= option_index < len(options):
        raise UnknownReply(f"message {message_id} has no option {option_index}")
    return _from_customer(phone, reply_content(options[option_index], message.wamid))


def _from_customer(phone: str, content: dict, name: str = "") -> str:
    name = name.strip() or customer_names([phone])[phone]
    if name == display_phone(phone):
        name = DEFAULT_CUSTOMER_NAME
    body = inbound_payload(whatsapp_digits(phone), name, content)
    process_now(post_webhook(body))
    open_chat(phone)
    return body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]


def open_chat(phone: str) -> None:
    """The customer looks at the chat: deliver what is waiting, then report it delivered and read."""
    deliver_queued_messages()
    report_statuses("read", phone)


def open_chat_list() -> None:
    """The phone is on: deliver what is waiting and report the shop's new messages delivered."""
    deliver_queued_messages()
    report_statuses("delivered")


def report_statuses(up_to: str, phone: str | None = None) -> int:
    """Send the status webhooks a phone would for the shop's messages; returns how many statuses."""
    still_to_report = _STATUSES_STILL_TO_REPORT[up_to]
    query = (
        select(Message, OutboxItem.idempotency_key)
        .outerjoin(OutboxItem, OutboxItem.message_id == Message.id)
        .where(Message.direction == "out", Message.wamid.is_not(None), Message.status.in_(list(still_to_report)))
    )
    if phone is not None:
        query = query.where(Message.phone == phone)
    timestamp = _now_timestamp()
    statuses = [
        _status(message, value, timestamp, tracking_key)
        for message, tracking_key in db.session.execute(query.order_by(Message.id).limit(MAX_STATUSES_PER_POST))
        for value in still_to_report[message.status]
    ]
    if statuses:
        process_now(post_webhook(status_payload(statuses)))
    return len(statuses)


def _status(message: Message, value: str, timestamp: str, tracking_key: str | None) -> dict:
    status = {
        "id": message.wamid,
        "status": value,
        "timestamp": timestamp,
        "recipient_id": whatsapp_digits(message.phone),
    }
    if tracking_key:
        status["biz_opaque_callback_data"] = tracking_key  # Meta echoes what the send set (see cloud_api.py)
    return status


# ---------------------------------------------------------------------------------------------------------------
# Through the real endpoint
# ---------------------------------------------------------------------------------------------------------------


def post_webhook(body: dict) -> int:
    """POST `body` to our own webhook endpoint, signed like Meta signs it; returns the stored event's id.

    The request runs inside this app context and so shares its database session: the endpoint's
    commit ends the caller's transaction too. Callers post before changing anything themselves.
    """
    raw = json.dumps(body).encode()  # ASCII-escaped, as Meta sends non-ASCII text
    response = current_app.test_client().post(
        WEBHOOK_PATH,
        data=raw,
        headers={
            "X-Hub-Signature-256": webhooks.sign(raw, current_app.config["WHATSAPP_APP_SECRET"]),
            "Content-Type": "application/json",
        },
    )
    if response.status_code != 200:
        detail = (response.get_json(silent=True) or {}).get("error", {}).get("message", "")
        raise WebhookRejected(f"The webhook endpoint answered {response.status_code} {detail}".strip())
    event_id = db.session.scalar(
        select(WebhookEvent.id).where(WebhookEvent.body == raw.decode()).order_by(WebhookEvent.id.desc()).limit(1)
    )
    if event_id is None:
        raise WebhookRejected("The webhook endpoint answered 200 but stored nothing")
    return event_id


def process_now(event_id: int) -> str:
    """Handle the stored event here and now instead of waiting for a worker (one that is running skips it)."""
    return webhooks.process_event(event_id)


def deliver_queued_messages() -> dict[str, int]:
    """Deliver every WhatsApp message the outbox has due, in this process.

    Like `outbox.run_due`, but WhatsApp only: shop webhooks call the shop's own server, which may be
    slow, and the chat must not wait for it; the worker delivers those.
    """
    outcomes: dict[str, int] = {}
    for _ in range(MAX_DELIVERY_ROUNDS):
        ids = _due_whatsapp_item_ids()
        progressed = False
        for item_id in ids:
            outcome = outbox.deliver(item_id)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            progressed = progressed or outcome != "skipped"
        if not progressed:
            break
    return outcomes


def _due_whatsapp_item_ids(limit: int = 200) -> list[int]:
    now = utcnow()
    ids = list(
        db.session.scalars(
            select(OutboxItem.id)
            .where(
                OutboxItem.kind == "whatsapp",
                OutboxItem.status == "pending",
                OutboxItem.next_attempt_at <= now,
                (OutboxItem.claimed_until.is_(None)) | (OutboxItem.claimed_until <= now),
            )
            .order_by(OutboxItem.id)
            .limit(limit)
        )
    )
    db.session.rollback()
    return ids
