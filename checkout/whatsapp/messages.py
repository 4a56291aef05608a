"""Every WhatsApp message Chatout sends, built from the order in one place.

Each builder returns an OutboundMessage: the Cloud API payload (without the recipient, which the
outbox adds), the readable text shown in timelines and the simulator, and its purpose. Inside the
customer's 24-hour window a free-form text or interactive message is sent; outside it, the
approved template with the same meaning.
"""

from dataclasses import dataclass
from datetime import datetime

from checkout.models.orders import Order
from checkout.models.store import StoreSettings
from checkout.money import format_money
from checkout.orders.lifecycle import OrderStatus
from checkout.store_settings import order_message_values, render_message_text
from checkout.whatsapp import templates
from checkout.whatsapp.limits import check_payload, template_parameter

CONFIRM_PREFIX = "confirm:"
CANCEL_PREFIX = "cancel:"
STATUS_TEXT_KEYS = {
    OrderStatus.CONFIRMED: "confirmed",
    OrderStatus.PREPARING: "preparing",
    OrderStatus.SHIPPED: "shipped",
    OrderStatus.OUT_FOR_DELIVERY: "out_for_delivery",
    OrderStatus.READY_FOR_PICKUP: "ready_for_pickup",
    OrderStatus.DELIVERED: "delivered",
    OrderStatus.CANCELLED: "cancelled",
}
FEEDBACK_REQUEST = "How was everything? Reply with a rating from 1 (poor) to 5 (great) — it helps us a lot."


@dataclass(frozen=True)
class OutboundMessage:
    purpose: str
    payload: dict
    body_text: str

    @property
    def kind(self) -> str:
        return self.payload["type"]


def _checked(message: OutboundMessage) -> OutboundMessage:
    check_payload(message.payload)
    return message


def text_message(purpose: str, text: str) -> OutboundMessage:
    return _checked(OutboundMessage(purpose, {"type": "text", "text": {"body": text, "preview_url": True}}, text))


def _template_message(
    purpose: str,
    template: templates.MessageTemplate,
    values: list[str],
    language: str,
    button_payloads: tuple[str, ...] = (),
) -> OutboundMessage:
    parameters = [template_parameter(v) for v in values]
    components = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}]
    for index, payload in enumerate(button_payloads):
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": payload}],
            }
        )
    payload = {
        "type": "template",
        "template": {"name": template.name, "language": {"code": language}, "components": components},
    }
    text = template.render(parameters)
    if template.quick_replies:
        text += "\n" + " | ".join(f"[{title}]" for title in template.quick_replies)
    return _checked(OutboundMessage(purpose, payload, text))


def _buttons_message(purpose: str, body: str, buttons: list[tuple[str, str]]) -> OutboundMessage:
    payload = {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {"buttons": [{"type": "reply", "reply": {"id": i, "title": t}} for i, t in buttons]},
        },
    }
    return _checked(OutboundMessage(purpose, payload, body + "\n" + " | ".join(f"[{t}]" for _, t in buttons)))


def _decision_buttons(order: Order) -> list[tuple[str, str]]:
    return [(CONFIRM_PREFIX + order.reference, "Confirm order"), (CANCEL_PREFIX + order.reference, "Cancel order")]


def confirmation_request(order: Order, settings: StoreSettings, *, in_window: bool, language: str) -> OutboundMessage:
    """Ask the customer to confirm a new order (COD confirmation), with Confirm / Cancel buttons."""
    total = format_money(order.total_minor, order.currency, settings.locale)
    if in_window:
        body = (
            f"Thank you, {order.customer_name}! We have your order *{order.reference}* ({total}). "
            "Please confirm it so we can prepare it, or cancel it if you changed your mind."
        )
        return _buttons_message("order_confirmation", body, _decision_buttons(order))
    values = [order.customer_name, order.reference, settings.name, total]
    payloads = tuple(b[0] for b in _decision_buttons(order))
    return _template_message("order_confirmation", templates.ORDER_CONFIRMATION, values, language, payloads)


def confirmation_reminder(
    order: Order, settings: StoreSettings, *, hold_until: datetime, in_window: bool, language: str
) -> OutboundMessage:
    until = hold_until.strftime("%d %b %H:%M UTC")
    if in_window:
        body = (
            f"Hi {order.customer_name}, your order *{order.reference}* is still waiting for your confirmation. "
            f"We hold the items until {until}."
        )
        return _buttons_message("order_confirmation_reminder", body, _decision_buttons(order))
    values = [order.customer_name, order.reference, settings.name, until]
    payloads = tuple(b[0] for b in _decision_buttons(order))
    return _template_message(
        "order_confirmation_reminder", templates.ORDER_CONFIRMATION_REMINDER, values, language, payloads
    )


def status_update(
    order: Order,
    settings: StoreSettings,
    *,
    status_url: str,
    reason: str = "",
    in_window: bool,
    language: str,
    key: str | None = None,
) -> OutboundMessage:
    """The shop's message for the order's new status (or `key`, e.g. payment_received)."""
    key = key or STATUS_TEXT_KEYS[OrderStatus(order.status)]
    values = order_message_values(order, settings, status_url=status_url, reason=reason)
    text = render_message_text(key, settings, **values)
    if key == "delivered":
        text += "\n\n" + FEEDBACK_REQUEST
    if in_window:
        return text_message(f"status:{key}", text)
    summary = OrderStatus(order.status).label if key in STATUS_TEXT_KEYS.values() else "payment received"
    if key == "cancelled" and reason:
        summary += f" ({reason})"
    if key == "shipped" and order.tracking_number:
        summary += f" with {order.carrier or 'the courier'}, tracking number {order.tracking_number}"
    values = [order.reference, settings.name, summary, status_url]
    return _template_message(f"status:{key}", templates.ORDER_UPDATE, values, language)


def staff_update_template(
    order: Order, settings: StoreSettings, text: str, *, status_url: str, language: str
) -> OutboundMessage:
    """A staff member's words outside the 24-hour window: carried in the approved order_update template."""
    values = [order.reference, settings.name, text, status_url]
    return _template_message("staff_message", templates.ORDER_UPDATE, values, language)


def orders_overview(orders: list[Order], settings: StoreSettings, status_urls: dict[int, str]) -> OutboundMessage:
    """The answer to "where is my order": the latest status, items and link of each recent order."""
    if not orders:
        return text_message(
            "reply:status",
            f"We couldn't find a recent order from this number at {settings.name}. "
            "If you ordered with another number, send us your order reference (like ABCD-2345).",
        )
    blocks = []
    for order in orders:
        items = ", ".join(
            f"{line.quantity} × {line.product_name}" + (f" ({line.options_label})" if line.options_label else "")
            for line in order.lines[:5]
        )
        if len(order.lines) > 5:
            items += f" and {len(order.lines) - 5} more"
        blocks.append(
            f"*{order.reference}* — {OrderStatus(order.status).label}\n{items}\n"
            f"Total {format_money(order.total_minor, order.currency, settings.locale)} · {status_urls[order.id]}"
        )
    return text_message("reply:status", "Your orders at " + settings.name + ":\n\n" + "\n\n".join(blocks))


def already_decided(order: Order, status_url: str) -> OutboundMessage:
    """A late or repeated Confirm/Cancel tap: say where the order stands, politely."""
    label = OrderStatus(order.status).label.lower()
    return text_message(
        "reply:already",
        f"Your order {order.reference} is already {label}, so nothing changed. Follow it here: {status_url}",
    )


def number_mismatch() -> OutboundMessage:
    return text_message(
        "reply:mismatch",
        "Thanks! This order was placed with a different WhatsApp number, so the shop will check it and get back "
        "to you here.",
    )


def staff_alert(
    order: Order, settings: StoreSettings, *, admin_url: str, in_window: bool, language: str
) -> OutboundMessage:
    total = format_money(order.total_minor, order.currency, settings.locale)
    if in_window:
        return text_message(
            "staff_alert",
            f"New order *{order.reference}* from {order.customer_name} ({order.customer_phone}), total {total}.\n"
            f"{admin_url}",
        )
    values = [order.reference, order.customer_name, total, admin_url]
    return _template_message("staff_alert", templates.NEW_ORDER_ALERT, values, language)


def decision_from_reply(reply_id: str) -> tuple[str, str] | None:
    """'confirm:ABCD-2345' → ('confirm', 'ABCD-2345'); anything else → None."""
    for action, prefix in (("confirm", CONFIRM_PREFIX), ("cancel", CANCEL_PREFIX)):
        if reply_id.startswith(prefix):
            return action, reply_id[len(prefix) :].strip().upper()
    return None
