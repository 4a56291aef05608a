"""How the inbox shows one message: what the customer sent (text, a tapped button, a list choice, a place, a
file) or what the shop sent (its text, with WhatsApp's delivery ticks). Presentation only.
"""

from dataclasses import dataclass

from markupsafe import Markup

from admin.sandbox_chats import whatsapp_markup
from checkout.models.messaging import Message
from checkout.staff.conversation import DELIVERY_STATES, DeliveryState, purpose_label
from checkout.whatsapp.sandbox import message_text

MEDIA_KINDS = {"image": "Photo", "document": "Document", "audio": "Voice note", "video": "Video", "sticker": "Sticker"}


@dataclass(frozen=True)
class ChatLine:
    message: Message
    text: Markup
    label: str  # "Tapped", "Chose from the list", "Location", "Photo"…; "" for plain text
    map_url: str  # a location's link to a map
    is_media: bool
    purpose: str  # outbound: why the shop sent it
    delivery: DeliveryState | None
    error: str

    @property
    def from_customer(self) -> bool:
        return self.message.direction == "in"


def chat_lines(messages: list[Message]) -> list[ChatLine]:
    return [_inbound(m) if m.direction == "in" else _outbound(m) for m in messages]


def _inbound(message: Message) -> ChatLine:
    payload = message.payload or {}
    kind = message.kind
    label, text, map_url = "", message.body_text, ""
    if kind == "button":
        label = "Tapped"
    elif kind == "interactive":
        interactive = payload.get("interactive") or {}
        label = "Chose from the list" if "list_reply" in interactive else "Tapped"
    elif kind == "location":
        place = payload.get("location") or {}
        label = "Location"
        text = ", ".join(str(part) for part in (place.get("name"), place.get("address")) if part) or "A shared place"
        latitude, longitude = place.get("latitude"), place.get("longitude")
        if isinstance(latitude, int | float) and isinstance(longitude, int | float):
            map_url = f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}#map=17/{latitude}/{longitude}"
    elif kind in MEDIA_KINDS:
        label = MEDIA_KINDS[kind]
        text = str((payload.get(kind) or {}).get("caption") or "")
    elif kind == "order":
        items = (payload.get("order") or {}).get("product_items") or []
        label, text = "Sent a cart", f"{len(items)} item{'s' if len(items) != 1 else ''} from the WhatsApp catalog"
    elif kind == "reaction":
        label = "Reacted"
    elif kind != "text":
        label = kind.replace("_", " ").capitalize()
        text = "" if text == f"[{kind}]" else text
    return ChatLine(message, whatsapp_markup(text), label, map_url, kind in MEDIA_KINDS, "", None, "")


def _outbound(message: Message) -> ChatLine:
    error = ""
    if message.status == "failed":
        title = message.error_title or "Not delivered"
        error = f"{message.error_code}: {title}" if message.error_code is not None else title
    return ChatLine(
        message,
        whatsapp_markup(message_text(message)),
        "Template" if message.kind == "template" else "",
        "",
        False,
        purpose_label(message.purpose),
        DELIVERY_STATES.get(message.status),
        error,
    )
