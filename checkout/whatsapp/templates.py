"""The message templates Chatout asks a shop to submit to Meta, with their exact wording.

Outside the 24-hour customer service window only approved templates may be sent. Meta sorts them in
categories with different rules, and Chatout keeps them apart: UTILITY templates answer the customer's own
order (confirmations, updates, the one reminder of an unfinished order); a MARKETING template invites a
purchase that has not happened (recovering an abandoned cart). Meta re-categorises a utility template that
promotes anything as marketing, and marketing is sent only to customers who agreed to it
(checkout/whatsapp/consent.py). The sandbox renders them from this same table, and README.md lists them for
submission; a template's name in Meta must match the key here.
"""

import re
from dataclasses import dataclass

from flask import current_app

UTILITY = "UTILITY"
MARKETING = "MARKETING"


@dataclass(frozen=True)
class MessageTemplate:
    name: str
    body: str  # with {{1}}, {{2}}… as Meta numbers its parameters
    quick_replies: tuple[str, ...] = ()
    category: str = UTILITY

    @property
    def parameter_count(self) -> int:
        return len(set(re.findall(r"\{\{(\d+)\}\}", self.body)))

    def render(self, parameters: list[str]) -> str:
        return re.sub(r"\{\{(\d+)\}\}", lambda m: parameters[int(m.group(1)) - 1], self.body)


ORDER_CONFIRMATION = MessageTemplate(
    name="order_confirmation",
    body=(
        "Hi {{1}}, thank you for your order {{2}} at {{3}}. Total: {{4}}. "
        "Please confirm it so we can prepare it, or cancel it if you changed your mind."
    ),
    quick_replies=("Confirm order", "Cancel order"),
)
ORDER_CONFIRMATION_REMINDER = MessageTemplate(
    name="order_confirmation_reminder",
    body=(
        "Hi {{1}}, your order {{2}} at {{3}} is still waiting for your confirmation. "
        "We hold the items until {{4}}. Open your order here: {{5}} or confirm or cancel below."
    ),
    quick_replies=("Confirm order", "Cancel order"),
)
ORDER_UPDATE = MessageTemplate(
    name="order_update",
    body="Update on your order {{1}} at {{2}}: {{3}}. Follow your order here: {{4}}",
)
# After a failed delivery, outside the 24-hour window: the same three choices as the in-chat buttons.
DELIVERY_FAILED = MessageTemplate(
    name="delivery_failed",
    body=(
        "Hi {{1}}, we could not deliver your order {{2}} from {{3}}: {{4}}. "
        "Tell us what to do next: deliver it again, deliver it to another address, or cancel and return it."
    ),
    quick_replies=("Deliver again", "Change address", "Cancel and return"),
)
NEW_ORDER_ALERT = MessageTemplate(
    name="new_order_alert",
    body="New order {{1}} from {{2}}, total {{3}}. Open the order desk to confirm it: {{4}}",
)

SENDING_PAUSED_ALERT = MessageTemplate(
    name="sending_paused_alert",
    body=(
        "WhatsApp sending for {{1}} paused at {{2}} because WhatsApp refused the account: {{3}}. "
        "No message was lost: they waited and go out once the account works again."
    ),
)

CHAT_WAITING_ALERT = MessageTemplate(
    name="chat_waiting_alert",
    body="{{1}} ({{2}}) is waiting for a person in the WhatsApp chat: {{3}}. Open the conversation: {{4}}",
)

# A payment request, or its one reminder, outside the 24-hour window. The link is a body parameter, not a URL
# button: Meta fixes a URL button's domain at approval, and the link's domain is the provider's (Stripe,
# Razorpay) or the shop's status page (UPI, Pix). Meta refuses a body that starts or ends with a parameter.
PAYMENT_REQUEST = MessageTemplate(
    name="payment_request",
    body=("Hi {{1}}, your order {{2}} at {{3}} is waiting for your payment of {{4}}. Pay here: {{5}} Thank you!"),
)

# The one follow-up after delivery (checkout/whatsapp/follow_ups.py) outside the 24-hour window. It asks about
# the customer's own order and promotes nothing: utility. The typed answer ("5") is read as the rating.
DELIVERY_FOLLOW_UP = MessageTemplate(
    name="delivery_follow_up",
    body=(
        "Hi {{1}}, your order {{2}} from {{3}} was delivered a few days ago. How was it? "
        "Reply with a rating from 1 (poor) to 5 (great), and tell us anything we could do better. Thank you!"
    ),
)

CART_REMINDER = MessageTemplate(
    name="cart_reminder",
    body=(
        "Hi {{1}}, you left {{2}} in your cart at {{3}}. Your cart is saved here: {{4}} "
        "Reply STOP to get no more reminders."
    ),
    category=MARKETING,
)

TEMPLATES = {
    t.name: t
    for t in (
        ORDER_CONFIRMATION,
        ORDER_CONFIRMATION_REMINDER,
        ORDER_UPDATE,
        DELIVERY_FAILED,
        NEW_ORDER_ALERT,
        SENDING_PAUSED_ALERT,
        CHAT_WAITING_ALERT,
        PAYMENT_REQUEST,
        DELIVERY_FOLLOW_UP,
        CART_REMINDER,
    )
}


def is_marketing(payload: dict) -> bool:
    """Is this outbound payload one of our marketing templates (sent only with the customer's consent)?"""
    if payload.get("type") != "template":
        return False
    template = TEMPLATES.get((payload.get("template") or {}).get("name", ""))
    return template is not None and template.category == MARKETING


def template_language(customer_language: str = "") -> str:
    """The language to send a template in: the customer's, when the shop's templates were approved in it
    (WHATSAPP_TEMPLATE_LANGUAGES), else the shop's main one (WHATSAPP_TEMPLATE_LANGUAGE).

    `customer_language` is a plain code as the chat learns it ("pt", "sw", "hi"); an approved "pt_BR" serves "pt".
    """
    fallback = current_app.config["WHATSAPP_TEMPLATE_LANGUAGE"]
    wanted = customer_language.strip().lower().replace("-", "_")
    if not wanted:
        return fallback
    approved = (fallback, *current_app.config.get("WHATSAPP_TEMPLATE_LANGUAGES", ()))
    for code in approved:
        if code.lower() == wanted:
            return code
    for code in approved:
        if code.lower().split("_")[0] == wanted.split("_")[0]:
            return code
    return fallback
