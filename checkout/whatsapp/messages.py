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
from checkout.models.returns import ReturnRequest
from checkout.models.store import StoreSettings
from checkout.money import format_money
from checkout.orders.lifecycle import OrderStatus
from checkout.unicode_safety import strip_bidi_controls
from checkout.whatsapp import templates
from checkout.whatsapp.consent import CART_RECOVERY, REMINDER
from checkout.whatsapp.limits import INTERACTIVE_BODY_MAX, check_payload, fit_template_parameters, template_parameter
from checkout.whatsapp.wording import order_message_values, render_message_text, total_with_code

CONFIRM_PREFIX = "confirm:"
CANCEL_PREFIX = "cancel:"
RETURN_PREFIX = "return:"  # the delivered message's "Return / problem" button (checkout/whatsapp/return_chat.py)
RETURN_BUTTON_TITLE = "Return / problem"
RETURN_WORDS = "Something wrong? Tap “Return / problem” (or reply “problem” or “return”)."
RETURN_WORDS_TYPED = "Something wrong with your order? Reply “problem” or “return”."
# The customer's choices after a failed delivery (checkout/whatsapp/delivery_choices.py answers them).
AGAIN_PREFIX, ADDRESS_PREFIX, SEND_BACK_PREFIX, DAY_PREFIX = "dx-again:", "dx-address:", "dx-return:", "dx-day:"
DELIVERY_CHOICES = (
    (AGAIN_PREFIX, "again", "Deliver again"),
    (ADDRESS_PREFIX, "address", "Change address"),
    (SEND_BACK_PREFIX, "return", "Cancel and return"),
)
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
    returns_open = key == "delivered" and (settings.return_window_days or 0) > 0
    if in_window and returns_open:
        return _delivered_with_return_button(order, text)
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
    if returns_open:
        summary += "; something wrong? reply “problem”"
    values = [order.reference, settings.name, summary, status_url]
    return _template_message(f"status:{key}", templates.ORDER_UPDATE, values, language)


def _delivered_with_return_button(order: Order, text: str) -> OutboundMessage:
    """The delivered message with a "Return / problem" reply button; the words to reply instead when the shop's
    text is too long for an interactive message's body."""
    with_words = f"{text}\n\n{RETURN_WORDS}"
    if len(with_words) > INTERACTIVE_BODY_MAX:
        return text_message("status:delivered", f"{text}\n\n{RETURN_WORDS_TYPED}")
    return _buttons_message("status:delivered", with_words, [(RETURN_PREFIX + order.reference, RETURN_BUTTON_TITLE)])


def return_update(
    request: ReturnRequest, settings: StoreSettings, *, status_url: str, in_window: bool, language: str
) -> OutboundMessage:
    """Where the customer's return stands (approved and how to send it back, rejected and why, received): the
    words inside the 24-hour window, else the order_update template carrying them."""
    words = return_words(request)
    if in_window:
        return text_message(f"return_update:{request.status}", words)
    values = [request.order.reference, settings.name, words, status_url]
    return _template_message(f"return_update:{request.status}", templates.ORDER_UPDATE, values, language)


def return_words(request: ReturnRequest) -> str:
    reference = request.order.reference
    if request.status == "approved":
        return f"Your return for order {reference} is approved. {request.staff_note}"
    if request.status == "rejected":
        return f"Sorry, we can't accept the return for order {reference}: {request.staff_note}"
    return f"We have received the items you returned for order {reference}. Thank you!"


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


# ---------------------------------------------------------------------------------------------------------------
# A failed delivery and what follows it
# ---------------------------------------------------------------------------------------------------------------


def _delivery_choice_buttons(order: Order) -> list[tuple[str, str]]:
    return [(prefix + order.reference, title) for prefix, _, title in DELIVERY_CHOICES]


def delivery_failed_choices(
    order: Order, settings: StoreSettings, *, reason: str, in_window: bool, language: str, lead: str = ""
) -> OutboundMessage:
    """The parcel did not arrive: why, and three buttons — deliver again, change address, cancel and return.

    Inside the window reply buttons; outside it the delivery_failed template, whose quick replies carry the same
    ids. `lead` comes first (a refused address: the customer chooses again).
    """
    why = lead or reason or "nobody could take the parcel"
    if in_window:
        opening = (
            f"{lead}\n\n" if lead else ""
        ) + f"Hi {strip_bidi_controls(order.customer_name)}, about your order {order.reference} from {settings.name}"
        body = opening + ("" if lead else f": we could not deliver it ({why})") + ".\n\nWhat should we do next?"
        return _buttons_message("status:delivery_failed", body, _delivery_choice_buttons(order))
    values = [order.customer_name, order.reference, settings.name, why.rstrip(".")]
    payloads = tuple(b[0] for b in _delivery_choice_buttons(order))
    return _template_message("status:delivery_failed", templates.DELIVERY_FAILED, values, language, payloads)


def delivery_choice_from_reply(reply_id: str) -> tuple[str, str, str] | None:
    """'dx-again:ABCD-2345' → ('again', 'ABCD-2345', ''); 'dx-day:ABCD-2345:2026-12-05' → ('day', …, '2026-12-05')."""
    for prefix, action, _ in DELIVERY_CHOICES:
        if reply_id.startswith(prefix):
            return action, reply_id[len(prefix) :].strip().upper(), ""
    if reply_id.startswith(DAY_PREFIX):
        reference, _, day = reply_id[len(DAY_PREFIX) :].partition(":")
        return "day", reference.strip().upper(), day.strip()
    return None


def delivery_days_question(order: Order, days: list, settings: StoreSettings) -> OutboundMessage:
    """A list of the days offered for the next attempt; a row's id names the order and the day."""
    rows = [
        {"id": f"{DAY_PREFIX}{order.reference}:{day.isoformat()}", "title": format_day(day, settings.locale)[:24]}
        for day in days
    ]
    body = f"Which day should we bring order {order.reference}?"
    payload = {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {"button": "Pick a day", "sections": [{"title": "Next days", "rows": rows}]},
        },
    }
    readable = "\n".join([body] + [f"• {row['title']}" for row in rows] + ["[Pick a day]"])
    return _checked(OutboundMessage("reply:delivery_days", payload, readable))


def new_address_question(order: Order) -> OutboundMessage:
    return text_message(
        "reply:new_address",
        f"Please type the full new delivery address for order {order.reference} in one message "
        "(house, street, area, city and PIN code).",
    )


def new_address_received(order: Order, address: str) -> OutboundMessage:
    """The typed address waits for the shop's approval: say so, and show it back as kept."""
    return text_message(
        "reply:new_address_received",
        f"Thank you! We have your new address for order {order.reference}:\n{address}\n\n"
        "The shop will check it and let you know here.",
    )


def delivery_choice_refused(text: str, status_url: str) -> OutboundMessage:
    """A stale or unusable tap or address: what happened, politely, and where to follow the order."""
    return text_message("reply:delivery_choice", f"{text} Follow your order here: {status_url}")


def delivery_exception_update(
    order: Order, settings: StoreSettings, *, status_url: str, in_window: bool, language: str
) -> OutboundMessage:
    """What the customer hears when their order is rescheduled, on its way back, or back at the shop."""
    status = OrderStatus(order.status)
    day = format_day(order.expected_delivery_date, settings.locale) if order.expected_delivery_date else ""
    if status is OrderStatus.RESCHEDULED:
        summary = "we will deliver again" + (f" on {day}" if day else "")
        summary += f" to {' '.join(strip_bidi_controls(order.delivery_address).split())}"
    elif status is OrderStatus.RETURNING:
        summary = "delivery is cancelled and the parcel is on its way back to us"
    else:
        summary = "the parcel is back with us"
        if order.amount_paid_minor > 0:
            held = format_money(order.amount_paid_minor, order.currency, settings.locale)
            summary += f"; we hold the {held} you paid and will contact you about returning it"
    if in_window:
        text = f"Update on your order {order.reference} at {settings.name}: {summary}.\nOrder status: {status_url}"
        return text_message(f"status:{status.value}", text)
    values = [order.reference, settings.name, summary, status_url]
    return _template_message(f"status:{status.value}", templates.ORDER_UPDATE, values, language)
