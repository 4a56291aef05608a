"""The sandbox simulator's screens: chats and message bubbles as the customer's phone shows them.

Presentation only: what a message says and which buttons it carries come from checkout.whatsapp.sandbox;
here they become bubbles with WhatsApp's own formatting, ticks and quotes, and the fingerprints the
pages poll with.
"""

import hashlib
import re
from dataclasses import dataclass

from flask import url_for
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from checkout.extensions import db
from checkout.models.messaging import Message
from checkout.money import to_minor
from checkout.phones import whatsapp_digits
from checkout.whatsapp.media import MEDIA_TYPES
from checkout.whatsapp.media_store import SANDBOX_MEDIA_PREFIX
from checkout.whatsapp.sandbox import ReplyOption, catalog_items, customer_names, message_text, reply_options

PREVIEW_CHARS = 80
QUOTE_CHARS = 60
MAP_ZOOM = 17

# What the shop's message shows under it, as WhatsApp shows it to the sender: (symbol, words for people).
DELIVERY_TICKS = {
    "queued": ("🕓", "Waiting to be sent"),
    "sent": ("✓", "Sent"),
    "delivered": ("✓✓", "Delivered"),
    "read": ("✓✓", "Read"),
    "failed": ("!", "Not delivered"),
}


@dataclass(frozen=True)
class ListSection:
    """One section of a list message: its title and its rows."""

    title: str
    options: tuple[ReplyOption, ...]


@dataclass(frozen=True)
class Place:
    """A shared location as the phone shows it: the place, its coordinates and a link to a map."""

    name: str
    address: str
    latitude: float
    longitude: float

    @property
    def map_url(self) -> str:
        lat, lon = self.latitude, self.longitude
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map={MAP_ZOOM}/{lat}/{lon}"


@dataclass(frozen=True)
class CartLine:
    """One product of a cart sent from the catalog."""

    sku: str
    name: str
    quantity: int
    item_price_minor: int | None
    currency: str


@dataclass(frozen=True)
class Bubble:
    """One message as the customer's phone shows it."""

    message: Message
    text: Markup
    options: tuple[ReplyOption, ...] = ()
    list_label: str = ""  # a list message: the button that opens its rows
    sections: tuple[ListSection, ...] = ()  # a list message: its rows by section
    place: Place | None = None  # a location message
    cart: tuple[CartLine, ...] = ()  # an order message: the cart sent from the catalog
    has_media: bool = False  # a customer's picture, document or voice note (templates/admin/_message_media.html)
    picture_url: str = ""  # a picture the shop sent by link
    document: tuple[str, str] | None = None  # a document the shop sent by link: (file name, address)
    call_to_action: tuple[str, str] | None = None  # a call-to-action button (a payment link): (label, address)
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


def conversation(phone: str) -> list[Bubble]:
    """Every message with this number, oldest first, ready to show."""
    messages = list(
        db.session.scalars(
            select(Message).where(Message.phone == phone).options(selectinload(Message.media)).order_by(Message.id)
        )
    )
    by_wamid = {m.wamid: m for m in messages if m.wamid}
    names = _catalog_names() if any(m.kind == "order" for m in messages) else {}
    return [_bubble(m, by_wamid, names) for m in messages]


def _bubble(message: Message, by_wamid: dict[str, Message], catalog_names: dict[str, str]) -> Bubble:
    replied_to = by_wamid.get(message.context_wamid) if message.context_wamid else None
    payload = message.payload or {}
    place = _place(payload.get("location")) if message.kind == "location" else None
    if message.direction == "in":
        cart = _cart(payload.get("order") or {}, catalog_names) if message.kind == "order" else ()
        text = _own_text(message, payload, bool(place or cart))
        return Bubble(
            message,
            whatsapp_markup(text),
            quoted=_shortened(replied_to, QUOTE_CHARS),
            place=place,
            cart=cart,
            has_media=message.kind in MEDIA_TYPES,
        )
    tappable = bool(message.wamid) and message.status != "failed"
    options = tuple(reply_options(message)) if tappable else ()
    tick = DELIVERY_TICKS.get(message.status)
    if message.status == "failed" and message.error_title:
        tick = (tick[0], f"{tick[1]}: {message.error_title}")
    list_label = _list_label(message) if options else ""
    picture = (payload.get("image") or {}) if message.kind == "image" else {}
    document = (payload.get("document") or {}) if message.kind == "document" else {}
    return Bubble(
        message,
        whatsapp_markup(_shop_text(message, picture, place)),
        options=options,
        list_label=list_label,
        sections=_sections(options) if list_label else (),
        place=place,
        picture_url=str(picture.get("link") or ""),
        document=_document(message, document) if document else None,
        call_to_action=_call_to_action(payload),
        tick=tick,
    )


def _document(message: Message, document: dict) -> tuple[str, str]:
    """(file name, where to open it): its link, or the sandbox's copy of what the shop uploaded ("" until sent)."""
    name = str(document.get("filename") or "Document")
    if document.get("link"):
        return name, str(document["link"])
    if str(document.get("id") or "").startswith(SANDBOX_MEDIA_PREFIX):
        return name, url_for("sandbox.sent_document", message_id=message.id)
    return name, ""


def _call_to_action(payload: dict) -> tuple[str, str] | None:
    """An interactive cta_url message's button, as (label, address): the sandbox shows it as the link it opens."""
    interactive = payload.get("interactive") or {}
    if interactive.get("type") != "cta_url":
        return None
    parameters = (interactive.get("action") or {}).get("parameters") or {}
    if not parameters.get("url"):
        return None
    return str(parameters.get("display_text") or "Open"), str(parameters["url"])


def _shop_text(message: Message, picture: dict, place: Place | None) -> str:
    """What the shop's bubble says in words: a picture's caption, nothing for a pin (shown as such)."""
    if picture:
        return str(picture.get("caption") or "")
    return "" if place else message_text(message)


def _own_text(message: Message, payload: dict, shown_otherwise: bool) -> str:
    """What a customer's bubble says in words: a picture's caption, nothing for a cart or a pin (shown as such)."""
    if message.kind in MEDIA_TYPES:
        return str((payload.get(message.kind) or {}).get("caption") or "")
    return "" if shown_otherwise else message.body_text


def _sections(options: tuple[ReplyOption, ...]) -> tuple[ListSection, ...]:
    sections: list[ListSection] = []
    for option in options:
        if sections and sections[-1].title == option.section:
            sections[-1] = ListSection(option.section, (*sections[-1].options, option))
        else:
            sections.append(ListSection(option.section, (option,)))
    return tuple(sections)


def _place(location) -> Place | None:
    if not isinstance(location, dict):
        return None
    try:
        latitude, longitude = float(location.get("latitude")), float(location.get("longitude"))
    except (TypeError, ValueError):
        return None
    return Place(str(location.get("name") or ""), str(location.get("address") or ""), latitude, longitude)


def _catalog_names() -> dict[str, str]:
    return {item.sku: item.name for item in catalog_items(limit=None)}


def _cart(order: dict, catalog_names: dict[str, str]) -> tuple[CartLine, ...]:
    lines = []
    for item in order.get("product_items") or []:
        if not isinstance(item, dict):
            continue
        sku, currency = str(item.get("product_retailer_id") or ""), str(item.get("currency") or "")
        try:
            price_minor = to_minor(str(item.get("item_price")), currency) if currency else None
        except ValueError:
            price_minor = None
        quantity = int(item["quantity"]) if str(item.get("quantity") or "").isdigit() else 0
        lines.append(CartLine(sku, catalog_names.get(sku, "Not in the catalog"), quantity, price_minor, currency))
    return tuple(lines)


def conversation_version(bubbles: list[Bubble]) -> str:
    """A fingerprint of a chat as shown; the page polls with it and gets 204 (nothing to swap) while it holds."""
    return _fingerprint([(b.message.id, b.message.status) for b in bubbles])


def chats_version(chats: list[ChatSummary]) -> str:
    return _fingerprint([(c.phone, c.last.id, c.last.status) for c in chats])


def _fingerprint(state: list[tuple]) -> str:
    return hashlib.sha256(repr(state).encode()).hexdigest()[:16]


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
