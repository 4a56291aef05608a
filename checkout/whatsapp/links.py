"""The click-to-chat handoff: the order summary text and the links that prefill it in WhatsApp; and the
link to the order's status page that messages carry.

One builder makes the summary, so the shopper, the shop and (later) the message templates all see
the same words. Links carry the text percent-encoded as UTF-8 with nothing left unescaped: a raw
`&` would cut the text, `#` would become a fragment, `+` would turn into a space.
"""

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

import qrcode
import qrcode.image.svg

from checkout.models.orders import Order
from checkout.models.store import PAYMENT_METHOD_LABELS, StoreSettings
from checkout.money import format_money
from checkout.whatsapp.wording import order_message_values, render_message_text

# No documented limit exists for ?text=, but very long first messages break in real clients and
# in QR codes. The summary stays within this many characters by summarising the tail of the cart.
MAX_SUMMARY_CHARS = 1500

# Above this many URL characters a QR code on a screen gets too dense for a phone camera (a 3-item
# cart is already ~700); the QR code then points at our own short redirect to the same wa.me link.
MAX_QR_LINK_CHARS = 300

# The shop's greeting opens the message; a very long one would crowd out the order itself.
GREETING_MAX = 200


def build_order_summary(order: Order, settings: StoreSettings, status_url: str) -> str:
    """The structured WhatsApp text for an order, never longer than MAX_SUMMARY_CHARS."""

    def money(amount_minor: int) -> str:
        return format_money(amount_minor, order.currency, settings.locale)

    greeting = render_message_text(
        "handoff_greeting", settings, **order_message_values(order, settings, status_url=status_url)
    )
    head = [_first_words(greeting, GREETING_MAX), "", f"*Order {order.reference}*"]
    item_lines = [
        f"{line.quantity} × {line.product_name}"
        + (f" ({line.options_label})" if line.options_label else "")
        + f" — {money(line.line_total_minor)}"
        for line in order.lines
    ]
    delivery_fee = money(order.delivery_fee_minor) if order.delivery_fee_minor else "Free"
    tail = ["", f"Subtotal: {money(order.subtotal_minor)}"]
    if order.coupon_code:
        tail.append(discount_line(order, money))
    tail += [f"Delivery: {delivery_fee}", f"*Total: {money(order.total_minor)}*", ""]
    if order.fulfilment == "delivery":
        tail.append(f"Deliver to: {order.delivery_address}")
    else:
        tail.append("Pickup" + (f" at {settings.pickup_address}" if settings.pickup_address else ""))
    tail.append(f"Payment: {PAYMENT_METHOD_LABELS.get(order.payment_method, order.payment_method)}")
    tail.append(f"Name: {order.customer_name}")
    note_index = len(tail)
    if order.note:
        tail.append(f"Note: {order.note}")
    tail += ["", f"Order status: {status_url}"]

    # The text around the items, plus the newline that joins the items to it.
    fixed_chars = len("\n".join(head + tail)) + 1
    # The longest name, address and note together can crowd out even the "…and N more" line:
    # then the note (kept whole on the status page) is the one thing shortened.
    overflow = fixed_chars + len(_more_items_line(len(item_lines), status_url)) - MAX_SUMMARY_CHARS
    if overflow > 0 and order.note:
        tail[note_index] = tail[note_index][: -(overflow + 1)] + "…"
        fixed_chars -= overflow
    shown = _fit_items(item_lines, fixed_chars=fixed_chars, status_url=status_url)
    return "\n".join(head + shown + tail)


def discount_line(order: Order, money) -> str:
    """The discount code's line in a message: what it took off the items, or the delivery fee it waived."""
    if order.delivery_discount_minor:
        return f"Free delivery ({order.coupon_code}): −{money(order.delivery_discount_minor)}"
    return f"Discount ({order.coupon_code}): −{money(order.discount_minor)}"


def _first_words(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _fit_items(item_lines: list[str], fixed_chars: int, status_url: str) -> list[str]:
    """As many whole item lines as fit, then one line that says how many more there are."""
    if fixed_chars + len("\n".join(item_lines)) <= MAX_SUMMARY_CHARS:
        return item_lines
    shown: list[str] = []
    for index, line in enumerate(item_lines):
        remaining = len(item_lines) - index - 1
        more = _more_items_line(remaining, status_url) if remaining else ""
        candidate = shown + [line] + ([more] if more else [])
        if fixed_chars + len("\n".join(candidate)) > MAX_SUMMARY_CHARS:
            break
        shown.append(line)
    return shown + [_more_items_line(len(item_lines) - len(shown), status_url)]


def _more_items_line(count: int, status_url: str) -> str:
    noun = "item" if count == 1 else "items"
    return f"…and {count} more {noun}, see {status_url}"


@dataclass(frozen=True)
class HandoffLinks:
    app: str  # wa.me: opens the app on phones, the desktop app or WhatsApp Web on computers
    web: str  # straight to WhatsApp Web in the browser
    api: str  # api.whatsapp.com/send: same as wa.me, reported to keep emoji intact on desktop


def qr_link(links: HandoffLinks, short_link: str) -> str:
    """What the desktop QR code encodes: the wa.me link itself, or our short redirect to it if too long."""
    return links.app if len(links.app) <= MAX_QR_LINK_CHARS else short_link


def encode_text(text: str) -> str:
    return quote(text, safe="")


def handoff_links(phone_digits: str, text: str) -> HandoffLinks:
    encoded = encode_text(text)
    return HandoffLinks(
        app=f"https://wa.me/{phone_digits}?text={encoded}",
        web=f"https://web.whatsapp.com/send?phone={phone_digits}&text={encoded}",
        api=f"https://api.whatsapp.com/send?phone={phone_digits}&text={encoded}",
    )


def order_question_text(order: Order) -> str:
    """The first words of a shopper's question about an order, so the shop knows which one it is about."""
    return f"About my order {order.reference}"


def return_request_text(order: Order) -> str:
    """The status page's "Return / problem" link's words: the chat starts the return for this order."""
    return f"Return / problem with my order {order.reference}"


@lru_cache(maxsize=512)
def qr_svg(data: str) -> str:
    """An inline SVG QR code (no Pillow needed), cached by content: the same link is drawn once."""
    image = qrcode.make(
        data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=4
    )  # 4 modules of quiet zone, as the standard asks
    return image.to_string(encoding="unicode")
