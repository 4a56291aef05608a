"""The WhatsApp sandbox simulator: staff play a customer's phone against the real webhook.

A tap on a reply button or a typed text becomes exactly the JSON Meta's Cloud API would POST,
signed with the app secret and sent through `/webhooks/whatsapp` in this process, so the signature
check, the raw store and the processing run as they do in production. The stored event is then
processed at once and the replies delivered, so the simulator answers without a queue worker.
Opening the chats also sends "delivered" and "read" status webhooks for the shop's messages, as a
phone would. Besides text and taps the customer can send a cart from the shop's catalog (an `order`
message, by SKU), a location and a picture (stored at once, with no Graph API to fetch it from).
Only for WHATSAPP_PROVIDER=sandbox.
"""

import json
import mimetypes
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from checkout import outbox
from checkout.database import utcnow
from checkout.extensions import db
from checkout.models.catalog import Product, ProductStatus, Variant
from checkout.models.messaging import Contact, Message, OutboxItem, WebhookEvent
from checkout.models.orders import Order
from checkout.models.store import get_store_settings
from checkout.money import from_minor
from checkout.phones import display_phone, whatsapp_digits
from checkout.whatsapp import media, media_store, templates, webhooks

WEBHOOK_PATH = "/webhooks/whatsapp"
PHONE_NUMBER_ID = "SANDBOX"
BUSINESS_ACCOUNT_ID = "SANDBOX"
FALLBACK_BUSINESS_NUMBER = "15550000000"
DEFAULT_CUSTOMER_NAME = "Sandbox customer"
INBOUND_ID_PREFIX = "wamid.SANDBOX-IN-"
CATALOG_ID = "SANDBOX-CATALOG"
CART_PICKER_ITEMS = 50  # the catalog items the "Send a cart" control offers
MAX_CART_QUANTITY = 99
LOCATION_TEXT_MAX = 200
CAPTION_MAX = 1024
CHAT_DIGITS = re.compile(r"[1-9]\d{6,14}")  # the shape of international digits (wa_id)
MAX_STATUSES_PER_POST = 200
MAX_DELIVERY_ROUNDS = 5
DELIVERY_BATCH = 200

# The statuses a phone reports for a message it has received ("delivered") and shown on screen ("read").
_STATUSES_STILL_TO_REPORT = {
    "delivered": {"sent": ["delivered"]},
    "read": {"sent": ["delivered", "read"], "delivered": ["read"]},
}


class UnknownReply(LookupError):
    """A tap on a button that is not on that message in that chat."""


class CartRefused(ValueError):
    """A cart the simulated catalog cannot send: empty, an unknown SKU, or an impossible quantity."""


class LocationRefused(ValueError):
    """Coordinates no place on Earth has."""


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
    section: str = ""  # a list row: the title of its section ("" when the list has a single untitled one)


@dataclass(frozen=True)
class CatalogItem:
    """One SKU of the shop as the WhatsApp catalog lists it."""

    variant_id: int
    sku: str
    name: str
    price_minor: int
    currency: str


def is_enabled() -> bool:
    return current_app.config["WHATSAPP_PROVIDER"] == "sandbox"


def phone_from_digits(digits: str) -> str | None:
    """'919876543210' → '+919876543210', or None when it is not shaped like a WhatsApp number."""
    return f"+{digits}" if CHAT_DIGITS.fullmatch(digits or "") else None


# ---------------------------------------------------------------------------------------------------------------
# Reading chats
# ---------------------------------------------------------------------------------------------------------------


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
    if message.direction == "out" and kind == "document":
        return (payload.get("document") or {}).get("caption") or message.body_text
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
        rows = [
            (section.get("title", ""), row)
            for section in action.get("sections") or []
            for row in section.get("rows") or []
        ]
        return [
            ReplyOption(index, "list_row", row.get("id", ""), row.get("title", ""), row.get("description", ""), title)
            for index, (title, row) in enumerate(rows)
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


def order_content(items: list[tuple[CatalogItem, int]], text: str = "") -> dict:
    """A cart sent from the shop's WhatsApp catalog: an `order` message, one product item per SKU."""
    return {
        "type": "order",
        "order": {
            "catalog_id": CATALOG_ID,
            "product_items": [
                {
                    "product_retailer_id": item.sku,
                    "quantity": quantity,
                    "item_price": _catalog_price(item.price_minor, item.currency),
                    "currency": item.currency,
                }
                for item, quantity in items
            ],
            "text": text,
        },
    }


def _catalog_price(price_minor: int, currency: str) -> int | float:
    """Meta sends a catalog price as a JSON number in the currency's main unit (120 or 120.5)."""
    amount = from_minor(price_minor, currency)
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def location_content(latitude: float, longitude: float, name: str = "", address: str = "") -> dict:
    location = {"latitude": latitude, "longitude": longitude}
    if name:
        location["name"] = name
    if address:
        location["address"] = address
    return {"type": "location", "location": location}


def image_content(media_id: str, mime_type: str, caption: str = "") -> dict:
    image = {"id": media_id, "mime_type": mime_type, "sha256": media_id.removeprefix(media.SANDBOX_MEDIA_PREFIX)}
    if caption:
        image["caption"] = caption
    return {"type": "image", "image": image}


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


def catalog_items(limit: int | None = CART_PICKER_ITEMS) -> list[CatalogItem]:
    """The SKUs the shop's catalog offers in the simulator: active products, in catalog order."""
    currency = get_store_settings().currency
    rows = db.session.execute(
        select(Variant.id, Variant.sku, Product.name, Variant.options, Variant.price_minor)
        .join(Product, Variant.product_id == Product.id)
        .where(Product.status == ProductStatus.ACTIVE)
        .order_by(Product.name, Variant.position, Variant.id)
        .limit(limit)
    )
    return [
        CatalogItem(variant_id, sku, _item_name(name, options), price_minor, currency)
        for variant_id, sku, name, options, price_minor in rows
    ]


def _item_name(product_name: str, options: dict) -> str:
    label = ", ".join(f"{key} {value}" for key, value in (options or {}).items())
    return f"{product_name} ({label})" if label else product_name


def send_cart(phone: str, quantities: dict[str, int], text: str = "") -> str:
    """The customer sends a cart from the shop's catalog: {SKU: quantity}; returns the inbound wamid."""
    by_sku = {item.sku: item for item in catalog_items(limit=None)}
    unknown = sorted(sku for sku in quantities if sku not in by_sku)
    if unknown:
        raise CartRefused(f"Not in the catalog: {', '.join(unknown)}")
    items = [(by_sku[sku], quantity) for sku, quantity in quantities.items() if quantity]
    if not items:
        raise CartRefused("Choose a quantity for at least one product.")
    if any(not 0 < quantity <= MAX_CART_QUANTITY for _item, quantity in items):
        raise CartRefused(f"Quantities go from 1 to {MAX_CART_QUANTITY}.")
    return _from_customer(phone, order_content(items, text))


def send_location(phone: str, latitude: float, longitude: float, name: str = "", address: str = "") -> str:
    """The customer shares a location (a pin, optionally a named place)."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise LocationRefused("Latitude goes from -90 to 90 and longitude from -180 to 180.")
    name, address = name.strip()[:LOCATION_TEXT_MAX], address.strip()[:LOCATION_TEXT_MAX]
    return _from_customer(phone, location_content(latitude, longitude, name, address))


def send_image(phone: str, data: bytes, mime_type: str, caption: str = "") -> str:
    """The customer sends a picture: stored here first, so its webhook finds it (media.UploadRefused if not)."""
    media_id = media.keep_upload(data, mime_type)
    return _from_customer(phone, image_content(media_id, media.base_type(mime_type), caption.strip()[:CAPTION_MAX]))


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
    """Deliver every WhatsApp message the outbox has due, in this process, through the outbox's own delivery.

    WhatsApp only: shop webhooks call the shop's own server, which may be slow, and the chat must not wait
    for it; the worker delivers those.
    """
    return outbox.run_due(max_rounds=MAX_DELIVERY_ROUNDS, kind="whatsapp", batch=DELIVERY_BATCH)


def sent_document(message_id: int) -> tuple[Path, str, str] | None:
    """(file, type, name) of a document the shop sent by upload to a sandbox chat, or None."""
    message = db.session.get(Message, message_id)
    if message is None or message.direction != "out" or message.kind != "document":
        return None
    document = (message.payload or {}).get("document") or {}
    media_id, filename = str(document.get("id") or ""), str(document.get("filename") or "document")
    mime_type = mimetypes.guess_type(filename)[0] or ""
    if not media_id.startswith(media_store.SANDBOX_MEDIA_PREFIX) or mime_type not in media_store.EXTENSIONS:
        return None
    path = media_store.kept_file(media_id.removeprefix(media_store.SANDBOX_MEDIA_PREFIX), mime_type)
    return (path, mime_type, filename) if path is not None else None
