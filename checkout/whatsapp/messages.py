"""Every WhatsApp message Chatout sends, built from the order in one place.

Each builder returns an OutboundMessage: the Cloud API payload (without the recipient, which the
outbox adds), the readable text shown in timelines and the simulator, and its purpose. Inside the
customer's 24-hour window a free-form text or interactive message is sent; outside it, the
approved template with the same meaning.
"""

from dataclasses import dataclass
from datetime import datetime

from checkout.dates import format_day, format_moment
from checkout.models.carts import Cart
from checkout.models.conversations import Conversation
from checkout.models.orders import Order
from checkout.models.store import StoreSettings
from checkout.money import format_money
from checkout.orders.lifecycle import OrderStatus
from checkout.unicode_safety import strip_bidi_controls
from checkout.whatsapp import templates
from checkout.whatsapp.consent import CART_RECOVERY, REMINDER
from checkout.whatsapp.limits import check_payload, fit_template_parameters, template_parameter
from checkout.whatsapp.wording import order_message_values, render_message_text, total_with_code

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
MONEY_TEXT_KEYS = frozenset({"payment_received", "delivered", "cancelled"})  # these say where the money stands
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
    # A long cancel reason or shop name must not make Meta refuse the whole message (132005): it is shortened.
    parameters = fit_template_parameters(template, [template_parameter(v) for v in values])
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


def template_message(
    purpose: str, template: templates.MessageTemplate, values: list[str], language: str
) -> OutboundMessage:
    """An approved template without quick replies, its values made safe and fitted (for builders elsewhere)."""
    return _template_message(purpose, template, values, language)


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
    total = total_with_code(order, settings)
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
    order: Order, settings: StoreSettings, *, hold_until: datetime, handoff_url: str, language: str
) -> OutboundMessage:
    """The one reminder of an order the customer has not sent from WhatsApp yet, with the link that reopens it.

    Always the approved utility template, window or not: it is sent only with the customer's consent.
    """
    until = format_moment(hold_until, settings.zone_name, settings.locale)
    values = [order.customer_name, order.reference, settings.name, until, handoff_url]
    payloads = tuple(b[0] for b in _decision_buttons(order))
    return _template_message(REMINDER, templates.ORDER_CONFIRMATION_REMINDER, values, language, payloads)


def cart_recovery(cart: Cart, settings: StoreSettings, *, cart_url: str, language: str) -> OutboundMessage:
    """The one message about a cart left at checkout: the marketing template, sent only with consent."""
    names = [line.variant.product.name for line in cart.lines]
    items = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"
    values = [cart.customer_name or "there", items, settings.name, cart_url]
    return _template_message(CART_RECOVERY, templates.CART_REMINDER, values, language)


def opt_out_confirmation(settings: StoreSettings) -> OutboundMessage:
    """The one answer to "STOP": free-form, since the customer has just written."""
    return text_message(
        "reply:opt_out",
        f"Done: {settings.name} will send you no more reminders on WhatsApp. Your orders are not changed, and "
        "we will still tell you about an order you place. Write to us here any time.",
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
    payment_amount_minor: int | None = None,
) -> OutboundMessage:
    """The shop's message for the order's new status (or `key`, e.g. payment_received).

    Messages about money say where it stands: a payment names its amount and what is still due, a delivery
    says it is paid, a cancellation what happens to the money paid. `payment_amount_minor` is the payment a
    payment_received message is about (the latest one when not given).
    """
    key = key or STATUS_TEXT_KEYS[OrderStatus(order.status)]
    if key == "payment_received" and payment_amount_minor is None:
        payment_amount_minor = next((p.amount_minor for p in reversed(order.payments) if p.kind == "payment"), 0)
    values = order_message_values(
        order, settings, status_url=status_url, reason=reason, payment_amount_minor=payment_amount_minor or 0
    )
    text = render_message_text(key, settings, **values)
    if key == "delivered":
        text += "\n\n" + FEEDBACK_REQUEST
    if in_window:
        return text_message(f"status:{key}", text)
    summary = OrderStatus(order.status).label if key in STATUS_TEXT_KEYS.values() else "payment received"
    if key == "payment_received" and values["payment_amount"]:
        summary = f"payment of {values['payment_amount']} received"
    if key == "cancelled" and reason:
        summary += f" ({reason})"
    if key == "shipped" and order.tracking_number:
        summary += f" with {order.carrier or 'the courier'}, tracking number {order.tracking_number}"
    if key in ("confirmed", "shipped") and order.expected_delivery_date:
        summary += f", expected {format_day(order.expected_delivery_date, settings.locale)}"
    if key in ("shipped", "out_for_delivery"):
        summary += _doorstep_summary(values)
    if key in MONEY_TEXT_KEYS:
        summary += _money_summary(values)
    values = [order.reference, settings.name, summary, status_url]
    return _template_message(f"status:{key}", templates.ORDER_UPDATE, values, language)


def refund_issued(
    order: Order,
    settings: StoreSettings,
    *,
    status_url: str,
    refund_amount_minor: int,
    refund_timing: str,
    in_window: bool,
    language: str,
) -> OutboundMessage:
    """Money given back: the amount and when to expect it (the shop's text inside the window, else the
    order_update template with the same facts)."""
    values = order_message_values(
        order, settings, status_url=status_url, refund_amount_minor=refund_amount_minor, refund_timing=refund_timing
    )
    if in_window:
        return text_message("status:refund_issued", render_message_text("refund_issued", settings, **values))
    summary = f"refund of {values['refund_amount']} issued"
    if refund_timing:
        summary += f"; expect it within {refund_timing}"
    parameters = [order.reference, settings.name, summary, status_url]
    return _template_message("status:refund_issued", templates.ORDER_UPDATE, parameters, language)


def _doorstep_summary(values: dict) -> str:
    """The delivery window and agent in a template's one-line summary (the approved template keeps its four
    parameters: a new one would mean submitting it to Meta again)."""
    text = f", arriving {values['delivery_window']}" if values["delivery_window"] else ""
    agent = " ".join(part for part in (values["agent_name"], values["agent_phone"]) if part)
    return text + (f", delivered by {agent}" if agent else "")


def _money_summary(values: dict) -> str:
    """The money part of a template's one-line summary, from the same values the shop's text uses."""
    if values["refunded"]:
        return f"; {values['refunded']} refunded to you"
    if values["amount_held"]:
        return f"; we hold the {values['amount_held']} you paid and will contact you about returning it"
    if values["balance_due"]:
        return f"; {values['balance_due']} still to pay"
    if values["paid_in_full"]:
        return "; paid in full"
    return ""


STAFF_UPDATE_WORDS = 2  # the staff member's words are the order_update template's third parameter


def staff_update_values(order: Order, settings: StoreSettings, text: str, *, status_url: str) -> list[str]:
    return [order.reference, settings.name, text, status_url]


def staff_update_template(
    order: Order, settings: StoreSettings, text: str, *, status_url: str, language: str
) -> OutboundMessage:
    """A staff member's words outside the 24-hour window: carried in the approved order_update template."""
    values = staff_update_values(order, settings, text, status_url=status_url)
    return _template_message("staff_message", templates.ORDER_UPDATE, values, language)


COURIER_LINE_MAX = 300  # one courier line per order: three orders stay far inside a text's 4,096 characters


def orders_overview(
    orders: list[Order],
    settings: StoreSettings,
    status_urls: dict[int, str],
    courier_lines: dict[int, str] | None = None,
) -> OutboundMessage:
    """The answer to "where is my order": the latest status, items and link of each recent order, and for a
    shipped one the courier's latest event and its tracking link."""
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
            + _courier_line(order, (courier_lines or {}).get(order.id, ""))
        )
    return text_message("reply:status", "Your orders at " + settings.name + ":\n\n" + "\n\n".join(blocks))


def _courier_line(order: Order, latest: str) -> str:
    """ "\nCourier: Out for delivery · Delhivery · … · track: <link>", or "" when there is neither."""
    if not latest and not order.tracking_url:
        return ""
    track = f"track: {order.tracking_url}" if order.tracking_url else ""
    line = " · ".join(filter(None, [latest[:COURIER_LINE_MAX], track]))
    return "\nCourier: " + line


def already_decided(order: Order, status_url: str) -> OutboundMessage:
    """A late or repeated Confirm/Cancel tap: say where the order stands, politely."""
    label = OrderStatus(order.status).label.lower()
    return text_message(
        "reply:already",
        f"Your order {order.reference} is already {label}, so nothing changed. Follow it here: {status_url}",
    )


def reference_not_matched(reference: str) -> OutboundMessage:
    """The answer to a reference that is not an order of this number: the same whether it exists or not."""
    return text_message(
        "reply:reference",
        f"Thanks! We couldn't find order {reference} for this WhatsApp number. If you ordered with another number, "
        "please write to us from that number; otherwise the shop will get back to you here.",
    )


def staff_alert(
    order: Order, settings: StoreSettings, *, admin_url: str, in_window: bool, language: str
) -> OutboundMessage:
    total = total_with_code(order, settings)
    if in_window:
        return text_message(
            "staff_alert",
            # Names are cleaned when stored; older rows may still carry bidi controls.
            f"New order *{order.reference}* from {strip_bidi_controls(order.customer_name)} "
            f"({order.customer_phone}), total {total}.\n"
            f"{admin_url}",
        )
    values = [order.reference, order.customer_name, total, admin_url]
    return _template_message("staff_alert", templates.NEW_ORDER_ALERT, values, language)


def waiting_for_person_alert(
    conversation: Conversation, reason: str, *, inbox_url: str, in_window: bool, language: str
) -> OutboundMessage:
    """To staff: a customer's chat waits for a person (and why), with the link to the conversation."""
    who = strip_bidi_controls(conversation.name or "A customer")
    number = conversation.phone or "WhatsApp user"
    if in_window:
        return text_message(
            "staff_alert:waiting", f"{who} ({number}) is waiting for a person on WhatsApp: {reason}.\n{inbox_url}"
        )
    values = [who, number, reason, inbox_url]
    return _template_message("staff_alert:waiting", templates.CHAT_WAITING_ALERT, values, language)


def sending_paused_alert(
    settings: StoreSettings, *, started_at: datetime, error: str, reason: str, in_window: bool, language: str
) -> OutboundMessage:
    """To staff: WhatsApp refused the shop's account and sending paused (it arrives once sending resumes)."""
    at = format_moment(started_at, settings.zone_name, settings.locale)
    if in_window:
        return text_message(
            "staff_alert:sending_paused",
            f"WhatsApp sending for {settings.name} paused at {at} because WhatsApp refused the account "
            f"({error}): {reason}. No message was lost: they waited and go out once the account works again.",
        )
    values = [settings.name, at, f"{error} — {reason}"]
    return _template_message("staff_alert:sending_paused", templates.SENDING_PAUSED_ALERT, values, language)


def decision_from_reply(reply_id: str) -> tuple[str, str] | None:
    """'confirm:ABCD-2345' → ('confirm', 'ABCD-2345'); anything else → None."""
    for action, prefix in (("confirm", CONFIRM_PREFIX), ("cancel", CANCEL_PREFIX)):
        if reply_id.startswith(prefix):
            return action, reply_id[len(prefix) :].strip().upper()
    return None
